/**
 * The shell of one instance's takeover rules (src/core/fsm/takeover.ts decides): runs the
 * guards the core asks for and feeds their verdict back, arms the `guard-retry` timer, reports
 * a held-back takeover (event, log, status), feeds the peer-heard fact, and carries out an
 * operator's `promote --force`.
 *
 * Contract: nothing here throws into the protocol; inputs it feeds back are fed from a timer or
 * a settled promise, never from inside the effects of the step that asked (no interleaved
 * transitions). A guard verdict for an attempt the core has moved past is ignored by the core.
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import type { TakeoverStatus } from '../core/control/types.js';
import { forcePromoteRefusal } from '../core/fsm/takeover.js';
import type { Effect, Input, InstanceState } from '../core/fsm/types.js';
import { vipCidrs } from '../core/net/address.js';
import type { MonotonicClock } from '../adapters/ports.js';
import type { UnstampedEvent } from './event-bus.js';
import type { GuardPort } from './instance-ports.js';
import { isoTime } from '../adapters/iso-time.js';

export interface TakeoverContext {
  readonly clock: MonotonicClock;
  readonly log: Logger;
  readonly guards: GuardPort | undefined;
  readonly config: () => InstanceConfig;
  readonly state: () => InstanceState;
  /** The epoch held now (guards get it; the takeover would take the next one). */
  readonly epoch: () => number;
  readonly input: (input: Input) => void;
  /** Publishes on the bus; never throws. */
  readonly publish: (ev: UnstampedEvent) => void;
  /** Election on etcd: win the leader key, after the guards passed; never rejects. */
  readonly lock?: () => Promise<{ readonly ok: boolean; readonly detail: string }>;
  /**
   * Election on etcd, before the guards: why the key cannot be won now (held by another node,
   * etcd unreachable), or undefined; so a claim the key holds back does not run the guards at
   * every retry. Never rejects.
   */
  readonly lockBlocked?: () => Promise<string | undefined>;
}

type TakeoverEffect = Extract<Effect, { type: 'run-guards' | 'arm-guard-retry' | 'cancel-guard-retry' | 'takeover-blocked' }>;

export class InstanceTakeover {
  private retry: NodeJS.Timeout | undefined;
  /** When an advert of a master was last fed (monotonic ms), null = none since boot. */
  private lastMasterAdvertMs: number | null = null;
  private stopped = false;

  constructor(private readonly ctx: TakeoverContext) {}

  /** Called for each input before the core sees it: the facts the takeover rules need. */
  observe(input: Input, primaryAddress: string): void {
    if (input.type !== 'advert' || input.from === primaryAddress) return;
    this.lastMasterAdvertMs = this.ctx.clock();
    if (!this.ctx.state().takeover.peerHeard) this.ctx.input({ type: 'peer-heard' });
  }

  run(effect: TakeoverEffect): void {
    switch (effect.type) {
      case 'run-guards':
        this.runGuards(effect.attempt);
        return;
      case 'arm-guard-retry':
        this.armRetry(effect.deadlineMs);
        return;
      case 'cancel-guard-retry':
        clearTimeout(this.retry);
        this.retry = undefined;
        return;
      case 'takeover-blocked': {
        const instance = this.ctx.config().name;
        this.ctx.publish({ type: 'takeover-blocked', instance, reason: effect.reason, detail: effect.detail, active: effect.active });
        if (effect.active) this.ctx.log.warn({ reason: effect.reason, detail: effect.detail }, `takeover held back (${effect.reason}): ${effect.detail}`);
        else this.ctx.log.info({ reason: effect.reason }, `takeover no longer held back (${effect.reason})`);
        return;
      }
    }
  }

  /**
   * `promote --force`: refused (the reason returned) unless the core allows it; otherwise the
   * input is fed, logged at warn and published. Returns undefined when it went ahead.
   */
  forcePromote(): string | undefined {
    const refusal = forcePromoteRefusal(this.ctx.state(), this.ctx.clock());
    if (refusal !== undefined) return refusal;
    const instance = this.ctx.config().name;
    this.ctx.log.warn({ instance }, 'promote --force: taking over past the takeover guards, the cold-start wait and the backoff');
    this.ctx.publish({ type: 'promote-forced', instance });
    this.ctx.input({ type: 'promote-force' });
    return undefined;
  }

  /** Status `takeover`: present when the instance has takeover keys or a takeover is held back. */
  status(wallNowMs: number): TakeoverStatus | undefined {
    const t = this.ctx.state().takeover;
    const guards = this.ctx.guards?.results() ?? [];
    if (this.ctx.config().takeover === undefined && t.blocked === null) return undefined;
    const g = guards.length === 0 ? {} : { guards: guards.map((r) => ({ ...r })) };
    if (t.blocked === null) return { blocked: false, ...g };
    const since = isoTime(wallNowMs - Math.max(0, this.ctx.clock() - t.blocked.sinceMs));
    return { blocked: true, reason: t.blocked.reason, detail: t.blocked.detail, since, ...g };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.ctx.guards?.close();
  }

  private armRetry(deadlineMs: number): void {
    clearTimeout(this.retry);
    const wait = Math.max(0, Math.ceil(deadlineMs - this.ctx.clock()));
    this.retry = setTimeout(() => {
      this.retry = undefined;
      // Node may fire up to 1 ms early on the monotonic clock: wait out the rest.
      if (this.ctx.clock() < deadlineMs) return this.armRetry(deadlineMs);
      this.ctx.input({ type: 'guard-retry' });
      return undefined;
    }, wait);
  }

  /** Election on etcd: the claim's last step, winning the leader key; its answer ends the attempt. */
  private takeLock(attempt: number): void {
    const lock = this.ctx.lock;
    if (lock === undefined) return;
    void lock().then((r) => {
      if (this.stopped) return;
      if (r.ok) this.ctx.log.info({ attempt }, r.detail);
      else this.ctx.log.debug({ attempt, detail: r.detail }, 'the leader key was not won');
      this.ctx.input(r.ok ? { type: 'guards-result', attempt, ok: true, detail: r.detail } : { type: 'guards-result', attempt, ok: false, detail: r.detail, reason: 'etcd' });
    });
  }

  private runGuards(attempt: number): void {
    const { ctx } = this;
    const guards = ctx.guards;
    if (guards !== undefined && ctx.lockBlocked !== undefined) {
      void ctx.lockBlocked().then((blocked) => {
        if (this.stopped) return;
        if (blocked === undefined) this.runGuardsNow(attempt, guards);
        else ctx.input({ type: 'guards-result', attempt, ok: false, detail: blocked, reason: 'etcd' });
      });
      return;
    }
    if (guards === undefined) {
      if (ctx.lock !== undefined) this.takeLock(attempt);
      else queueMicrotask(() => ctx.input({ type: 'guards-result', attempt, ok: false, detail: 'no guard runner' }));
      return;
    }
    this.runGuardsNow(attempt, guards);
  }

  private runGuardsNow(attempt: number, guards: GuardPort): void {
    const { ctx } = this;
    const cfg = ctx.config();
    const s = ctx.state();
    const now = ctx.clock();
    const facts = {
      instance: cfg.name, vrid: cfg.vrid, vips: vipCidrs(cfg.vips), state: s.state, epoch: ctx.epoch(),
      peerHeard: s.takeover.peerHeard, masterSilentMs: this.lastMasterAdvertMs === null ? null : now - this.lastMasterAdvertMs,
    };
    ctx.log.info({ attempt }, 'running the takeover guards');
    guards.run(facts).then((a) => {
      if (this.stopped) return;
      for (const r of a.results) {
        ctx.publish({ type: 'guard', instance: cfg.name, guard: r.name, ok: r.ok, exitCode: r.exitCode, timedOut: r.timedOut, durationMs: r.durationMs });
      }
      if (a.ok) ctx.log.info({ attempt }, 'takeover guards passed');
      else ctx.log.warn({ attempt, detail: a.detail, output: a.results.filter((r) => !r.ok).map((r) => r.outputTail.slice(-300)) }, `takeover guard failed: ${a.detail}`);
      if (a.ok && ctx.lock !== undefined) this.takeLock(attempt);
      else ctx.input({ type: 'guards-result', attempt, ok: a.ok, detail: a.detail });
    }, (err: unknown) => {
      ctx.log.error({ err }, 'the guard runner failed; the takeover stays held back');
      if (!this.stopped) ctx.input({ type: 'guards-result', attempt, ok: false, detail: 'the guard runner failed' });
    });
  }
}
