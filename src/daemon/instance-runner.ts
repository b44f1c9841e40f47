/**
 * The imperative shell around one VRRP instance: feeds inputs to the pure core with the current
 * monotonic time and carries out the effects it returns, in order. The parts, one job each:
 * the effects (instance-effects.ts) on the ordered address queue (address-queue.ts), the timers
 * (instance-timers.ts), the VIP lease (vip-lease.ts), the fencing epoch (epoch-guard.ts) and
 * status (instance-status.ts); the ports it drives are in instance-ports.ts.
 *
 * Contract:
 * - `step` is only ever called from here, one input at a time (Node's single thread).
 * - Address changes and announcements run on a per-instance queue, in effect order, so a
 *   remove never overtakes an add; adverts and timers never wait for that queue.
 * - One real timer per TimerKind; the core ignores stale fires, so re-arming is always safe.
 * - Failures of effects are logged and counted; they never throw into the caller. Nothing on
 *   the takeover path throws out of the event loop: a promise it starts (hook, load balancer
 *   rules) has its rejection handled at once, and an unexpected throw of the core or of an
 *   effect is logged and puts the instance in FAULT (source `internal`) instead of killing it.
 * - Fencing epoch at takeover (see the epoch store's policy): a failed write does not stop the
 *   takeover; the epoch is held in memory, the failure is logged at error, shown in status
 *   (`epochPersisted: false`, `epochStateError`) and published ('epoch-state'), and the store
 *   retries. An epoch at its bound (MAX_EPOCH) is the one refusal: the instance enters FAULT
 *   (source `epoch-limit`) for the rest of the process's life and adds no VIP.
 */
import { createInstance } from '../core/fsm/create.js';
import { step } from '../core/fsm/step.js';
import { masterDownIntervalMs } from '../core/fsm/timers.js';
import type { Input, InstanceSettings, InstanceState, StepResult, TakeoverSettings, VrrpState } from '../core/fsm/types.js';
import { DEFAULT_GUARD_RETRY_MS, DEFAULT_PROMOTION_BACKOFF_MS } from '../core/fsm/takeover.js';
import { vipCidrs } from '../core/net/address.js';
import type { InstanceConfig } from '../core/config/types.js';
import type { InstanceStatus } from '../core/control/types.js';
import { AddressQueue } from './address-queue.js';
import { EpochGuard } from './epoch-guard.js';
import type { UnstampedEvent } from './event-bus.js';
import { InstanceEffects, type StepFacts } from './instance-effects.js';
import type { InstanceDeps } from './instance-ports.js';
import { InstanceRecord, instanceStatus } from './instance-status.js';
import { InstanceTakeover } from './instance-takeover.js';
import { InstanceTimers } from './instance-timers.js';
import { VipLease, type VipOpts } from './vip-lease.js';
import { EtcdElection } from './etcd-election.js';

export type { HookPort, InstanceDeps, VipPort } from './instance-ports.js';

/**
 * The core's takeover settings from the config: guards, cold start and backoff as configured
 * (defaults: none, none, 10 s); a demote hook configured holds a new takeover until it ended;
 * an election on etcd makes every claim win the leader key (retried every `etcdRetryMs`).
 */
function takeoverSettings(config: InstanceConfig, etcdRetryMs: number | undefined): TakeoverSettings {
  const t = config.takeover;
  return Object.freeze({
    ...(etcdRetryMs === undefined ? {} : { etcd: { retryMs: etcdRetryMs } }),
    guarded: (t?.guards.length ?? 0) > 0,
    guardRetryMs: t?.guardRetryMs ?? DEFAULT_GUARD_RETRY_MS,
    coldStartTimeoutMs: t?.coldStart.waitForPeer === true ? t.coldStart.timeoutMs : null,
    promotionBackoffMs: t?.promotionBackoffMs ?? DEFAULT_PROMOTION_BACKOFF_MS,
    holdWhileDemoting: config.hooks.backup !== undefined || config.hooks.fault !== undefined || config.hooks.stop !== undefined,
  });
}

/**
 * Whether a step sent a MASTER's periodic advert: its Adver_Timer fired in MASTER, it stayed
 * MASTER, and an advert with its priority went out (a stale fire sends none).
 */
function isPeriodicAdvert(input: Input, from: VrrpState, result: StepResult): boolean {
  return input.type === 'timer' && input.timer === 'advert' && from === 'MASTER' && result.state.state === 'MASTER'
    && result.effects.some((e) => e.type === 'send-advert' && e.priority > 0);
}

export class InstanceRunner {
  private state: InstanceState;
  private cfg: InstanceConfig;
  private readonly queue: AddressQueue;
  private readonly timers: InstanceTimers;
  private readonly lease: VipLease;
  private readonly epochs: EpochGuard;
  private readonly record = new InstanceRecord();
  private readonly effects: InstanceEffects;
  private readonly takeover: InstanceTakeover;
  /** Fault sources this runner raised itself (the epoch bound, an internal error); they stay. */
  private readonly ownFaults = new Set<string>();
  /** The election on etcd; undefined for plain VRRP. */
  private readonly election: EtcdElection | undefined;

  constructor(config: InstanceConfig, readonly primaryAddress: string, private readonly deps: InstanceDeps) {
    this.cfg = config;
    const settings: InstanceSettings = Object.freeze({
      name: config.name, vrid: config.vrid, version: config.version, family: config.family,
      priority: config.priority, advertIntervalCs: config.advertIntervalCs, maxAdvertIntervalCs: config.maxAdvertIntervalCs, preempt: config.preempt,
      preemptDelayMs: config.preemptDelayMs, primaryAddress, vips: config.vips, takeover: takeoverSettings(config, deps.etcd?.pollMs),
      ownerIgnoresAdverts: config.ownerIgnoreAdverts,
    });
    this.state = createInstance(settings, deps.clock());
    const publish = (ev: UnstampedEvent): void => this.publish(ev);
    this.queue = new AddressQueue(deps.log);
    this.timers = new InstanceTimers({
      clock: deps.clock, log: deps.log, beforeMasterDown: () => deps.beforeMasterDown?.(),
      ...(deps.deadlines === undefined ? {} : { deadlines: deps.deadlines }),
      isCurrent: (kind, deadlineMs) => this.state.timers[kind] === deadlineMs,
      fire: (kind) => this.input({ type: 'timer', timer: kind }),
    });
    this.lease = new VipLease({
      clock: deps.clock, log: deps.log, vips: deps.vips, config: () => this.cfg,
      ...(deps.renewals === undefined ? {} : { renewals: deps.renewals }),
      // A master that cannot renew can no longer promise its VIPs go away if it dies: a short fault.
      onRenewFailed: () => {
        if (this.state.state !== 'MASTER') return;
        this.input({ type: 'fault', source: 'vip-lease', active: true });
        this.input({ type: 'fault', source: 'vip-lease', active: false });
      },
    });
    // A corrupt file found (or a write failed) while the store was opened is said loudly now.
    this.epochs = new EpochGuard({
      epochs: deps.epochs, log: deps.log, instance: () => this.cfg.name, publish,
      raiseFault: (source) => this.raiseOwnFault(source),
    });
    const input = (i: Input): void => this.input(i);
    const etcd = deps.etcd;
    this.election = etcd === undefined ? undefined : new EtcdElection({
      kv: etcd.kv, lease: etcd.lease, prefix: etcd.prefix, pollMs: etcd.pollMs, node: etcd.node, epochs: etcd.epochs,
      clock: deps.clock, log: deps.log, config: () => this.cfg, state: () => this.state, input,
    });
    const election = this.election;
    this.takeover = new InstanceTakeover({
      clock: deps.clock, log: deps.log, guards: deps.guards, config: () => this.cfg, state: () => this.state,
      epoch: () => deps.epochs.current(), input, publish,
      ...(election === undefined ? {} : { lock: () => election.acquire(), lockBlocked: () => election.blockedNow() }),
    });
    // The key is freed only once the VIPs are gone (after the balancer's rules went).
    const effectDeps: InstanceDeps = election === undefined ? deps : {
      ...deps,
      afterVipsRemoved: () => { deps.afterVipsRemoved?.(); election.afterVipsRemoved(); },
    };
    this.effects = new InstanceEffects({
      deps: effectDeps, queue: this.queue, lease: this.lease, timers: this.timers, epochs: this.epochs, record: this.record,
      takeover: this.takeover, config: () => this.cfg, state: () => this.state, publish, input,
    });
  }

  get config(): InstanceConfig {
    return this.cfg;
  }

  /**
   * Kernel lifetime of the VIPs while master (s), 0 = forever; 'auto' is derived from the
   * advert interval by the core (src/core/fsm/lease.ts).
   */
  get vipLifetimeSec(): number {
    return this.lease.lifetimeSec;
  }

  /** What the VIPs are added with (label, the lease as both kernel lifetimes), for a re-add. */
  get vipAddOptions(): VipOpts {
    return this.lease.vipOpts(this.cfg);
  }

  get vrrpState(): VrrpState {
    return this.state.state;
  }

  get epoch(): number {
    return this.deps.epochs.current();
  }

  get effectivePriority(): number {
    return this.state.effectivePriority;
  }

  /** A peer was heard (VRRP advert or hello), by this runner or the earlier one it was started after. */
  get peerHeard(): boolean {
    return this.state.takeover.peerHeard;
  }

  /** Until when (monotonic ms) a failed promotion keeps this instance out of MASTER; null = not. */
  get backoffUntilMs(): number | null {
    return this.state.takeover.backoffUntilMs;
  }

  get maintenance(): boolean {
    return this.state.maintenance;
  }

  /** Master_Down_Interval (ms) with the current Master_Adver_Interval and our priority. */
  get masterDownMs(): number {
    return masterDownIntervalMs(this.state.effectivePriority, this.state.masterAdverIntervalCs, this.state.settings.version);
  }

  /**
   * Reload with a new VIP list and nothing else changed: a master adds the new VIPs and removes
   * the dropped ones (in the ordered queue, then announces); no transition, no flap of the VIPs
   * that stay. Adverts carry the new list from the next one on.
   */
  updateVips(next: InstanceConfig): { added: string[]; removed: string[] } {
    const before = vipCidrs(this.cfg.vips);
    const after = vipCidrs(next.vips);
    const added = after.filter((v) => !before.includes(v));
    const removed = before.filter((v) => !after.includes(v));
    this.cfg = next;
    if (this.state.state === 'MASTER') {
      const opts = this.lease.vipOpts(next);
      for (const cidr of added) this.queue.enqueue(`adding VIP ${cidr}`, () => this.deps.vips.addVip(next.external, cidr, opts));
      for (const cidr of removed) this.queue.enqueue(`removing VIP ${cidr}`, () => this.deps.vips.removeVip(next.external, cidr));
      if (added.length > 0) this.queue.enqueue('gratuitous ARP', () => this.deps.announce());
    }
    this.effects.refreshTrain(true);
    return { added, removed };
  }

  /** A peer reported its fencing epoch (a value at the bound puts this instance in FAULT). */
  observeEpoch(epoch: number): void {
    this.epochs.observe(epoch);
  }

  /**
   * Feeds one input to the core and runs its effects. Never throws: an exception of the core or
   * of an effect is logged and turns into the permanent fault `internal`.
   */
  input(input: Input): void {
    this.takeover.observe(input, this.primaryAddress);
    const now = this.deps.clock();
    const before = this.state;
    let result;
    try {
      result = step(this.state, input, now);
    } catch (err) {
      this.internalError(err, `input ${input.type}`);
      return;
    }
    this.state = result.state;
    const facts: StepFacts = { from: before.state, leaseWaitMs: this.lease.waitBeforeAddMs(before, now), epochRefused: false };
    for (const effect of result.effects) {
      try {
        this.effects.run(effect, facts);
      } catch (err) {
        this.internalError(err, `effect ${effect.type}`);
      }
    }
    if (isPeriodicAdvert(input, before.state, result)) this.afterMasterAdvert();
    this.effects.refreshTrain(false);
  }

  /** The afterMasterAdvert port (the master's hello goes with its advert); a throw is logged only. */
  private afterMasterAdvert(): void {
    try {
      this.deps.afterMasterAdvert?.();
    } catch (err) {
      this.deps.log.error({ err }, 'the work after a periodic advert (the peer hello) failed');
    }
  }

  /**
   * A health verdict: the effective priority and the active fault sources of this instance's
   * checks (`check:NAME`). Only changes become inputs to the core.
   */
  applyHealth(effectivePriority: number, faults: readonly string[]): void {
    if (effectivePriority !== this.state.effectivePriority) this.input({ type: 'priority', effectivePriority });
    const before = this.state.faults.filter((f) => f.startsWith('check:'));
    for (const f of faults) if (!before.includes(f)) this.input({ type: 'fault', source: f, active: true });
    for (const f of before) if (!faults.includes(f)) this.input({ type: 'fault', source: f, active: false });
  }

  countDrop(reason: string): void {
    this.record.drop(reason);
    this.publish({ type: 'drop', instance: this.config.name, iface: this.config.interface, reason });
  }

  countReceived(): void {
    this.record.advertsReceived += 1;
    this.publish({ type: 'advert-received', instance: this.config.name });
  }

  /** Resolves when every queued address change and announcement has finished. */
  drain(): Promise<void> {
    return this.queue.drained();
  }

  stopTimers(): void {
    this.effects.stopTrain();
    this.timers.stopAll();
    this.takeover.stop();
  }

  /**
   * `haagent promote --force`: take over now past the guards, the cold-start wait and the
   * backoff. Returns why it is refused (a live master is heard, not BACKUP...), or undefined.
   */
  forcePromote(): string | undefined {
    return this.takeover.forcePromote();
  }

  /** Starts reading the election's keys (election on etcd only; no-op for plain VRRP). */
  startElection(): void {
    this.election?.start();
  }

  /** Stops the election: frees the key if still held and not MASTER, candidate to priority 0. */
  async stopElection(): Promise<void> {
    await this.election?.stop();
  }

  /** Stops the timers and the epoch store (its last pending write is tried once more). */
  close(): void {
    this.stopTimers();
    this.deps.advertTrain?.close();
    this.deps.epochs.close();
  }

  status(): InstanceStatus {
    return instanceStatus({
      config: this.config, state: this.state, primaryAddress: this.primaryAddress, nowMs: this.deps.clock(), record: this.record,
      vipLifetimeSec: this.vipLifetimeSec, vipLeaseError: this.lease.error,
      epoch: this.deps.epochs.current(), maxEpochSeen: this.deps.epochs.maxSeen(), epochStatus: this.epochs.status(),
      checks: this.deps.checks(), hooks: this.deps.hooks.results(), takeover: this.takeover.status(Date.now()),
      election: this.election?.status(),
    });
  }

  /** Publishes on the bus; a throwing subscriber is logged, never propagated into the protocol. */
  private publish(ev: UnstampedEvent): void {
    try {
      this.deps.events.publish(ev);
    } catch (err) {
      this.deps.log.error({ err, event: ev.type }, 'an event subscriber failed');
    }
  }

  /**
   * A fault this runner raises itself, fed after the current effects have run (a fault input in
   * the middle of a transition's effects would interleave two transitions). Permanent.
   */
  private raiseOwnFault(source: string): void {
    if (this.ownFaults.has(source)) return;
    this.ownFaults.add(source);
    queueMicrotask(() => this.input({ type: 'fault', source, active: true }));
  }

  private internalError(err: unknown, where: string): void {
    this.deps.log.error({ err, where }, `internal error (${where}): entering FAULT`);
    this.raiseOwnFault('internal');
  }
}
