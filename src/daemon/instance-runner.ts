/**
 * The imperative shell around one VRRP instance: feeds inputs to the pure core with the current
 * monotonic time and carries out the effects it returns, in order.
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
import type { Logger } from 'pino';
import { createInstance } from '../core/fsm/create.js';
import { step } from '../core/fsm/step.js';
import { masterDownIntervalMs } from '../core/fsm/timers.js';
import type { Effect, Input, InstanceSettings, InstanceState, TimerKind, VrrpState } from '../core/fsm/types.js';
import type { HookName, InstanceConfig } from '../core/config/types.js';
import type { CheckSummary, HookRunStatus, InstanceStatus, TransitionStatus } from '../core/control/types.js';
import type { MonotonicClock } from '../adapters/ports.js';
import type { EventBus } from './event-bus.js';
import { MAX_EPOCH, type EpochHealth, type EpochPort } from '../adapters/epoch-store.js';
import type { AgentEvent } from '../core/control/events.js';

/** Ordered transition hooks (src/daemon/hook-runner.ts). */
export interface HookPort {
  run(hook: HookName, ctx: { from: string; to: string; priority: number; epoch?: number }): Promise<{ readonly ok: boolean; readonly exitCode: number | null; readonly timedOut: boolean } | undefined>;
  results(): readonly HookRunStatus[];
  close(): void;
}

export interface VipPort {
  /** Adds or refreshes (replace) a VIP; lifetimes in whole seconds, absent = forever. */
  addVip(ifname: string, cidr: string, opts?: { label?: string; validLftSec?: number; preferredLftSec?: number }): Promise<void>;
  removeVip(ifname: string, cidr: string): Promise<void>;
}

export interface InstanceDeps {
  readonly clock: MonotonicClock;
  readonly log: Logger;
  /** Encodes and sends one advert with this priority (to the multicast group or every peer). */
  readonly sendAdvert: (priority: number) => Promise<void>;
  readonly vips: VipPort;
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
}

const MAX_TRANSITIONS = 20;

type Without<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** One line for status and events: the failing write and/or the recovered corrupt file. */
function epochProblem(h: EpochHealth): string | undefined {
  const parts = [h.writeError, h.recovered].filter((x): x is string => x !== undefined);
  return parts.length === 0 ? undefined : parts.join('; ');
}

/** Calls `fn` now and returns a promise that never rejects (a throw and a rejection go to onError). */
function settle<T>(fn: () => Promise<T>, onError: (err: unknown) => void): Promise<T | undefined> {
  try {
    return fn().catch((err: unknown) => { onError(err); return undefined; });
  } catch (err) {
    onError(err);
    return Promise.resolve(undefined);
  }
}

export class InstanceRunner {
  private state: InstanceState;
  private readonly timers = new Map<TimerKind, NodeJS.Timeout>();
  private queue: Promise<void> = Promise.resolve();
  private readonly transitions: TransitionStatus[] = [];
  private transitionsTotal = 0;
  private advertsSent = 0;
  private advertsReceived = 0;
  private readonly drops: Record<string, number> = {};

  private cfg: InstanceConfig;
  private refreshing = false;
  private lastRenewalMs = -Infinity;
  /** The VIPs are in place (after the add job ran; false from the remove effect on). */
  private vipsInPlace = false;
  private lastRefreshError: string | undefined;
  /** Fault sources this runner raised itself (the epoch bound, an internal error); they stay. */
  private readonly ownFaults = new Set<string>();
  /** Set when bump() refused at the bound: this takeover adds, announces and hooks nothing. */
  private epochRefused = false;
  private epochLimitError: string | undefined;

  /**
   * Kernel lifetime of the VIPs while master (s), 0 = forever. 'auto': 3 x Advertisement_Interval
   * rounded down to whole seconds, at least 1 s: never longer than the peer's
   * Master_Down_Interval (3 x interval + Skew_Time) where the 1 s granularity allows.
   */
  get vipLifetimeSec(): number {
    const v = this.cfg.vipLifetimeSec;
    if (v !== 'auto') return v;
    return Math.max(1, Math.floor((3 * this.cfg.advertIntervalCs) / 100));
  }

  private vipOpts(cfg: InstanceConfig): { label?: string; validLftSec?: number; preferredLftSec?: number } {
    const life = this.vipLifetimeSec;
    return {
      ...(cfg.vipLabel === undefined ? {} : { label: cfg.vipLabel }),
      ...(life > 0 ? { validLftSec: life, preferredLftSec: life } : {}),
    };
  }

  /**
   * A master refreshes the VIPs' lifetime as it advertises, so a killed or frozen agent's VIPs
   * expire by themselves. A failed refresh makes the master step down (a short fault): it can
   * no longer promise the VIP goes away if it dies.
   */
  private refreshLease(): void {
    if (this.vipLifetimeSec === 0 || this.refreshing || !this.vipsInPlace) return;
    // A third of the lease is often enough (the VIP never outlives its last renewal by more than
    // the lease); renewing with every advert at 100 ms tripled the master's CPU.
    const now = this.deps.clock();
    if (now - this.lastRenewalMs < (this.vipLifetimeSec * 1000) / 3) return;
    this.lastRenewalMs = now;
    this.refreshing = true;
    const cfg = this.cfg;
    Promise.resolve().then(() => Promise.all(cfg.vips.map((cidr) => this.deps.vips.addVip(cfg.external, cidr, this.vipOpts(cfg))))).then(
      () => { this.refreshing = false; this.lastRefreshError = undefined; },
      (err: unknown) => {
        this.refreshing = false;
        this.lastRefreshError = err instanceof Error ? err.message : String(err);
        this.deps.log.error({ err }, 'refreshing the VIP lifetime failed: stepping down');
        if (this.state.state === 'MASTER') {
          this.input({ type: 'fault', source: 'vip-lease', active: true });
          this.input({ type: 'fault', source: 'vip-lease', active: false });
        }
      },
    );
  }

  get config(): InstanceConfig {
    return this.cfg;
  }

  /**
   * Reload with a new VIP list and nothing else changed: a master adds the new VIPs and removes
   * the dropped ones (in the ordered queue, then announces); no transition, no flap of the VIPs
   * that stay. Adverts carry the new list from the next one on.
   */
  updateVips(next: InstanceConfig): { added: string[]; removed: string[] } {
    const added = next.vips.filter((v) => !this.cfg.vips.includes(v));
    const removed = this.cfg.vips.filter((v) => !next.vips.includes(v));
    this.cfg = next;
    if (this.state.state === 'MASTER') {
      const opts = this.vipOpts(next);
      for (const cidr of added) this.enqueue(`adding VIP ${cidr}`, () => this.deps.vips.addVip(next.external, cidr, opts));
      for (const cidr of removed) this.enqueue(`removing VIP ${cidr}`, () => this.deps.vips.removeVip(next.external, cidr));
      if (added.length > 0) this.enqueue('gratuitous ARP', () => this.deps.announce());
    }
    return { added, removed };
  }

  constructor(config: InstanceConfig, readonly primaryAddress: string, private readonly deps: InstanceDeps) {
    this.cfg = config;
    const settings: InstanceSettings = Object.freeze({
      name: config.name, vrid: config.vrid, version: config.version, family: config.family,
      priority: config.priority, advertIntervalCs: config.advertIntervalCs, maxAdvertIntervalCs: config.maxAdvertIntervalCs, preempt: config.preempt,
      preemptDelayMs: config.preemptDelayMs, primaryAddress, vips: config.vips,
    });
    this.state = createInstance(settings, deps.clock());
    deps.epochs.onHealth((h) => this.onEpochHealth(h, false));
    // A corrupt file found (or a write failed) while the store was opened: say so loudly now.
    const h = deps.epochs.health();
    if (epochProblem(h) !== undefined) this.onEpochHealth(h, true);
  }

  /**
   * Logs (at error) and publishes a problem of the epoch file: at start (`initial`: a corrupt
   * file moved aside, a failing write) and each time the store reports a new one; a write that
   * works again is logged at info. The store retries by itself.
   */
  private onEpochHealth(h: EpochHealth, initial: boolean): void {
    const epoch = this.deps.epochs.current();
    if (h.writeError === undefined && !initial) {
      this.deps.log.info({ epoch }, 'fencing epoch written to disk again');
      this.publish({ type: 'epoch-state', instance: this.config.name, ok: true, persisted: h.persisted, detail: 'written to disk again' });
      return;
    }
    const problem = (h.writeError ?? h.recovered) ?? '';
    this.deps.log.error({ epoch, persisted: h.persisted, problem }, `fencing epoch: ${problem}`);
    this.publish({ type: 'epoch-state', instance: this.config.name, ok: false, persisted: h.persisted, detail: problem });
  }

  /** Publishes on the bus; a throwing subscriber is logged, never propagated into the protocol. */
  private publish(ev: Without<AgentEvent, 'at'>): void {
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

  /** The epoch can no longer grow: refuse to be master (FAULT) rather than reuse one. */
  private checkEpochBound(err?: unknown): void {
    if (err === undefined && Math.max(this.deps.epochs.current(), this.deps.epochs.maxSeen()) < MAX_EPOCH) return;
    if (this.ownFaults.has('epoch-limit')) return;
    this.epochLimitError = err instanceof Error ? err.message : `the fencing epoch has reached its bound ${MAX_EPOCH}; refusing to become master`;
    this.deps.log.error({ err, epoch: this.deps.epochs.current(), maxSeen: this.deps.epochs.maxSeen() }, `entering FAULT: ${this.epochLimitError}`);
    this.publish({ type: 'epoch-state', instance: this.config.name, ok: false, persisted: this.deps.epochs.health().persisted, detail: this.epochLimitError });
    this.raiseOwnFault('epoch-limit');
  }

  get vrrpState(): VrrpState {
    return this.state.state;
  }

  get epoch(): number {
    return this.deps.epochs.current();
  }

  /** A peer reported its fencing epoch (a value at the bound puts this instance in FAULT). */
  observeEpoch(epoch: number): void {
    this.deps.epochs.observe(epoch);
    this.checkEpochBound();
  }

  get effectivePriority(): number {
    return this.state.effectivePriority;
  }

  /** Master_Down_Interval (ms) with the current Master_Adver_Interval and our priority. */
  get masterDownMs(): number {
    return masterDownIntervalMs(this.state.effectivePriority, this.state.masterAdverIntervalCs, this.state.settings.version);
  }

  /**
   * Feeds one input to the core and runs its effects. Never throws: an exception of the core or
   * of an effect is logged and turns into the permanent fault `internal`.
   */
  input(input: Input): void {
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
    this.leaseWaitMs = this.oldLeaseLeftMs(before, now);
    this.epochRefused = false;
    for (const effect of result.effects) {
      try {
        this.run(effect, before.state);
      } catch (err) {
        this.internalError(err, `effect ${effect.type}`);
      }
    }
  }

  private internalError(err: unknown, where: string): void {
    this.deps.log.error({ err, where }, `internal error (${where}): entering FAULT`);
    this.raiseOwnFault('internal');
  }

  /** For the next add-vips (vip-lease-wait): how long the silent old master's lease may last. */
  private leaseWaitMs = 0;

  private oldLeaseLeftMs(before: InstanceState, now: number): number {
    if (!this.cfg.vipLeaseWait || this.vipLifetimeSec === 0) return 0;
    const m = before.master;
    if (before.state !== 'BACKUP' || m === null || m.priority === 0) return 0;
    // Its lease was renewed with its last advert at the latest. The kernel runs its address
    // expiry work on whole-second boundaries (round_jiffies_up), so allow one more second.
    return Math.max(0, m.lastSeenMs + this.vipLifetimeSec * 1000 + 1000 - now);
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

  get maintenance(): boolean {
    return this.state.maintenance;
  }

  countDrop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    this.publish({ type: 'drop', instance: this.config.name, iface: this.config.interface, reason });
  }

  countReceived(): void {
    this.advertsReceived += 1;
    this.publish({ type: 'advert-received', instance: this.config.name });
  }

  /** Resolves when every queued address change and announcement has finished. */
  drain(): Promise<void> {
    return this.queue;
  }

  stopTimers(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private enqueue(what: string, job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((err: unknown) => {
      this.deps.log.error({ err, effect: what }, `${what} failed`);
    });
  }

  /**
   * Node timers have whole-millisecond resolution and may fire up to 1 ms before the monotonic
   * deadline; the core ignores a fire that is not yet due, so an early fire is re-armed for the
   * remainder here instead of being lost (a lost master-down timer would leave a backup stuck).
   */
  private armTimer(kind: TimerKind, deadlineMs: number): void {
    const wait = Math.max(0, Math.ceil(deadlineMs - this.deps.clock()));
    this.timers.set(kind, setTimeout(() => {
      this.timers.delete(kind);
      // Last-moment facts first (isolation: a cut-off backup must fence itself, not take over).
      if (kind === 'master-down') {
        try {
          this.deps.beforeMasterDown?.();
        } catch (err) {
          this.deps.log.error({ err }, 'the isolation check before taking over failed; taking over on the protocol alone');
        }
      }
      if (this.state.timers[kind] !== deadlineMs) return;
      if (this.deps.clock() < deadlineMs) {
        this.armTimer(kind, deadlineMs);
        return;
      }
      this.input({ type: 'timer', timer: kind });
    }, wait));
  }

  private run(effect: Effect, from: VrrpState): void {
    switch (effect.type) {
      case 'send-advert':
        this.advertsSent += 1;
        // A master's periodic advert also renews the VIP lease (not the one entering MASTER:
        // the VIPs are being added with a fresh lifetime right after it).
        if (from === 'MASTER' && this.state.state === 'MASTER' && effect.priority > 0) this.refreshLease();
        this.publish({ type: 'advert-sent', instance: this.config.name });
        this.deps.sendAdvert(effect.priority).catch((err: unknown) => {
          this.deps.log.warn({ err, priority: effect.priority }, 'sending advert failed');
        });
        return;
      case 'arm-timer': {
        const old = this.timers.get(effect.timer);
        if (old !== undefined) clearTimeout(old);
        this.armTimer(effect.timer, effect.deadlineMs);
        return;
      }
      case 'cancel-timer': {
        const old = this.timers.get(effect.timer);
        if (old !== undefined) clearTimeout(old);
        this.timers.delete(effect.timer);
        return;
      }
      case 'add-vips': {
        // before-master runs and is awaited BEFORE the VIPs are added (same ordered queue);
        // adverts and timers never wait for it. A failure is logged and reported, and the VIPs
        // are still added: the protocol already made this node master.
        // It is handed to the hook runner now, so it is ahead of this transition's master hook.
        // A new fencing epoch, durable before anything else happens as master when the disk
        // allows; a failed write is reported by the store's health listener and retried, and the
        // takeover goes on (availability). Only the bound refuses: no VIP, FAULT.
        let epoch: number;
        try {
          epoch = this.deps.epochs.bump();
        } catch (err) {
          this.epochRefused = true;
          this.checkEpochBound(err);
          return;
        }
        if (this.deps.epochs.health().persisted) this.deps.log.info({ epoch }, 'new fencing epoch');
        else this.deps.log.error({ epoch, problem: this.deps.epochs.health().writeError }, 'new fencing epoch NOT persisted: taking over anyway, holding it in memory and retrying the write');
        // Started now, awaited in the queue: their rejections are handled here, at once.
        const beforeMaster = settle(() => this.deps.hooks.run('before-master', { from, to: 'MASTER', priority: this.state.effectivePriority, epoch }), (err) => {
          this.deps.log.error({ err }, 'before-master hook could not be run; adding the VIPs anyway');
        });
        const beforeVips = this.deps.beforeVips;
        const prepared = beforeVips === undefined ? undefined : settle(beforeVips, (err) => {
          this.deps.log.error({ err }, 'preparing the load balancer rules failed; adding the VIPs anyway');
        });
        this.enqueue('before-master hook', async () => {
          const r = await beforeMaster;
          if (r !== undefined && !r.ok) this.deps.log.error({ exitCode: r.exitCode, timedOut: r.timedOut }, 'before-master hook failed; adding the VIPs anyway');
        });
        if (prepared !== undefined) this.enqueue('load balancer rules before the VIPs', () => prepared);
        if (this.leaseWaitMs > 0) {
          const wait = this.leaseWaitMs;
          this.deps.log.info({ waitMs: Math.round(wait) }, 'vip-lease-wait: the old master went silent; adding the VIPs once its lease has run out');
          this.enqueue('waiting for the old lease', () => new Promise((r) => setTimeout(r, wait)));
        }
        for (const cidr of this.config.vips) {
          const opts = this.vipOpts(this.config);
          this.enqueue(`adding VIP ${cidr}`, () => this.deps.vips.addVip(this.config.external, cidr, opts));
        }
        this.enqueue('logging VIPs added', async () => {
          this.vipsInPlace = this.state.state === 'MASTER' || this.state.releasing;
          this.deps.log.info({ vips: this.config.vips, external: this.config.external }, 'VIPs added');
        });
        return;
      }
      case 'remove-vips':
        this.vipsInPlace = false;
        this.deps.quiet();
        for (const cidr of this.config.vips) {
          this.enqueue(`removing VIP ${cidr}`, () => this.deps.vips.removeVip(this.config.external, cidr));
        }
        this.enqueue('logging VIPs removed', async () => {
          this.deps.log.info({ vips: this.config.vips }, 'VIPs removed');
          this.deps.afterVipsRemoved?.();
        });
        return;
      case 'announce':
        if (this.epochRefused) return; // no VIP was added: claim nothing
        this.enqueue('gratuitous ARP', () => this.deps.announce());
        this.deps.log.debug({ reason: effect.reason }, 'announcing VIPs');
        return;
      case 'state-changed':
        this.transitionsTotal += 1;
        this.publish({ type: 'transition', instance: this.config.name, vrid: this.config.vrid, from: effect.from, to: effect.to, reason: effect.reason });
        this.transitions.push({ from: effect.from, to: effect.to, reason: effect.reason, at: new Date().toISOString() });
        if (this.transitions.length > MAX_TRANSITIONS) this.transitions.shift();
        this.deps.log.info({ from: effect.from, to: effect.to, reason: effect.reason, priority: this.state.effectivePriority }, `${effect.from} -> ${effect.to}: ${effect.reason}`);
        return;
      case 'run-hook': {
        // Handed to the hook runner (its FIFO keeps transition order) from the address queue, so
        // a master hook starts after the VIPs were added and a backup hook after they were
        // removed; the queue does not wait for the hook itself, and the protocol never does.
        // Results are logged and published by the agent from the runner's 'result' events.
        const hook = effect.hook;
        if (this.epochRefused && effect.to === 'MASTER') return; // not really master: FAULT follows
        const ctx = { from: effect.from, to: effect.to, priority: this.state.effectivePriority, epoch: this.deps.epochs.current() };
        this.enqueue(`${hook} hook`, async () => {
          this.deps.hooks.run(hook, ctx).catch((err: unknown) => this.deps.log.error({ err, hook }, 'hook runner failed'));
        });
        return;
      }
    }
  }

  private epochStatus(): Pick<InstanceStatus, 'epochPersisted' | 'epochStateError'> {
    const h = this.deps.epochs.health();
    const problem = [this.epochLimitError, epochProblem(h)].filter((x): x is string => x !== undefined).join('; ');
    return { epochPersisted: h.persisted, ...(problem === '' ? {} : { epochStateError: problem }) };
  }

  /** Stops the timers and the epoch store (its last pending write is tried once more). */
  close(): void {
    this.stopTimers();
    this.deps.epochs.close();
  }

  status(): InstanceStatus {
    const s = this.state;
    const self = s.state === 'MASTER';
    return {
      name: this.config.name,
      vrid: this.config.vrid,
      state: s.state,
      priority: this.config.priority,
      effectivePriority: s.effectivePriority,
      interface: this.config.interface,
      external: this.config.external,
      vrrpVersion: this.config.version,
      advertIntervalMs: this.config.advertIntervalCs * 10,
      preempt: this.config.preempt,
      vips: this.config.vips,
      address: this.primaryAddress,
      master: self
        ? { address: this.primaryAddress, priority: s.effectivePriority, self: true }
        : s.master === null ? null : { address: s.master.address, priority: s.master.priority, self: false },
      timeInStateMs: Math.max(0, Math.round(this.deps.clock() - s.enteredStateAtMs)),
      transitions: [...this.transitions],
      advertsSent: this.advertsSent,
      advertsReceived: this.advertsReceived,
      drops: { ...this.drops },
      faults: s.faults,
      vipLifetimeSec: this.vipLifetimeSec,
      epoch: this.deps.epochs.current(),
      maxEpochSeen: this.deps.epochs.maxSeen(),
      ...(this.lastRefreshError === undefined ? {} : { vipLeaseError: this.lastRefreshError }),
      ...this.epochStatus(),
      maintenance: s.maintenance,
      transitionsTotal: this.transitionsTotal,
      checks: this.deps.checks(),
      hooks: this.deps.hooks.results(),
    };
  }
}
