/**
 * One instance's peer wiring around the pure peer guard (src/core/peer/guard.ts): it feeds the
 * guard what happens (hellos from the peer link, accepted VRRP adverts, witness changes, the
 * periodic check, the moment before a Master_Down expiry) with the monotonic time, and carries
 * out the effects the guard returns, in order: epochs observed by the runner, inputs fed to it,
 * config (mis)match and isolation notices logged and published.
 *
 * Owns the witness monitor and the isolation timer of the instance (started with the peer link,
 * stopped by `stop`), and the watch on VRRP senders whose settings differ (`vrrpMismatch`, fed by
 * the advert intake). Reports the backups' priority learned from hellos (core/fence/
 * backup-priority.ts) to `onBackupPriority` when it changes, for the self-fence. Tells the peer
 * link when this MASTER sent a periodic advert, so its hello goes with it. Decides nothing
 * itself.
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import type { InstanceStatus } from '../core/control/types.js';
import type { Input, VrrpState } from '../core/fsm/types.js';
import { configFingerprint } from '../core/peer/fingerprint.js';
import {
  beforeMasterDown, evaluateIsolation, guardStatus, newPeerGuard, onHello, onVrrpHeard,
  type GuardEffect, type GuardNow, type PeerGuard,
} from '../core/peer/guard.js';
import type { Hello } from '../core/peer/hello.js';
import { PEER_TABLE_MAX_NODES, peersHeardSince } from '../core/peer/presence.js';
import { BACKUP_REPORT_FRESH_INTERVALS, learnedBackupPriority, newKnownPeers } from '../core/fence/backup-priority.js';
import { csToMs } from '../core/fsm/timers.js';
import type { EventBus } from './event-bus.js';
import { MismatchWatch } from './mismatch-watch.js';
import type { PeerLink } from './peer-link.js';

/** What the peer wiring needs of the instance's runner. */
export interface PeerRunner {
  readonly vrrpState: VrrpState;
  readonly effectivePriority: number;
  readonly epoch: number;
  input(input: Input): void;
  observeEpoch(epoch: number): void;
}

/** What the peer wiring needs of a witness monitor (src/adapters/witness.ts). */
export interface WitnessPort {
  reachable(): boolean | undefined;
  status(): readonly { readonly target: string; readonly ok: boolean | undefined; readonly detail: string }[];
  on(event: 'change', listener: (reachable: boolean) => void): unknown;
  start(): void;
  stop(): void;
}

export interface InstancePeersDeps {
  readonly log: Logger;
  readonly events: EventBus;
  readonly clock: () => number;
  readonly runner: PeerRunner;
  /** The instance's witness monitor; undefined = no witness configured (isolation rule off). */
  readonly witness: WitnessPort | undefined;
  /**
   * The highest priority the peers report in BACKUP state, or undefined (unknown: a peer fell
   * silent, none is BACKUP): called when it changes, checked on each hello and each periodic check.
   */
  readonly onBackupPriority?: (priority: number | undefined) => void;
}

/**
 * The config fingerprint sent in hellos: what two peers of one instance must agree on. Only
 * hellos carry it, so an instance without paths has none ('': node:crypto is then never loaded).
 */
function fingerprintOf(inst: InstanceConfig): string {
  if (inst.paths.length === 0) return '';
  return configFingerprint({ vrid: inst.vrid, version: inst.version, vips: inst.vips, advertIntervalCs: inst.advertIntervalCs, auth: inst.auth });
}

export class InstancePeers {
  readonly guard: PeerGuard;
  /** VRRP senders whose adverts we drop because their settings differ (address list, ...). */
  readonly vrrpMismatch = new MismatchWatch();
  private isolationTimer: NodeJS.Timeout | undefined;
  private config: InstanceConfig;
  /** Nodes ever heard, and the backup priority last reported to onBackupPriority. */
  private readonly knownPeers = newKnownPeers();
  private backupPriority: number | undefined;
  /** The peer link once `start` joined it; undefined before and after `stop`. */
  private link: PeerLink | undefined;

  constructor(inst: InstanceConfig, private readonly deps: InstancePeersDeps) {
    this.config = inst;
    this.guard = newPeerGuard({ advertIntervalCs: inst.advertIntervalCs, fingerprint: fingerprintOf(inst), witnessConfigured: deps.witness !== undefined });
  }

  /** A reload changed the instance in place: peers compare VIP lists through the fingerprint. */
  update(inst: InstanceConfig): void {
    this.config = inst;
    this.guard.fingerprint = fingerprintOf(inst);
  }

  private now(): GuardNow {
    return { nowMs: this.deps.clock(), witnessReachable: this.deps.witness?.reachable() };
  }

  /**
   * Hellos on the instance's paths (through `link`), the witness, and the periodic isolation
   * check. `vrrpAddress`: our VRRP source address, reported in hellos.
   */
  async start(link: PeerLink, vrrpAddress: string): Promise<void> {
    const r = this.deps.runner;
    await link.add(this.config, () => ({
      state: r.vrrpState, priority: r.effectivePriority, vrrpAddress, epoch: r.epoch, fingerprint: this.guard.fingerprint,
    }), (hello, path) => this.onHello(hello, path, vrrpAddress));
    this.link = link;
    this.deps.witness?.on('change', () => this.evaluate());
    this.deps.witness?.start();
    this.isolationTimer = setInterval(() => this.evaluate(), this.guard.timing.checkEveryMs);
  }

  /** Stops the timer and the witness, and leaves the peer link. Idempotent. */
  stop(link: PeerLink | undefined): void {
    if (this.isolationTimer !== undefined) clearInterval(this.isolationTimer);
    this.isolationTimer = undefined;
    this.deps.witness?.stop();
    link?.remove(this.config);
    this.link = undefined;
    // Nothing is learned any more: whoever keeps the last report goes back to unknown.
    if (this.backupPriority !== undefined) this.deps.onBackupPriority?.(undefined);
    this.backupPriority = undefined;
  }

  /**
   * A hello from a haagent peer (decoded, authenticated, from a configured path peer): the guard
   * decides (see onHello in guard.ts). Returns the drop reason for the peer link to count, or
   * undefined.
   */
  onHello(hello: Hello, path: string, ourAddress: string): string | undefined {
    const v = onHello(this.guard, hello, path, { ...this.now(), ownEpoch: this.deps.runner.epoch, ourVrrpAddress: ourAddress });
    if (!v.accepted) return v.reason;
    // A peer is alive: the cold-start wait is over (takeover.ts); the core ignores it after the first.
    this.deps.runner.input({ type: 'peer-heard' });
    this.apply(v.effects);
    this.learnBackupPriority();
    return undefined;
  }

  /**
   * This MASTER's periodic advert was just sent: its hello goes right after it (peer-link.ts),
   * so none reaches a backup later than the advert the self-fence was refreshed by. No-op
   * before `start` and after `stop`. Never throws.
   */
  masterAdvertSent(): void {
    this.link?.masterAdvertSent(this.config);
  }

  /** An accepted VRRP advert was heard (called before the advert itself is fed to the runner). */
  heard(): void {
    this.apply(onVrrpHeard(this.guard, this.now()));
  }

  /** The periodic and witness-change evaluation of the isolation rule. */
  evaluate(): void {
    this.apply(evaluateIsolation(this.guard, this.now()));
    this.learnBackupPriority();
  }

  /** Recomputes the backups' priority from the peer table; reports it only when it changed. */
  private learnBackupPriority(): void {
    if (this.deps.onBackupPriority === undefined) return;
    const freshMs = BACKUP_REPORT_FRESH_INTERVALS * csToMs(this.config.advertIntervalCs);
    const p = learnedBackupPriority(this.knownPeers, peersHeardSince(this.guard.table, -Infinity), this.deps.clock(), freshMs, PEER_TABLE_MAX_NODES);
    if (p === this.backupPriority) return;
    this.backupPriority = p;
    this.deps.onBackupPriority(p);
  }

  /** The stricter check right before this backup acts on its Master_Down expiry. */
  beforeMasterDown(): void {
    this.apply(beforeMasterDown(this.guard, this.now()));
  }

  /** The peer part of the instance's status: VRRP mismatches, fingerprint, isolation, peers, witnesses. */
  status(): Pick<InstanceStatus, 'fingerprint' | 'peers' | 'isolated' | 'witness' | 'vrrpMismatches'> {
    const now = this.deps.clock();
    const guard = guardStatus(this.guard, now);
    const mismatches = this.vrrpMismatch.current(now);
    return {
      ...(mismatches.length === 0 ? {} : {
        vrrpMismatches: mismatches.map((m) => ({
          from: m.from, reason: m.reason, theirs: m.theirs, dropped: m.count, lastSeenAgoMs: Math.round(now - m.lastMs),
        })),
      }),
      ...guard,
      witness: this.deps.witness?.status().map((w) => ({ target: w.target, ok: w.ok ?? null, detail: w.detail })) ?? [],
    };
  }

  private apply(effects: readonly GuardEffect[]): void {
    const name = this.config.name;
    for (const e of effects) {
      switch (e.type) {
        case 'observe-epoch':
          this.deps.runner.observeEpoch(e.epoch);
          break;
        case 'input':
          this.deps.runner.input(e.input);
          break;
        case 'config-mismatch':
          this.deps.log.warn({ instance: name, peer: e.peer, ours: e.ours, theirs: e.theirs },
            'config mismatch with peer (VRID, VIPs, interval, version or auth differ): fix it, or both may become master');
          break;
        case 'config-match':
          this.deps.log.info({ instance: name, peer: e.peer }, 'config now matches peer');
          break;
        case 'isolation':
          this.deps.log[e.active ? 'warn' : 'info']({ instance: name }, e.detail);
          this.deps.events.publish({ type: 'warning', instance: name, kind: 'isolated', active: e.active, detail: e.detail });
          break;
      }
    }
  }
}
