/**
 * The ports of one instance runner: everything it drives outside the pure core (adverts, VIPs,
 * announcements, hooks, events, epochs, the load balancer's ordering callbacks). The agent
 * supplies the real ones; the unit tests supply fakes.
 */
import type { Logger } from 'pino';
import type { HookName } from '../core/config/types.js';
import type { CheckSummary, GuardRunStatus, HookRunStatus } from '../core/control/types.js';
import type { AdvertRepeat, MonotonicClock, TrainReport } from '../adapters/ports.js';
import type { EpochPort } from '../adapters/epoch-store.js';
import type { EventBus } from './event-bus.js';
import type { GuardAttempt, TakeoverFacts } from './guard-runner.js';
import type { EtcdEpochs } from './etcd-epochs.js';
import type { EtcdKv, LeasePort } from './etcd-ports.js';
import type { DeadlineTimers } from './deadline-timers.js';
import type { VipRenewals } from './vip-renewals.js';

/**
 * One instance's advert train (src/adapters/advert-train.ts). Calls never throw.
 * - `schedule`: the advert at `priority` repeated as `plan` says, replacing the running train;
 *   the replaced train's report, or undefined when this instance's adverts cannot be repeated
 *   now (signed, to several peers, hellos on paths ride on each advert, an IPv6 socket, an
 *   addon without trains): the runner then sends every advert itself.
 * - `report`: what the train did since the last report; `stop` ends it first (nothing more is
 *   sent once this returns).
 * - `close`: stops it for good and frees its id.
 */
export interface AdvertTrainPort {
  schedule(priority: number, plan: AdvertRepeat): TrainReport | undefined;
  report(stop: boolean): TrainReport;
  close(): void;
}

/** Ordered transition hooks (src/daemon/hook-runner.ts). */
export interface HookPort {
  run(hook: HookName, ctx: { from: string; to: string; priority: number; epoch?: number }): Promise<{ readonly ok: boolean; readonly exitCode: number | null; readonly timedOut: boolean } | undefined>;
  results(): readonly HookRunStatus[];
  close(): void;
}

/** Takeover guards (src/daemon/guard-runner.ts): all run at once; never rejects. */
export interface GuardPort {
  run(facts: TakeoverFacts): Promise<GuardAttempt>;
  results(): readonly GuardRunStatus[];
  close(): void;
}

export interface VipPort {
  /** Adds or refreshes (replace) a VIP; lifetimes in whole seconds, absent = forever. */
  addVip(ifname: string, cidr: string, opts?: { label?: string; validLftSec?: number; preferredLftSec?: number }): Promise<void>;
  removeVip(ifname: string, cidr: string): Promise<void>;
  /** Optional: the lease renewal of these VIPs as one datagram of requests, for an advert train. */
  renewalDatagram?(ifname: string, entries: readonly { readonly cidr: string; readonly opts?: { label?: string; validLftSec?: number; preferredLftSec?: number } }[]): Promise<Uint8Array>;
  /** Optional, with renewalDatagram: changes when interface indexes may have changed (NaN: unknown; absent: never). */
  linkGeneration?(): number;
}

export interface InstanceDeps {
  readonly clock: MonotonicClock;
  readonly log: Logger;
  /** Encodes and sends one advert with this priority (to the multicast group or every peer). */
  readonly sendAdvert: (priority: number) => Promise<void>;
  /**
   * Optional: this instance's advert train, which sends a MASTER's periodic advert between the
   * ones the runner sends itself (src/core/fsm/advert-wake.ts); absent = every advert is sent
   * by the runner.
   */
  readonly advertTrain?: AdvertTrainPort;
  readonly vips: VipPort;
  /**
   * The agent's VIP lease renewal batcher, shared by its instances (vip-renewals.ts); absent =
   * each VIP renewed with its own `vips.addVip` (unit tests' fakes).
   */
  readonly renewals?: Pick<VipRenewals, 'submit' | 'withdraw'>;
  /** The agent's protocol timers, shared by its instances (deadline-timers.ts); absent = the instance's own. */
  readonly deadlines?: DeadlineTimers;
  /** Gratuitous ARP burst for every VIP on the external NIC. */
  readonly announce: () => Promise<void>;
  /** Stops a running burst and the periodic refresh (the VIPs are being released). */
  readonly quiet: () => void;
  readonly hooks: HookPort;
  readonly events: EventBus;
  /** Per-check summaries for status (from the health monitor). */
  readonly checks: () => readonly CheckSummary[];
  /** Fencing epochs: bumped (and persisted) each time this node becomes master. */
  readonly epochs: EpochPort;
  /** Called just before a Master_Down_Timer expiry is fed to the core (it may add inputs). */
  readonly beforeMasterDown?: () => void;
  /**
   * Called right after a MASTER sent its periodic advert (its Adver_Timer fired; not the extra
   * adverts answering a peer), in the same event-loop turn; elected on etcd, where no VRRP
   * packet goes out, at that same moment. The peer link sends the master's hello there. Should
   * not throw (a throw is logged).
   */
  readonly afterMasterAdvert?: () => void;
  /**
   * Work to finish before this node, becoming MASTER, adds its VIPs: the load balancer's rules,
   * so the first client that follows the gratuitous ARP is balanced, not refused. Started with
   * the before-master hook, awaited before the VIPs; it must settle by itself within a bound
   * (the caller's) and never reject.
   */
  readonly beforeVips?: () => Promise<void>;
  /**
   * Called once the VIPs are removed (leaving MASTER, after a make-before-break release, on
   * shutdown): the load balancer's rules go only then, so no client reaching the VIP here is
   * refused while this node still holds it.
   */
  readonly afterVipsRemoved?: () => void;
  /**
   * Addresses that move with the VIPs but live elsewhere (conntrack-sync's floating SNAT
   * address): added just before the VIPs, removed with them, on the same queue.
   */
  readonly floating?: readonly { readonly ifname: string; readonly cidr: string }[];
  /** The instance's takeover guards; absent = none configured. */
  readonly guards?: GuardPort;
  /**
   * Election on etcd (`election: vrrp+etcd | etcd`): the agent's etcd client and lease, where
   * the keys live, how often they are read, this node's id, and the epochs (`epochs` above must
   * be this same store). Absent = plain VRRP.
   */
  readonly etcd?: {
    readonly kv: EtcdKv;
    readonly lease: LeasePort;
    readonly prefix: string;
    readonly pollMs: number;
    readonly node: string;
    readonly epochs: EtcdEpochs;
  };
}
