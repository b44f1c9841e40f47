/**
 * Deterministic simulation of "never two masters": routers with TWO networks.
 *
 * - `int`, the VRRP network: carries VRRP advertisements (multicast) and peer hellos;
 * - `ext`, the external network: carries peer hellos and reaches the witness.
 *
 * Each router runs the same pure core the agent runs: `step` (state machine) and the peer guard
 * (src/core/peer/guard.ts: epoch acceptance, notePeer, helloAsAdvert, the isolation rule), and
 * carries out the guard's effects as src/daemon/instance-peers.ts does (inputs to step in order;
 * epochs and config notices have nothing to act on here: every hello carries epoch 0 and the
 * same fingerprint). The simulation only supplies what the daemon's adapters do:
 * - a hello is sent on every path every advert interval (phase random per boot) and at once
 *   after each transition; a received hello goes to the guard's onHello;
 * - an accepted VRRP advert goes to the guard's onVrrpHeard, then to step;
 * - the guard is also evaluated periodically and on a witness change, and, with the agent's
 *   timing, right before a Master_Down expiry is fed to step (beforeMasterDown);
 * - the witness is probed in rounds (interval and timeout of the timing under test); a round
 *   succeeds iff the router's external link is up when it starts; the verdict is undefined
 *   until the first round completes.
 * The network: per router and path a link (up/down); per path and direction a drop flag
 * (asymmetric loss); per path a random loss rate; every copy is delayed 0..maxDelayMs and may be
 * duplicated. Whether a packet gets through is decided at send time (packets on the wire when a
 * link goes down still arrive).
 *
 * Invariant 1 is checked continuously here (see `monitor`); the per-phase invariants 2-4 are in
 * `runPathsSeed` below.
 */
import { compareRank, preemptMode } from '../../src/core/fsm/election.js';
import { step } from '../../src/core/fsm/step.js';
import { masterDownIntervalMs } from '../../src/core/fsm/timers.js';
import type { AdvertInput, Input, InstanceSettings, InstanceState, VrrpVersion } from '../../src/core/fsm/types.js';
import {
  beforeMasterDown, evaluateIsolation, GUARD_RULES, newPeerGuard, onHello, onVrrpHeard, type GuardEffect, type GuardNow, type PeerGuard,
} from '../../src/core/peer/guard.js';
import type { Hello } from '../../src/core/peer/hello.js';
import { helloAsAdvert, isIsolated } from '../../src/core/peer/rules.js';
import {
  describeRouters,
  failureReport,
  newRouter,
  noFlapping,
  randomSettings,
  runEpochs,
  SimWorld,
  type SimRouter,
  type StateChanged,
  type StepFn,
  type TimerEvent,
} from './common.js';
import { mulberry32, type Rng } from './prng.js';
import { guardTiming } from '../../src/core/peer/timing.js';

export type { StepFn } from './common.js';

/**
 * The pure decisions under test; the broken variants of paths.test.ts replace some. The two peer
 * rules are injected into the guard (its other rules stay the real ones).
 */
export interface PeerRules {
  readonly step: StepFn;
  readonly helloAsAdvert: typeof helloAsAdvert;
  readonly isIsolated: typeof isIsolated;
}

export const REAL_RULES: PeerRules = Object.freeze({ step, helloAsAdvert, isIsolated });

/** Every router has the same config fingerprint (no mismatch notices in this model). */
const SIM_FINGERPRINT = '5a5a5a5a5a5a5a5a';

/** A router's peer guard as the agent builds it, with the rules under test injected. */
function newGuard(s: InstanceSettings, net: PathsNet, rules: PeerRules): PeerGuard {
  return newPeerGuard({
    advertIntervalCs: s.advertIntervalCs,
    fingerprint: SIM_FINGERPRINT,
    witnessConfigured: net.witness,
    rules: { ...GUARD_RULES, helloAsAdvert: rules.helloAsAdvert, isIsolated: rules.isIsolated },
  });
}

export type Path = 'int' | 'ext';
export const PATHS: readonly Path[] = ['int', 'ext'];

export interface PathsNet {
  readonly maxDelayMs: number;
  readonly dupRate: number;
  readonly witness: boolean;
  readonly witnessIntervalMs: number;
  readonly witnessTimeoutMs: number;
  /** How often the isolation rule is evaluated besides on hellos, adverts and witness changes. */
  readonly evalEveryMs: number;
  /**
   * true: the agent's timing (the guard's own silences, and the check before a Master_Down
   * expiry); false: the first wiring, silence = the router's Master_Down_Interval, no such check.
   */
  readonly guardSilences: boolean;
  /** Invariant 1: how long two holders may coexist once a path works both ways. */
  readonly dualAllowanceMs: number;
}

export interface PRouter extends SimRouter {
  readonly node: string;
  vipSinceMs: number;
  /** The agent's peer guard state (afresh with every boot). */
  guard: PeerGuard;
  witness: boolean | undefined;
  /** Hello boot nonce of this incarnation, and the hello counter within it. */
  boot: string;
  bootMs: number;
  seq: number;
  readonly links: Record<Path, boolean>;
  /** Transitions into FAULT (e.g. the 'isolated' fault). */
  faultEntries: number;
  /** Last time any hello or advert was received. */
  lastRxMs: number;
  /** When the router last took the VIPs: time, lastRxMs and witness verdict then. */
  took: { readonly atMs: number; readonly rxMs: number; readonly witness: boolean | undefined } | null;
}

/** A span during which a router held the VIPs. */
export interface HoldSpan {
  readonly router: number;
  readonly fromMs: number;
  readonly toMs: number;
}

type Ev =
  | { readonly kind: 'advert'; readonly to: number; readonly advert: AdvertInput }
  | { readonly kind: 'hello'; readonly to: number; readonly path: Path; readonly hello: Hello }
  | { readonly kind: 'hello-tick' | 'hello-now' | 'eval-tick' | 'witness-start'; readonly router: number; readonly inc: number }
  | { readonly kind: 'witness-done'; readonly router: number; readonly inc: number; readonly ok: boolean; readonly startedMs: number }
  | { readonly kind: 'dual-check'; readonly key: string; readonly since: number };

export class PathsWorld extends SimWorld<PRouter, Ev> {
  readonly drop: Record<Path, boolean[][]>;
  readonly loss: Record<Path, number> = { int: 0, ext: 0 };
  /** Longest two-holder episode with a working path seen so far (within the allowance). */
  maxDualMs = 0;
  /**
   * Needless takeovers: a router took the VIPs while it already knew its witness unreachable,
   * then fenced itself ('isolated') without having heard anything since - its own isolation
   * rule would have kept it out had it been asked first.
   */
  readonly needless: HoldSpan[] = [];
  /** Invariant 1: pair key -> since when both hold the VIPs with a path working both ways. */
  private readonly dual = new Map<string, number>();

  constructor(
    rng: Rng,
    settings: readonly InstanceSettings[],
    readonly net: PathsNet,
    private readonly rules: PeerRules,
    trace: string[] | null,
  ) {
    super(
      rng,
      settings.map((s, id) => ({
        ...newRouter(id, s),
        node: `r${id}`,
        vipSinceMs: 0,
        guard: newGuard(s, net, rules),
        witness: undefined,
        boot: '0'.repeat(16),
        bootMs: 0,
        seq: 0,
        links: { int: true, ext: true },
        faultEntries: 0,
        lastRxMs: -Infinity,
        took: null,
      })),
      rules.step,
      trace,
    );
    const n = settings.length;
    const grid = (): boolean[][] => Array.from({ length: n }, () => Array.from({ length: n }, () => false));
    this.drop = { int: grid(), ext: grid() };
  }

  name(r: PRouter): string {
    const st = r.state === null ? 'crashed' : r.state.state;
    return `r${r.id}(${r.settings.primaryAddress} p${r.state?.effectivePriority ?? r.settings.priority} ${st})`;
  }

  protected override afterEvent(): void {
    this.monitor();
  }

  protected handle(ev: Ev | TimerEvent): void {
    switch (ev.kind) {
      case 'advert': {
        const r = this.live(ev.to);
        if (r === undefined) return;
        this.log(() => `${this.name(r)} <- int advert from ${ev.advert.from} p${ev.advert.priority}`);
        // As the advert intake: the guard hears it (isolation), then the advert goes to step.
        r.lastRxMs = this.now;
        this.applyGuard(r, onVrrpHeard(r.guard, this.guardNow(r)));
        this.input(r, ev.advert);
        return;
      }
      case 'hello': {
        const r = this.live(ev.to);
        if (r === undefined) return;
        const h = ev.hello;
        this.log(() => `${this.name(r)} <- ${ev.path} hello from ${h.node} ${h.state} p${h.priority} seq${h.seq}`);
        // The guard decides (a replay is dropped, a copy from another path only refreshes that
        // path); its effects are carried out in order.
        const verdict = onHello(r.guard, h, ev.path, { ...this.guardNow(r), ownEpoch: 0, ourVrrpAddress: r.settings.primaryAddress });
        if (!verdict.accepted) {
          this.log(() => `${this.name(r)} dropped the hello: ${verdict.reason} (${verdict.detail})`);
          return;
        }
        r.lastRxMs = this.now;
        this.applyGuard(r, verdict.effects);
        return;
      }
      case 'timer': {
        const r = this.timerTarget(ev);
        if (r === undefined) return;
        // As the runner's beforeMasterDown: the guard's stricter check before the expiry is fed,
        // so a cut-off backup fences itself instead of taking over (timing 'short' = the agent).
        if (ev.timer === 'master-down' && this.net.guardSilences && r.state !== null) {
          this.applyGuard(r, beforeMasterDown(r.guard, this.guardNow(r)));
          if (r.state === null || this.stale(r, ev) || r.state.timers['master-down'] === null) return;
        }
        this.input(r, { type: 'timer', timer: ev.timer });
        return;
      }
      case 'hello-tick':
      case 'hello-now': {
        const r = this.live(ev.router, ev.inc);
        if (r === undefined) return;
        this.sendHellos(r);
        if (ev.kind === 'hello-tick') this.queue.push(this.now + this.advertMs(r), ev);
        return;
      }
      case 'eval-tick': {
        const r = this.live(ev.router, ev.inc);
        if (r === undefined) return;
        this.evaluate(r);
        this.queue.push(this.now + this.net.evalEveryMs, ev);
        return;
      }
      case 'witness-start': {
        const r = this.live(ev.router, ev.inc);
        if (r === undefined) return;
        const ok = r.links.ext;
        const took = ok ? this.rng.int(1, Math.min(30, this.net.witnessTimeoutMs)) : this.net.witnessTimeoutMs;
        this.queue.push(this.now + took, { kind: 'witness-done', router: r.id, inc: r.incarnation, ok, startedMs: this.now });
        return;
      }
      case 'witness-done': {
        const r = this.live(ev.router, ev.inc);
        if (r === undefined) return;
        const next = Math.max(ev.startedMs + this.net.witnessIntervalMs, this.now);
        this.queue.push(next, { kind: 'witness-start', router: r.id, inc: r.incarnation });
        if (r.witness === ev.ok) return;
        r.witness = ev.ok;
        if (ev.ok) r.took = null; // a takeover with the witness back in view is not needless
        this.log(() => `${this.name(r)} witness ${ev.ok ? 'reachable' : 'UNREACHABLE'}`);
        this.evaluate(r);
        return;
      }
      case 'dual-check':
        if (this.dual.get(ev.key) === ev.since) {
          const [a, b] = ev.key.split(',').map((k) => this.routers[Number(k)]);
          const works = a !== undefined && b !== undefined ? this.workingPaths(a, b).join('+') : '?';
          this.fail(
            `INVARIANT 1: ${a ? this.name(a) : '?'} and ${b ? this.name(b) : '?'} both hold the VIPs since t=${ev.since} ` +
              `(> ${this.net.dualAllowanceMs}ms) although path ${works} works both ways`,
          );
        }
        return;
    }
  }

  private advertMs(r: PRouter): number {
    return r.settings.advertIntervalCs * 10;
  }

  masterDownMs(r: PRouter): number {
    const s = r.state;
    if (s === null) return Infinity;
    return masterDownIntervalMs(s.effectivePriority, s.masterAdverIntervalCs, s.settings.version);
  }

  /**
   * What the guard is told of the moment. The first wiring ('mdi') counts silence against the
   * router's current Master_Down_Interval instead of the guard's own silence.
   */
  private guardNow(r: PRouter): GuardNow {
    return { nowMs: this.now, witnessReachable: r.witness, ...(this.net.guardSilences ? {} : { silenceMs: this.masterDownMs(r) }) };
  }

  /** The periodic / witness-change evaluation (not for a crashed router). */
  private evaluate(r: PRouter): void {
    if (r.state === null) return;
    this.applyGuard(r, evaluateIsolation(r.guard, this.guardNow(r)));
  }

  /** Carries out the guard's effects as the daemon does; epochs and config notices have no use here. */
  private applyGuard(r: PRouter, effects: readonly GuardEffect[]): void {
    for (const e of effects) {
      if (e.type === 'isolation') this.log(() => `${this.name(r)} ${e.active ? 'ISOLATED' : 'no longer isolated'}`);
      else if (e.type === 'input') this.input(r, e.input);
    }
  }

  /** VIP-holding bookkeeping: when r took them, and what it had heard and known then. */
  protected override tookVips(r: PRouter): void {
    r.vipSinceMs = this.now;
    r.took = { atMs: this.now, rxMs: r.lastRxMs, witness: r.witness };
  }

  protected override transitioned(r: PRouter, e: StateChanged, input: Input): void {
    if (e.to === 'FAULT') r.faultEntries++;
    if (e.from === 'MASTER' && e.to === 'FAULT' && input.type === 'fault' && input.source === 'isolated') {
      const took = r.took;
      if (took !== null && took.witness === false && took.rxMs === r.lastRxMs) {
        this.needless.push({ router: r.id, fromMs: took.atMs, toMs: this.now });
        this.log(() => `(needless takeover: held the VIPs ${this.now - took.atMs}ms while isolated)`);
      }
    }
    // agent: a hello at once after every transition.
    this.queue.push(this.now, { kind: 'hello-now', router: r.id, inc: r.incarnation });
  }

  /** Does a packet from `a` to `b` on `p` get onto the wire (links, drop flags; not random loss)? */
  connected(p: Path, a: PRouter, b: PRouter): boolean {
    return a.links[p] && b.links[p] && !(this.drop[p][a.id]?.[b.id] ?? false);
  }

  /** Whether the isolation rule may fence `r`: a witness is configured, r cannot reach it, and no live router gets through to r. */
  mayBeIsolated(r: PRouter): boolean {
    if (!this.net.witness || r.links.ext) return false;
    return !this.routers.some((q) => q !== r && q.state !== null && PATHS.some((p) => this.connected(p, q, r)));
  }

  /** Paths working in both directions between a and b: connected both ways, no random loss. */
  workingPaths(a: PRouter, b: PRouter): Path[] {
    return PATHS.filter((p) => this.loss[p] === 0 && this.connected(p, a, b) && this.connected(p, b, a));
  }

  private transmit(p: Path, from: PRouter, ev: (to: PRouter) => Ev): void {
    for (const to of this.routers) {
      if (to === from || !this.connected(p, from, to)) continue;
      if (this.rng.chance(this.loss[p])) continue;
      this.queue.push(this.now + this.rng.int(0, this.net.maxDelayMs), ev(to));
      if (this.rng.chance(this.net.dupRate)) this.queue.push(this.now + this.rng.int(0, this.net.maxDelayMs), ev(to));
    }
  }

  protected override sendAdvert(from: PRouter, priority: number): void {
    this.log(() => `${this.name(from)} -> int advert p${priority}`);
    const advert: AdvertInput = { type: 'advert', from: from.settings.primaryAddress, priority, maxAdvertIntervalCs: from.settings.advertIntervalCs };
    this.transmit('int', from, (to) => ({ kind: 'advert', to: to.id, advert }));
  }

  private sendHellos(from: PRouter): void {
    const s = from.state;
    if (s === null) return;
    from.seq += 1;
    const hello: Hello = {
      v: 2,
      instance: s.settings.name,
      vrid: s.settings.vrid,
      node: from.node,
      state: s.state,
      priority: s.effectivePriority,
      vrrpAddress: s.settings.primaryAddress,
      advertIntervalCs: s.settings.advertIntervalCs,
      epoch: 0,
      fingerprint: SIM_FINGERPRINT,
      boot: from.boot,
      bootMs: from.bootMs,
      seq: from.seq,
    };
    for (const p of PATHS) this.transmit(p, from, (to) => ({ kind: 'hello', to: to.id, path: p, hello }));
  }

  /**
   * Invariant 1, run after every event and disturbance: two routers holding the VIPs while at
   * least one path between them works in both directions must not last longer than
   * dualAllowanceMs (one advert interval + max delay: the loser hears the winner's next hello
   * or advert). A 'dual-check' event fires when the allowance runs out.
   */
  monitor(): void {
    const rs = this.routers;
    for (let i = 0; i < rs.length; i++) {
      for (let j = i + 1; j < rs.length; j++) {
        const a = rs[i];
        const b = rs[j];
        if (a === undefined || b === undefined) continue;
        const key = `${i},${j}`;
        if (a.vips && b.vips && this.workingPaths(a, b).length > 0) {
          if (!this.dual.has(key)) {
            this.dual.set(key, this.now);
            this.queue.push(this.now + this.net.dualAllowanceMs + 1, { kind: 'dual-check', key, since: this.now });
          }
        } else {
          const since = this.dual.get(key);
          if (since !== undefined) {
            this.maxDualMs = Math.max(this.maxDualMs, this.now - since);
            this.dual.delete(key);
          }
        }
      }
    }
  }

  // ---- disturbances -------------------------------------------------------------------------

  /** The agent's state starts afresh with the process. */
  protected override booted(r: PRouter): void {
    r.guard = newGuard(r.settings, this.net, this.rules);
    r.witness = undefined;
    r.lastRxMs = -Infinity;
    r.took = null;
    r.boot = [this.rng.int(0, 0xffff_ffff), this.rng.int(0, 0xffff_ffff)].map((n) => n.toString(16).padStart(8, '0')).join('');
    r.bootMs = this.now;
    r.seq = 0;
  }

  override boot(r: PRouter): void {
    super.boot(r);
    const inc = r.incarnation;
    const A = this.advertMs(r);
    this.queue.push(this.now + this.rng.int(1, A), { kind: 'hello-tick', router: r.id, inc });
    if (this.net.witness) {
      this.queue.push(this.now + this.rng.int(1, this.net.evalEveryMs), { kind: 'eval-tick', router: r.id, inc });
      this.queue.push(this.now, { kind: 'witness-start', router: r.id, inc });
    }
    this.monitor();
  }

  override crash(r: PRouter): void {
    super.crash(r);
    this.monitor();
  }

  setLink(r: PRouter, p: Path, up: boolean): void {
    r.links[p] = up;
    this.log(() => `r${r.id} ${p} link ${up ? 'UP' : 'DOWN'}`);
    this.monitor();
  }

  setDrop(p: Path, from: number, to: number, on: boolean): void {
    const row = this.drop[p][from];
    if (row !== undefined) row[to] = on;
    this.log(() => `${p} r${from}->r${to} ${on ? 'DROPPED' : 'delivered'}`);
    this.monitor();
  }

  setLoss(p: Path, rate: number): void {
    this.loss[p] = rate;
    this.log(() => `${p} loss=${rate}`);
    this.monitor();
  }

  /** Everything up, nothing dropped, no loss. */
  healAll(): void {
    for (const r of this.routers) for (const p of PATHS) r.links[p] = true;
    for (const p of PATHS) {
      this.loss[p] = 0;
      for (const row of this.drop[p]) row.fill(false);
    }
    this.log(() => 'HEAL all');
    this.monitor();
  }
}

// ---- one seeded run --------------------------------------------------------------------------

/**
 * How the isolation rule is wired, as functions of the advert interval A (ms):
 * - 'short' (the agent): the guard's timing, guardTiming() of src/core/peer/timing.ts, as the
 *   daemon takes it (silence 2A + 50 ms, the stricter check before a Master_Down expiry,
 *   evaluated every max(20, A/2) ms, witness probed every max(100, A) ms with max(50,
 *   min(1000, A/2)) ms to answer);
 * - 'mdi' (the first wiring, kept to show the gap it had): silence = the router's
 *   Master_Down_Interval, no check before the expiry, evaluated every A; witness probed every
 *   max(200, A) ms, timeout max(100, min(1000, A)) ms. Deliberately not the agent's timing.
 */
export type IsolationTiming = 'mdi' | 'short';

function timingOf(timing: IsolationTiming, A: number): Pick<PathsNet, 'witnessIntervalMs' | 'witnessTimeoutMs' | 'evalEveryMs' | 'guardSilences'> {
  if (timing === 'mdi') {
    return { witnessIntervalMs: Math.max(200, A), witnessTimeoutMs: Math.max(100, Math.min(1000, A)), evalEveryMs: A, guardSilences: false };
  }
  const g = guardTiming(A / 10);
  return { witnessIntervalMs: g.witness.intervalMs, witnessTimeoutMs: g.witness.timeoutMs, evalEveryMs: g.checkEveryMs, guardSilences: true };
}

export interface PathsOptions {
  /** Witness configured on every router (the main mode) or not. */
  readonly witness: boolean;
  /** Default 'mdi'. */
  readonly timing?: IsolationTiming;
  readonly rules?: PeerRules;
  readonly trace?: boolean;
}

export type PhaseKind = 'heal' | 'cut-int' | 'cut-ext' | 'asym' | 'isolate';

export interface PathsStats {
  /** Stable phases with one router fully isolated (and alive). */
  isolations: number;
  /** ... in which another router also held the VIPs at the check (no-witness mode: expected). */
  isolatedDualHolders: number;
  /** Needless takeovers (see PathsWorld.needless). */
  needless: number;
  /** Longest such hold (ms). */
  needlessMaxMs: number;
  /** Seed/time of the longest one, for the report. */
  needlessExample: string | null;
  /** Invariant 1: longest two-holder episode with a working path, as a fraction of the allowance. */
  maxDualFraction: number;
}

export interface PathsResult {
  readonly seed: number;
  readonly violation: string | null;
  readonly trace: readonly string[] | null;
  readonly description: string;
  readonly stats: PathsStats;
}

interface Params {
  readonly version: VrrpVersion;
  readonly A: number;
  readonly maxDelayMs: number;
  readonly maxPreemptDelayMs: number;
}

function makeSettings(rng: Rng): { settings: InstanceSettings[]; params: Params } {
  const n = rng.chance(0.8) ? 2 : 3;
  const version: VrrpVersion = rng.chance(0.5) ? 2 : 3;
  const { settings, advertIntervalCs } = randomSettings(rng, {
    n,
    version,
    family: 4,
    name: () => 'VI_1',
    allPreemptChance: 0.6,
    delayChance: 0.2,
    maxPreemptDelayIntervals: 2,
  });
  const A = advertIntervalCs * 10;
  const maxDelayMs = Math.round(rng.pick([0, A / 20, A / 4, A / 2, A]));
  return { settings, params: { version, A, maxDelayMs, maxPreemptDelayMs: Math.max(...settings.map((s) => s.preemptDelayMs)) } };
}

function chaos(world: PathsWorld, rng: Rng): void {
  const rs = world.routers;
  const live = rs.filter((r) => r.state !== null);
  const crashed = rs.filter((r) => r.state === null);
  const path = (): Path => rng.pick(PATHS);
  const pair = (): [number, number] => {
    const a = rng.int(0, rs.length - 1);
    const b = (a + rng.int(1, rs.length - 1)) % rs.length;
    return [a, b];
  };
  const kind = rng.pick(['cut', 'restore', 'isolate', 'asym', 'asym-both', 'loss', 'heal', 'heal', 'crash', 'boot'] as const);
  switch (kind) {
    case 'cut':
    case 'restore':
      world.setLink(rng.pick(rs), path(), kind === 'restore');
      return;
    case 'isolate': {
      const r = rng.pick(rs);
      for (const p of PATHS) world.setLink(r, p, false);
      return;
    }
    case 'asym': {
      const [a, b] = pair();
      world.setDrop(path(), a, b, rng.chance(0.8));
      return;
    }
    case 'asym-both': {
      const [a, b] = pair();
      for (const p of PATHS) world.setDrop(p, a, b, true);
      return;
    }
    case 'loss':
      if (rng.chance(0.3)) for (const p of PATHS) world.setLoss(p, rng.pick([0.1, 0.3, 0.6]));
      else world.setLoss(path(), rng.pick([0.1, 0.3, 0.6, 1]));
      return;
    case 'heal':
      world.healAll();
      return;
    case 'crash':
      if (live.length > 0) world.crash(rng.pick(live));
      return;
    case 'boot':
      if (crashed.length > 0) world.boot(rng.pick(crashed));
      return;
  }
}

function isRunning(r: PRouter): r is PRouter & { state: InstanceState } {
  return r.state !== null && (r.state.state === 'BACKUP' || r.state.state === 'MASTER');
}

/**
 * Invariant 4 (and the "other side" of 2) on a set of routers that all hear each other: exactly
 * one MASTER among the running ones; no preempting router outranks it by priority (RFC 9568
 * §6.4.2: a backup accepts an advert of EQUAL priority, so among equals the incumbent stays);
 * and it outranks (priority, then address: the §6.4.3 tie-break) every router of the set that
 * was MASTER when the phase began, i.e. when a split brain heals the RFC choice wins.
 */
function checkOneMaster(world: PathsWorld, set: readonly PRouter[], mastersAtStart: ReadonlyMap<number, number>): string | null {
  // A live router that hears a live peer on some path, or reaches the witness (or has none),
  // must be in service: FAULT here means a wrong isolation verdict. (A lone survivor that lost
  // the witness rightly fences itself: it cannot tell a dead peer from its own cut-off.)
  const fenced = set.find((r) => r.state !== null && !isRunning(r) && !world.mayBeIsolated(r));
  if (fenced !== undefined) return `${world.name(fenced)} is out of service although it is not isolated`;
  const running = set.filter(isRunning);
  if (running.length === 0) return null;
  const masters = running.filter((r) => r.state.state === 'MASTER');
  const names = (rs: readonly PRouter[]): string => rs.map((r) => world.name(r)).join(', ');
  if (masters.length !== 1) return `${masters.length} masters [${names(masters)}] among [${names(running)}]`;
  const m = masters[0];
  if (m === undefined) return null;
  const rank = (r: PRouter & { state: InstanceState }): { priority: number; address: string } => ({
    priority: r.state.effectivePriority,
    address: r.settings.primaryAddress,
  });
  for (const p of running) {
    if (p === m) continue;
    if (preemptMode(p.state) && p.state.effectivePriority > m.state.effectivePriority) {
      return `${world.name(p)} preempts and outranks master ${world.name(m)}`;
    }
    // A master that went through FAULT (e.g. fenced itself on a stale isolation verdict) since
    // the phase began rightly lost its claim.
    if (mastersAtStart.get(p.id) === p.faultEntries && compareRank(rank(p), rank(m)) > 0) {
      return `split brain resolved the wrong way: ${world.name(p)} (master at the phase start) outranks the survivor ${world.name(m)}`;
    }
  }
  return null;
}

export function runPathsSeed(seed: number, opts: PathsOptions): PathsResult {
  const rng = mulberry32(seed);
  const { settings, params } = makeSettings(rng);
  const { A, maxDelayMs: D } = params;
  const net: PathsNet = {
    maxDelayMs: D,
    dupRate: rng.pick([0, 0.05, 0.2]),
    witness: opts.witness,
    ...timingOf(opts.timing ?? 'mdi', A),
    dualAllowanceMs: A + D,
  };
  const trace = opts.trace === true ? [] : null;
  const world = new PathsWorld(rng, settings, net, opts.rules ?? REAL_RULES, trace);
  const description =
    `seed=${seed} witness=${opts.witness} timing=${opts.timing ?? 'mdi'} v${params.version} interval=${A}ms maxDelay=${D}ms dup=${net.dupRate} routers=[${describeRouters(settings)}]`;
  world.log(() => description);
  const stats: PathsStats = { isolations: 0, isolatedDualHolders: 0, needless: 0, needlessMaxMs: 0, needlessExample: null, maxDualFraction: 0 };
  const done = (violation: string | null): PathsResult => {
    stats.maxDualFraction = world.maxDualMs / net.dualAllowanceMs;
    stats.needless = world.needless.length;
    for (const h of world.needless) {
      if (h.toMs - h.fromMs >= stats.needlessMaxMs) {
        stats.needlessMaxMs = h.toMs - h.fromMs;
        stats.needlessExample = `seed=${seed} r${h.router} t=${h.fromMs}..${h.toMs} (interval ${A}ms)`;
      }
    }
    return { seed, violation, trace, description, stats };
  };

  // Invariants 2 and 4: Master_Down_Interval (the slowest, priority 1) + 2 advert intervals, plus
  // the network's delays (3: an advert in flight at the change, the new master's first one, the
  // reply), the preempt delay, and with a witness one probe period (interval + timeout).
  const witnessPeriod = opts.witness ? net.witnessIntervalMs + net.witnessTimeoutMs : 0;
  const bound = masterDownIntervalMs(1, A / 10, params.version) + 2 * A + 3 * D + params.maxPreemptDelayMs + witnessPeriod;

  const violation = runEpochs(world, rng, { A, epochs: 4, chaosSpanMs: 8 * A, maxDisturbances: 7, disturb: chaos }, (epoch) => {
    // Stable phase: one network condition, no loss, no crash, until the checks.
    const T = world.now;
    const kind = rng.pick(['heal', 'heal', 'cut-int', 'cut-ext', 'asym', 'isolate', 'isolate'] as const satisfies readonly PhaseKind[]);
    world.healAll();
    for (const r of world.routers) if (r.state === null && rng.chance(0.6)) world.boot(r);
    const victim = rng.pick(world.routers);
    switch (kind) {
      case 'heal':
        break;
      case 'cut-int':
      case 'cut-ext':
        world.setLink(victim, kind === 'cut-int' ? 'int' : 'ext', false);
        break;
      case 'asym': {
        const other = world.routers.find((r) => r !== victim);
        if (other !== undefined) world.setDrop(rng.pick(PATHS), victim.id, other.id, true);
        break;
      }
      case 'isolate':
        for (const p of PATHS) world.setLink(victim, p, false);
        break;
    }
    const mastersAtStart = new Map(world.routers.filter((r) => r.vips).map((r) => [r.id, r.faultEntries]));
    world.log(() => `--- epoch ${epoch}: stable phase ${kind}${kind === 'heal' ? '' : ` r${victim.id}`}, checking at t=${T + bound}`);
    const victimLive = victim.state !== null;
    world.runUntil(T + bound);
    if (world.violation !== null) return world.violation;

    const others = world.routers.filter((r) => r !== victim);
    let problem: string | null;
    if (kind === 'isolate') {
      if (victimLive) stats.isolations++;
      const holders = world.routers.filter((r) => r.vips);
      if (victim.vips && holders.length > 1) stats.isolatedDualHolders++;
      problem = checkOneMaster(world, others, mastersAtStart);
      if (problem !== null) problem = `INVARIANT 2 (others of isolated r${victim.id}): ${problem}`;
      else if (opts.witness && victim.vips) {
        problem = `INVARIANT 2: isolated ${world.name(victim)} still holds the VIPs ${bound}ms after it was cut off`;
      }
    } else {
      // Every other condition leaves the routers connected by at least one path.
      problem = checkOneMaster(world, world.routers, mastersAtStart);
      if (problem !== null) problem = `INVARIANT ${kind === 'heal' ? 4 : 1} (${kind}): ${problem}`;
    }
    if (problem !== null) return `t=${world.now}: ${problem} ${bound}ms after the phase began`;

    // No flapping: nothing changes for the rest of the phase.
    return noFlapping(world, rng, T + bound, A, ` in phase ${kind}`);
  });
  return done(violation);
}

/** A failing seed, run again with tracing: description, violation, replay line, full trace. */
export function reportPathsSeed(seed: number, opts: PathsOptions): string | null {
  const quick = runPathsSeed(seed, { ...opts, trace: false });
  if (quick.violation === null) return null;
  const traced = runPathsSeed(seed, { ...opts, trace: true });
  return failureReport(
    'PATHS SIMULATION FAILED',
    quick.description,
    traced,
    `PATHS_SEED=${seed}${opts.witness ? '' : ' PATHS_WITNESS=0'}${opts.timing === 'short' ? ' PATHS_TIMING=short' : ''} npx tap --reporter=tap test/sim/paths.test.ts`,
  );
}
