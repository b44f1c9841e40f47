/**
 * What the two deterministic simulations share: world.ts (one LAN, scenario.ts) and
 * paths-world.ts (two paths and a witness). Each of them has a world of routers driven by a
 * step function on a fake clock, which plays the daemon's part (carries out the effects) and
 * checks the per-step invariants while doing so:
 * - an armed deadline is finite and not in the past;
 * - add-vips / remove-vips alternate, and VIPs are held exactly while the state is MASTER;
 * - at most one state-changed per step, from the old state to the new one;
 * - the deadlines held in the state are finite or null;
 * and a seeded run: random router settings, a staggered boot, epochs of chaos then a stable
 * phase ending without any transition, and on failure a report with a replay line and the trace.
 */
import { createInstance } from '../../src/core/fsm/create.js';
import type { AddressFamily, Effect, Input, InstanceSettings, InstanceState, StepResult, TimerKind, VrrpVersion } from '../../src/core/fsm/types.js';
import { vipOf } from '../../src/core/net/address.js';
import { EventQueue } from './event-queue.js';
import type { Rng } from './prng.js';

export type StepFn = (state: InstanceState, input: Input, nowMs: number) => StepResult;

export type StateChanged = Extract<Effect, { readonly type: 'state-changed' }>;

/** What every simulated router has; the worlds add their own fields. */
export interface SimRouter {
  readonly id: number;
  readonly settings: InstanceSettings;
  /** null while crashed. */
  state: InstanceState | null;
  incarnation: number;
  vips: boolean;
  readonly tokens: Record<TimerKind, number>;
  transitions: number;
}

/** A fresh (not yet booted) router. */
export function newRouter(id: number, settings: InstanceSettings): SimRouter {
  return { id, settings, state: null, incarnation: 0, vips: false, tokens: { 'master-down': 0, advert: 0, 'preempt-delay': 0 }, transitions: 0 };
}

/** A timer armed by an incarnation of a router; stale once its token was bumped (re-armed or cancelled). */
export interface TimerEvent {
  readonly kind: 'timer';
  readonly router: number;
  readonly inc: number;
  readonly timer: TimerKind;
  readonly token: number;
}

/** The clock, event loop, trace and per-step checks of a world; E is its own events (besides timers). */
export abstract class SimWorld<R extends SimRouter, E> {
  now = 0;
  violation: string | null = null;
  protected readonly queue = new EventQueue<E | TimerEvent>();

  constructor(
    protected readonly rng: Rng,
    readonly routers: R[],
    private readonly stepFn: StepFn,
    readonly trace: string[] | null,
  ) {}

  abstract name(r: R): string;

  /** Carry out one event of the queue (at this.now). */
  protected abstract handle(ev: E | TimerEvent): void;

  protected abstract sendAdvert(from: R, priority: number): void;

  get totalTransitions(): number {
    return this.routers.reduce((n, r) => n + r.transitions, 0);
  }

  log(line: () => string): void {
    if (this.trace !== null) this.trace.push(`t=${this.now} ${line()}`);
  }

  fail(message: string): void {
    if (this.violation === null) {
      this.violation = `t=${this.now}: ${message}`;
      this.log(() => `VIOLATION ${message}`);
    }
  }

  /** Process every event due at or before t, then set the clock to t. */
  runUntil(t: number): void {
    while (this.violation === null && this.queue.peekTime() <= t) {
      const next = this.queue.pop();
      if (next === undefined) break;
      this.now = next.at;
      this.handle(next.event);
      this.afterEvent();
    }
    this.now = Math.max(this.now, t);
  }

  /** Run after every event. */
  protected afterEvent(): void {}

  /** The router `id` if it is alive (and, given `inc`, still that incarnation). */
  protected live(id: number, inc?: number): R | undefined {
    const r = this.routers[id];
    if (r === undefined || r.state === null) return undefined;
    if (inc !== undefined && r.incarnation !== inc) return undefined;
    return r;
  }

  /** Whether a timer event is to be ignored because the timer was re-armed or cancelled since. */
  protected stale(r: R, ev: TimerEvent): boolean {
    return r.tokens[ev.timer] !== ev.token;
  }

  protected cancelTimer(r: R, timer: TimerKind): void {
    r.tokens[timer]++;
  }

  /** The live router a timer event is for (logged), or undefined when it is dead or stale. */
  protected timerTarget(ev: TimerEvent): R | undefined {
    const r = this.live(ev.router, ev.inc);
    if (r === undefined || this.stale(r, ev)) return undefined;
    this.log(() => `${this.name(r)} timer ${ev.timer}`);
    return r;
  }

  /** Hook: r has just taken the VIPs (add-vips). */
  protected tookVips(_r: R): void {}

  /** Hook: r has just made a transition (before it is logged). */
  protected transitioned(_r: R, _e: StateChanged, _input: Input): void {}

  /** Hook: r has just booted (createInstance done, `start` not yet fed). */
  protected booted(_r: R): void {}

  /** Feed one input to a live router and carry out the effects, checking the per-step invariants. */
  input(r: R, input: Input): void {
    const before = r.state;
    if (before === null) return;
    let result: StepResult;
    try {
      result = this.stepFn(before, input, this.now);
    } catch (e) {
      this.fail(`${this.name(r)} step threw on ${input.type}: ${String(e)}`);
      return;
    }
    r.state = result.state;
    let changes = 0;
    for (const e of result.effects) {
      switch (e.type) {
        case 'send-advert':
          this.sendAdvert(r, e.priority);
          break;
        case 'arm-timer': {
          if (!Number.isFinite(e.deadlineMs) || e.deadlineMs < this.now) {
            this.fail(`${this.name(r)} armed ${e.timer} at ${e.deadlineMs}, now is ${this.now}`);
          }
          const token = ++r.tokens[e.timer];
          this.queue.push(e.deadlineMs, { kind: 'timer', router: r.id, inc: r.incarnation, timer: e.timer, token });
          break;
        }
        case 'cancel-timer':
          this.cancelTimer(r, e.timer);
          break;
        case 'add-vips':
          if (r.vips) this.fail(`${this.name(r)} add-vips while holding them`);
          r.vips = true;
          this.tookVips(r);
          break;
        case 'remove-vips':
          if (!r.vips) this.fail(`${this.name(r)} remove-vips while not holding them`);
          r.vips = false;
          break;
        case 'state-changed':
          changes++;
          r.transitions++;
          if (e.from !== before.state || e.to !== result.state.state) {
            this.fail(`${this.name(r)} state-changed ${e.from}->${e.to} but state went ${before.state}->${result.state.state}`);
          }
          this.transitioned(r, e, input);
          this.log(() => `${this.name(r)} ${e.from} -> ${e.to}: ${e.reason}`);
          break;
        case 'announce':
        case 'run-hook':
          break;
      }
    }
    if (changes > 1) this.fail(`${this.name(r)} ${changes} transitions in one step`);
    if (changes === 0 && before.state !== result.state.state) this.fail(`${this.name(r)} silent transition`);
    if (r.vips !== (result.state.state === 'MASTER')) {
      this.fail(`${this.name(r)} holds VIPs=${r.vips} in ${result.state.state}`);
    }
    for (const d of Object.values(result.state.timers)) {
      if (d !== null && !Number.isFinite(d)) this.fail(`${this.name(r)} non-finite deadline ${d}`);
    }
  }

  // ---- disturbances -------------------------------------------------------------------------

  /** Fresh process: createInstance + start (the effective priority starts at the configured one). */
  boot(r: R): void {
    r.incarnation++;
    r.vips = false;
    r.state = createInstance(r.settings, this.now);
    this.booted(r);
    this.log(() => `${this.name(r)} boot`);
    this.input(r, { type: 'start' });
  }

  /** The router disappears silently (power loss); its VIPs die with it. */
  crash(r: R): void {
    this.log(() => `${this.name(r)} CRASH`);
    r.state = null;
    r.vips = false;
    r.incarnation++;
  }
}

// ---- one seeded run --------------------------------------------------------------------------

export const PRIORITY_POOL = [50, 100, 100, 150, 200] as const;

/** How a run's routers are drawn (n, version and family are drawn by the caller, in its order). */
export interface SettingsShape {
  readonly n: number;
  readonly version: VrrpVersion;
  readonly family: AddressFamily;
  readonly name: (i: number) => string;
  /** Chance that every router preempts (else each one does with chance 0.5). */
  readonly allPreemptChance: number;
  /** Chance that preempt delays are used (then each router has one with chance 0.6). */
  readonly delayChance: number;
  /** Longest preempt delay, in advert intervals. */
  readonly maxPreemptDelayIntervals: number;
}

/**
 * Random settings of one virtual router on n routers: advert interval, priorities (distinct,
 * equal or from PRIORITY_POOL; sometimes an address owner), preempt and preempt delays, distinct
 * addresses.
 */
export function randomSettings(rng: Rng, shape: SettingsShape): { settings: InstanceSettings[]; advertIntervalCs: number } {
  const { n, version, family } = shape;
  const advertIntervalCs = version === 2 ? rng.pick([100, 200]) : rng.pick([20, 50, 100, 150, 300]);
  const A = advertIntervalCs * 10;
  const prioMode = rng.pick(['distinct', 'equal', 'pool'] as const);
  const allPreempt = rng.chance(shape.allPreemptChance);
  const withDelay = rng.chance(shape.delayChance);
  const owner = rng.chance(0.1) ? rng.int(0, n - 1) : -1;
  const hosts = new Set<number>();
  while (hosts.size < n) hosts.add(rng.int(1, 254));
  const hostList = [...hosts];
  const equalPrio = rng.int(1, 254);
  const settings: InstanceSettings[] = [];
  for (let i = 0; i < n; i++) {
    const host = hostList[i] ?? i + 1;
    const priority =
      i === owner ? 255 : prioMode === 'equal' ? equalPrio : prioMode === 'pool' ? rng.pick(PRIORITY_POOL) : rng.int(1, 254);
    settings.push(
      Object.freeze({
        name: shape.name(i),
        vrid: 51,
        version,
        family,
        priority,
        advertIntervalCs,
        preempt: allPreempt || rng.chance(0.5),
        preemptDelayMs: withDelay && rng.chance(0.6) ? rng.int(1, shape.maxPreemptDelayIntervals * A) : 0,
        primaryAddress: family === 4 ? `10.0.0.${host}` : `fe80::${host.toString(16)}`,
        vips: [vipOf(family === 4 ? '10.0.0.250/24' : 'fd00::250/64')],
      }),
    );
  }
  return { settings, advertIntervalCs };
}

/** The routers of a run, for its description line. */
export function describeRouters(settings: readonly InstanceSettings[]): string {
  return settings
    .map((s) => `${s.primaryAddress} p${s.priority}${s.preempt ? '' : ' nopreempt'}${s.preemptDelayMs > 0 ? ` delay=${s.preemptDelayMs}` : ''}`)
    .join('; ');
}

/** The chaos of a run: disturbances drawn by `disturb`, up to maxDisturbances per phase of 0..chaosSpanMs. */
export interface EpochPlan<W> {
  /** The advert interval (ms): the routers boot at random times within the first one. */
  readonly A: number;
  readonly epochs: number;
  readonly chaosSpanMs: number;
  readonly maxDisturbances: number;
  readonly disturb: (world: W, rng: Rng) => void;
}

/**
 * The shape of a run: a staggered boot, then epochs of a chaos phase (disturbances at random
 * times) followed by a stable phase, which `stable` runs and checks. The first violation (the
 * world's, or what `stable` returns), or null.
 */
export function runEpochs<W extends SimWorld<SimRouter, unknown>>(world: W, rng: Rng, plan: EpochPlan<W>, stable: (epoch: number) => string | null): string | null {
  const boots = world.routers.map((r) => ({ r, at: rng.int(0, plan.A) })).sort((a, b) => a.at - b.at);
  for (const { r, at } of boots) {
    world.runUntil(at);
    world.boot(r);
  }
  for (let epoch = 0; epoch < plan.epochs; epoch++) {
    const chaosEnd = world.now + rng.int(0, plan.chaosSpanMs);
    const times = Array.from({ length: rng.int(0, plan.maxDisturbances) }, () => rng.int(world.now, chaosEnd)).sort((a, b) => a - b);
    for (const t of times) {
      world.runUntil(t);
      plan.disturb(world, rng);
    }
    world.runUntil(chaosEnd);
    if (world.violation !== null) return world.violation;
    const problem = stable(epoch);
    if (problem !== null) return problem;
  }
  return null;
}

/**
 * The end of a stable phase, from the checks at `checkedMs` on for another 2..6 advert intervals
 * A (ms): no violation and no transition at all (no flapping). null when it holds.
 */
export function noFlapping(world: SimWorld<SimRouter, unknown>, rng: Rng, checkedMs: number, A: number, during = ''): string | null {
  const settled = world.totalTransitions;
  world.runUntil(checkedMs + 2 * A + rng.int(0, 4 * A));
  if (world.violation !== null) return world.violation;
  if (world.totalTransitions !== settled) {
    return `t=${world.now}: ${world.totalTransitions - settled} transitions after convergence${during} (flapping)`;
  }
  return null;
}

/** The report on a failing seed: its description, the violation of the traced rerun, how to replay it, the trace. */
export function failureReport(
  title: string,
  description: string,
  traced: { readonly violation: string | null; readonly trace: readonly string[] | null },
  replay: string,
): string {
  return [
    `${title} ${description}`,
    `violation: ${traced.violation ?? '(not reproduced with tracing!)'}`,
    `replay: ${replay}`,
    'trace:',
    ...(traced.trace ?? []),
  ].join('\n');
}
