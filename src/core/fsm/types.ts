/**
 * Types of the pure VRRP state machine (RFC 9568 §6, RFC 3768 §6).
 *
 * Names: RFC 9568 calls the master the Active Router (Active_Adver_Interval,
 * Active_Down_Interval, Active_Down_Timer); the code keeps keepalived's MASTER and RFC 5798's
 * Master_* names, which mean exactly the same.
 *
 *   step(state, input, nowMs) -> { state, effects[] }
 *
 * The core never touches sockets, timers or the clock. Timers are absolute deadlines in
 * milliseconds on the caller's monotonic clock; the shell arms one real timer per TimerKind and
 * feeds `{ type: 'timer' }` back when it fires. A timer input whose deadline is not the one the
 * state currently holds (stale fire) is ignored by the core.
 */
import type { Vip } from '../net/address.js';

export type VrrpVersion = 2 | 3;
export type AddressFamily = 4 | 6;

/** FAULT: an interface or health problem keeps the instance from serving. STOPPED: after shutdown. */
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOPPED';

export type TimerKind = 'master-down' | 'advert' | 'preempt-delay';

export type TransitionHook = 'master' | 'backup' | 'fault' | 'stop';

/** Why a takeover this node wants is held back (status `takeover.reason`). */
export type TakeoverBlockReason = 'guard' | 'cold-start' | 'promotion-backoff' | 'demote-hook' | 'etcd';

/**
 * The data-consistency rules of a takeover (takeover.ts), all off when absent: then a claim
 * becomes MASTER at once, as RFC 9568 says. Only a failed promotion (`promotion-failed`) acts
 * without them, with the default backoff.
 */
export interface TakeoverSettings {
  /** Takeover guards are configured: every claim runs them first (`run-guards`) and waits. */
  readonly guarded: boolean;
  /** While a failed guard holds the claim back, it is retried this often. */
  readonly guardRetryMs: number;
  /** cold-start wait-for-peer: no claim before a peer was heard or this long after the first start; null = no wait. */
  readonly coldStartTimeoutMs: number | null;
  /** After a failed before-master: no claim for this long. */
  readonly promotionBackoffMs: number;
  /** A demote hook is configured: after leaving MASTER, no claim until `demote-hook-done`. */
  readonly holdWhileDemoting: boolean;
  /**
   * Election on etcd (`vrrp+etcd` or `etcd`): every claim must win the instance's leader key
   * (the shell tries it after the guards, in the same `run-guards` attempt, and answers
   * `reason: 'etcd'` when it could not); a lost key ends MASTER (`lock-lost`). `retryMs`: how
   * often a claim the key holds back is tried again. Absent = plain VRRP.
   */
  readonly etcd?: { readonly retryMs: number };
}

/**
 * Where this node's claim to MASTER stands (takeover.ts). `idle`: no claim pending (or none
 * needed). `guarding`: the guards of `attempt` run; the node stays BACKUP. `blocked`: the claim
 * waits for `blocked.reason` to clear (a retry at `retryAtMs`, a `demote-hook-done`, a peer).
 */
export interface TakeoverState {
  readonly phase: 'idle' | 'guarding' | 'blocked';
  /** Counts guard runs; a `guards-result` of another attempt is stale and ignored. */
  readonly attempt: number;
  /** Why this node wants MASTER (the transition reason once it gets there). */
  readonly claimReason: string;
  /** Set while the claim is held back, kept while the guards are retried; null otherwise. */
  readonly blocked: { readonly reason: TakeoverBlockReason; readonly detail: string; readonly sinceMs: number } | null;
  /** Deadline of the retry timer (`guard-retry`), null = not armed. */
  readonly retryAtMs: number | null;
  /** A peer (VRRP advert or hello) was heard since boot. */
  readonly peerHeard: boolean;
  /** End of the cold-start wait (set at the first start), null = no wait. */
  readonly coldStartUntilMs: number | null;
  /** End of the backoff after a failed promotion, null = none. */
  readonly backoffUntilMs: number | null;
  /** Left MASTER and the demote hook has not finished yet (only with holdWhileDemoting). */
  readonly demoting: boolean;
}

/** Settings of one virtual router instance, already validated by config. Frozen. */
export interface InstanceSettings {
  readonly name: string;
  /** VRID, 1..255. */
  readonly vrid: number;
  readonly version: VrrpVersion;
  readonly family: AddressFamily;
  /** Configured priority, 1..255 (255 = address owner). */
  readonly priority: number;
  /** Advertisement_Interval in centiseconds (v2: whole seconds * 100). */
  readonly advertIntervalCs: number;
  /**
   * v3: upper bound (cs) on a Master_Adver_Interval adopted from an advertisement; larger
   * advertised intervals are clamped to it (adopted-interval.ts). Absent = the default, 3 x
   * advertIntervalCs but at least 100 and at most 4095; never below advertIntervalCs. Unused by v2.
   */
  readonly maxAdvertIntervalCs?: number;
  /** Preempt_Mode, RFC 9568 §6.1. */
  readonly preempt: boolean;
  /** A backup that would preempt waits this long first (0 = no delay). */
  readonly preemptDelayMs: number;
  /**
   * This node's primary address on the heartbeat interface (IPv4 dotted quad or IPv6 text).
   * Used for the equal-priority tie-break: the higher primary address wins.
   */
  readonly primaryAddress: string;
  /** VIPs in configured order (sent in this exact order: keepalived interop). */
  readonly vips: readonly Vip[];
  /** Takeover guards, cold start, promotion backoff, ordered demotion; absent = all off. */
  readonly takeover?: TakeoverSettings;
  /**
   * An address owner (effective priority 255) that is MASTER ignores every advertisement it
   * receives, as RFC 9568 §7.1 reads as published (keepalived's `owner_ignore_adverts`).
   * Absent/false: they are processed like any other (RFC 9568 erratum 8298, keepalived's
   * default), so a second owner with a higher address still wins and there is one master.
   */
  readonly ownerIgnoresAdverts?: boolean;
}

export interface PeerMaster {
  readonly address: string;
  readonly priority: number;
  /** When the last advertisement from it was accepted (nowMs). */
  readonly lastSeenMs: number;
}

export interface Transition {
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: string;
  readonly atMs: number;
}

export interface InstanceState {
  readonly settings: InstanceSettings;
  readonly state: VrrpState;
  /** Priority after health adjustments, 1..254 (or 255 when owner and healthy). */
  readonly effectivePriority: number;
  /** Master_Adver_Interval (cs): a v3 backup adopts the master's advertised interval. */
  readonly masterAdverIntervalCs: number;
  /** Absolute deadlines (ms) of armed timers; null = not armed. */
  readonly timers: Readonly<Record<TimerKind, number | null>>;
  /** The master we currently hear (null when we are master or hear nobody). */
  readonly master: PeerMaster | null;
  /** Active fault sources (e.g. 'interface:ext0', 'check:web'); non-empty = FAULT. */
  readonly faults: readonly string[];
  readonly enteredStateAtMs: number;
  /** Operator maintenance: never become MASTER while set (a master hands over first). */
  readonly maintenance: boolean;
  /** After a switchover: behave as non-preempt until this router is MASTER again. */
  readonly yielding: boolean;
  /**
   * A planned handover is under way: BACKUP, but the VIPs are still held until the new master is
   * heard (make before break), so clients see no gap while the peer takes over.
   */
  readonly releasing: boolean;
  /**
   * While releasing: when the new master's first advertisement was heard (null = not yet). The
   * VIPs go with its second one, one advert interval later, by when the new master has added
   * them and announced them with gratuitous ARP (its first advert leaves before that).
   */
  readonly releaseHeardAtMs: number | null;
  /** The last advert dropped because the sender's settings differ from ours (dropped.ts). */
  readonly lastDrop: { readonly from: string; readonly reason: string; readonly atMs: number } | null;
  /** The claim to MASTER and what holds it back (takeover.ts). */
  readonly takeover: TakeoverState;
}

/** An advertisement that already passed the codec's checks (TTL, checksum, version, VRID, auth). */
export interface AdvertInput {
  readonly type: 'advert';
  /** Source IP address of the sender. */
  readonly from: string;
  readonly priority: number;
  /** Max Advertise Interval from the packet, centiseconds (v2: seconds * 100). */
  readonly maxAdvertIntervalCs: number;
}

export type Input =
  /**
   * Start serving. `coldStartFromMs`: when the cold-start wait began (the agent's boot, so an
   * instance restarted by a reload does not wait again from scratch); absent = now.
   * `backoffUntilMs`: a promotion backoff still running from the instance's earlier runner
   * (a reload restart must not cut it short); absent = none.
   */
  | { readonly type: 'start'; readonly coldStartFromMs?: number; readonly backoffUntilMs?: number }
  | AdvertInput
  | { readonly type: 'timer'; readonly timer: TimerKind }
  /** Health verdict: new effective priority (already clamped by the health layer). */
  | { readonly type: 'priority'; readonly effectivePriority: number }
  /** A fault source became active or cleared (interface down/up, weight-0 check failing). */
  | { readonly type: 'fault'; readonly source: string; readonly active: boolean }
  | { readonly type: 'shutdown' }
  /** Operator maintenance on/off (`haagent maintenance`). */
  | { readonly type: 'maintenance'; readonly on: boolean }
  /** Operator switchover (`haagent switchover`): a master hands over to the best backup. */
  | { readonly type: 'switchover' }
  /** An advert from `from` was dropped because its settings differ from ours (dropped.ts). */
  | { readonly type: 'advert-dropped'; readonly from: string; readonly reason: string }
  /**
   * The takeover guards of `attempt` ended: all passed (ok), or `detail` says which failed.
   * `reason` 'etcd': the guards passed but the leader key could not be won (default 'guard').
   */
  | { readonly type: 'guards-result'; readonly attempt: number; readonly ok: boolean; readonly detail: string; readonly reason?: 'guard' | 'etcd' }
  /** The retry timer of a held-back claim fired. */
  | { readonly type: 'guard-retry' }
  /** before-master failed or timed out: the VIPs were not added; give the claim up. */
  | { readonly type: 'promotion-failed'; readonly detail: string }
  /** A peer was heard (an accepted VRRP advert or a hello on any path). */
  | { readonly type: 'peer-heard' }
  /** The demote hook (backup/fault/stop) of the last departure from MASTER finished or timed out. */
  | { readonly type: 'demote-hook-done' }
  /** Operator `promote --force`: take over now despite guards, cold start and backoff (see takeover.ts). */
  | { readonly type: 'promote-force' }
  /** Election on etcd: the leader key is no longer ours (lease fenced or lost, key gone or taken, resigned). */
  | { readonly type: 'lock-lost'; readonly detail: string }
  /** Election on etcd: the leader key is free and this node should try for it now (a BACKUP with no claim pending). */
  | { readonly type: 'claim'; readonly reason: string };

export type Effect =
  | { readonly type: 'send-advert'; readonly priority: number }
  | { readonly type: 'arm-timer'; readonly timer: TimerKind; readonly deadlineMs: number }
  | { readonly type: 'cancel-timer'; readonly timer: TimerKind }
  | { readonly type: 'add-vips' }
  | { readonly type: 'remove-vips' }
  /** Gratuitous ARP / unsolicited NA for every VIP. */
  | { readonly type: 'announce'; readonly reason: string }
  | { readonly type: 'state-changed'; readonly from: VrrpState; readonly to: VrrpState; readonly reason: string }
  | { readonly type: 'run-hook'; readonly hook: TransitionHook; readonly from: VrrpState; readonly to: VrrpState }
  /** Run the takeover guards; answer with a `guards-result` of this attempt. */
  | { readonly type: 'run-guards'; readonly attempt: number }
  | { readonly type: 'arm-guard-retry'; readonly deadlineMs: number }
  | { readonly type: 'cancel-guard-retry' }
  /** A claim became held back (active) or no longer is (active false, with the last reason). */
  | { readonly type: 'takeover-blocked'; readonly reason: TakeoverBlockReason; readonly detail: string; readonly active: boolean };

export interface StepResult {
  readonly state: InstanceState;
  readonly effects: readonly Effect[];
}
