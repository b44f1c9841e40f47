/**
 * The simulated LAN: N routers, each an InstanceState driven by a step function, a fake clock
 * and an event queue. It plays the daemon's part (carries out effects) and checks the
 * per-step invariants while doing so:
 * - an armed deadline is finite and not in the past;
 * - add-vips / remove-vips alternate, and VIPs are held exactly while the state is MASTER;
 * - at most one state-changed per step, from the old state to the new one;
 * - the deadlines held in the state are finite or null.
 * Advertisements are delivered to every other router that is in the sender's partition group at
 * send time, each copy independently lost, delayed (0..maxDelayMs) and duplicated.
 */
import { createInstance } from '../../src/core/fsm/create.js';
import type { AdvertInput, Input, InstanceSettings, InstanceState, StepResult, TimerKind } from '../../src/core/fsm/types.js';
import { EventQueue } from './event-queue.js';
import type { Rng } from './prng.js';

export type StepFn = (state: InstanceState, input: Input, nowMs: number) => StepResult;

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

export interface Router {
  readonly id: number;
  readonly settings: InstanceSettings;
  /** null while crashed. */
  state: InstanceState | null;
  incarnation: number;
  group: number;
  vips: boolean;
  readonly tokens: Record<TimerKind, number>;
  transitions: number;
  /** Advertisements sent in the current storm-check window. */
  sentInWindow: number;
  windowStartMs: number;
}

type SimEvent =
  | { readonly kind: 'deliver'; readonly to: number; readonly advert: AdvertInput }
  | { readonly kind: 'timer'; readonly router: number; readonly incarnation: number; readonly timer: TimerKind; readonly token: number };

export class World {
  now = 0;
  lossRate = 0;
  violation: string | null = null;
  readonly routers: Router[];
  private readonly queue = new EventQueue<SimEvent>();

  constructor(
    private readonly rng: Rng,
    settings: readonly InstanceSettings[],
    private readonly net: NetConfig,
    private readonly stepFn: StepFn,
    readonly trace: string[] | null,
  ) {
    this.routers = settings.map((s, id) => ({
      id,
      settings: s,
      state: null,
      incarnation: 0,
      group: 0,
      vips: false,
      tokens: { 'master-down': 0, advert: 0, 'preempt-delay': 0 },
      transitions: 0,
      sentInWindow: 0,
      windowStartMs: 0,
    }));
  }

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

  name(r: Router): string {
    return `r${r.id}(${r.settings.primaryAddress} p${r.state?.effectivePriority ?? r.settings.priority}${r.settings.preempt ? '' : ' nopreempt'})`;
  }

  /** Process every event due at or before t, then set the clock to t. */
  runUntil(t: number): void {
    while (this.violation === null && this.queue.peekTime() <= t) {
      const next = this.queue.pop();
      if (next === undefined) break;
      this.now = next.at;
      this.handle(next.event);
    }
    this.now = Math.max(this.now, t);
  }

  private handle(ev: SimEvent): void {
    if (ev.kind === 'deliver') {
      const r = this.routers[ev.to];
      if (r?.state == null) return;
      this.log(() => `${this.name(r)} <- advert from ${ev.advert.from} p${ev.advert.priority}`);
      this.input(r, ev.advert);
      return;
    }
    const r = this.routers[ev.router];
    if (r?.state == null || r.incarnation !== ev.incarnation) return;
    if (!this.net.sloppyShell && r.tokens[ev.timer] !== ev.token) return;
    this.log(() => `${this.name(r)} timer ${ev.timer}`);
    this.input(r, { type: 'timer', timer: ev.timer });
  }

  /** Feed one input to a live router and carry out the effects. */
  input(r: Router, input: Input): void {
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
          this.broadcast(r, e.priority);
          break;
        case 'arm-timer': {
          if (!Number.isFinite(e.deadlineMs) || e.deadlineMs < this.now) {
            this.fail(`${this.name(r)} armed ${e.timer} at ${e.deadlineMs}, now is ${this.now}`);
          }
          const token = ++r.tokens[e.timer];
          this.queue.push(e.deadlineMs, { kind: 'timer', router: r.id, incarnation: r.incarnation, timer: e.timer, token });
          break;
        }
        case 'cancel-timer':
          if (!this.net.sloppyShell) r.tokens[e.timer]++;
          break;
        case 'add-vips':
          if (r.vips) this.fail(`${this.name(r)} add-vips while holding them`);
          r.vips = true;
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

  private broadcast(from: Router, priority: number): void {
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

  /** Fresh process: createInstance + start (the effective priority starts at the configured one). */
  boot(r: Router): void {
    r.incarnation++;
    r.vips = false;
    r.state = createInstance(r.settings, this.now);
    this.log(() => `${this.name(r)} boot`);
    this.input(r, { type: 'start' });
  }

  /** The router disappears silently (power loss); its VIPs die with it. */
  crash(r: Router): void {
    this.log(() => `${this.name(r)} CRASH`);
    r.state = null;
    r.vips = false;
    r.incarnation++;
  }

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
