/**
 * The simulated LAN: N routers, each an InstanceState driven by a step function, a fake clock
 * and an event queue (common.ts: SimWorld, with the per-step invariants it checks).
 * Advertisements are delivered to every other router that is in the sender's partition group at
 * send time, each copy independently lost, delayed (0..maxDelayMs) and duplicated.
 */
import type { AdvertInput, Input, InstanceSettings, TimerKind } from '../../src/core/fsm/types.js';
import { newRouter, SimWorld, type SimRouter, type StepFn, type TimerEvent } from './common.js';
import type { Rng } from './prng.js';

export type { StepFn } from './common.js';

export interface NetConfig {
  readonly maxDelayMs: number;
  readonly dupRate: number;
  /** A sloppy shell never cancels real timers and relies on the core ignoring stale fires. */
  readonly sloppyShell: boolean;
  /**
   * Storm check: at most this many advertisements per router in any fixed window of
   * `stormWindowMs` (a master sends one per Adver_Timer plus one per lower or priority-0
   * advertisement it hears, so a sane machine stays far below).
   */
  readonly maxSendsPerWindow: number;
  readonly stormWindowMs: number;
}

export interface Router extends SimRouter {
  group: number;
  /** Advertisements sent in the current storm-check window. */
  sentInWindow: number;
  windowStartMs: number;
}

interface Deliver {
  readonly kind: 'deliver';
  readonly to: number;
  readonly advert: AdvertInput;
}

export class World extends SimWorld<Router, Deliver> {
  lossRate = 0;

  constructor(
    rng: Rng,
    settings: readonly InstanceSettings[],
    private readonly net: NetConfig,
    stepFn: StepFn,
    trace: string[] | null,
  ) {
    super(
      rng,
      settings.map((s, id) => ({ ...newRouter(id, s), group: 0, sentInWindow: 0, windowStartMs: 0 })),
      stepFn,
      trace,
    );
  }

  name(r: Router): string {
    return `r${r.id}(${r.settings.primaryAddress} p${r.state?.effectivePriority ?? r.settings.priority}${r.settings.preempt ? '' : ' nopreempt'})`;
  }

  protected handle(ev: Deliver | TimerEvent): void {
    if (ev.kind === 'deliver') {
      const r = this.live(ev.to);
      if (r === undefined) return;
      this.log(() => `${this.name(r)} <- advert from ${ev.advert.from} p${ev.advert.priority}`);
      this.input(r, ev.advert);
      return;
    }
    const r = this.timerTarget(ev);
    if (r !== undefined) this.input(r, { type: 'timer', timer: ev.timer });
  }

  /** A sloppy shell fires every timer, even cancelled ones. */
  protected override stale(r: Router, ev: TimerEvent): boolean {
    return !this.net.sloppyShell && super.stale(r, ev);
  }

  protected override cancelTimer(r: Router, timer: TimerKind): void {
    if (!this.net.sloppyShell) super.cancelTimer(r, timer);
  }

  protected sendAdvert(from: Router, priority: number): void {
    this.log(() => `${this.name(from)} -> advert p${priority}`);
    if (this.now - from.windowStartMs >= this.net.stormWindowMs) {
      from.windowStartMs = this.now;
      from.sentInWindow = 0;
    }
    if (++from.sentInWindow > this.net.maxSendsPerWindow) {
      this.fail(`${this.name(from)} advertisement storm: more than ${this.net.maxSendsPerWindow} sends in ${this.net.stormWindowMs}ms`);
      return;
    }
    const advert: AdvertInput = {
      type: 'advert',
      from: from.settings.primaryAddress,
      priority,
      maxAdvertIntervalCs: from.settings.advertIntervalCs,
    };
    for (const to of this.routers) {
      if (to === from || to.group !== from.group) continue;
      if (this.rng.chance(this.lossRate)) continue;
      this.queue.push(this.now + this.rng.int(0, this.net.maxDelayMs), { kind: 'deliver', to: to.id, advert });
      if (this.rng.chance(this.net.dupRate)) {
        this.queue.push(this.now + this.rng.int(0, this.net.maxDelayMs), { kind: 'deliver', to: to.id, advert });
      }
    }
  }

  // ---- disturbances -------------------------------------------------------------------------

  command(r: Router, input: Input): void {
    this.log(() => `${this.name(r)} input ${JSON.stringify(input)}`);
    this.input(r, input);
  }

  setGroups(groups: readonly number[]): void {
    this.routers.forEach((r, i) => {
      r.group = groups[i] ?? 0;
    });
    this.log(() => `partition groups=[${groups.join(',')}]`);
  }

  setLoss(p: number): void {
    this.lossRate = p;
    this.log(() => `loss=${p.toFixed(2)}`);
  }
}
