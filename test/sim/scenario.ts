/**
 * One seeded simulation run: random routers and network, then epochs of
 *   chaos (random disturbances) -> stable period (no loss, no changes) -> checks.
 * Deterministic for a seed: replaying the seed with tracing on gives the same run.
 *
 * Checks at the end of each stable period's convergence bound (see convergenceBoundMs):
 * the invariant of invariants.ts, and at most `maxTransitionsPerStable` transitions during the
 * stable period so far; then, for the rest of the period, no transition at all (no flapping)
 * and the invariant still holds. World checks per-step invariants throughout.
 */
import { masterDownIntervalMs } from '../../src/core/fsm/timers.js';
import type { InstanceSettings, VrrpVersion } from '../../src/core/fsm/types.js';
import { step } from '../../src/core/fsm/step.js';
import { describeRouters, failureReport, noFlapping, PRIORITY_POOL, randomSettings, runEpochs } from './common.js';
import { checkConverged } from './invariants.js';
import { mulberry32, type Rng } from './prng.js';
import { World, type StepFn } from './world.js';

export interface SimOptions {
  readonly stepFn?: StepFn;
  readonly trace?: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly violation: string | null;
  readonly trace: readonly string[] | null;
  readonly description: string;
  readonly transitions: number;
}

export interface SimParams {
  readonly version: VrrpVersion;
  readonly advertIntervalCs: number;
  readonly maxDelayMs: number;
  readonly maxPreemptDelayMs: number;
  readonly routers: number;
}

/**
 * How long after the last disturbance T the invariant must hold. Worst chain: the first master
 * may only appear when a Master_Down_Timer fires, reset at the latest by an advertisement still
 * in flight at T (T + D + longest Master_Down_Interval, i.e. the lowest priority's); its first
 * advertisement reaches a preempting backup (+D), which waits out its preempt delay (+P) and
 * takes over; the old master hears that (+D) and steps down; one advertisement interval (+A)
 * covers the re-assertion round between two masters.
 */
export function convergenceBoundMs(p: SimParams): number {
  const A = p.advertIntervalCs * 10;
  const D = p.maxDelayMs;
  return masterDownIntervalMs(1, p.advertIntervalCs, p.version) + p.maxPreemptDelayMs + A + 3 * D;
}

/** Transitions allowed in one stable period before the checks: each router may settle twice. */
export function maxTransitionsPerStable(routers: number): number {
  return 3 * routers;
}

function makeSettings(rng: Rng): { settings: InstanceSettings[]; params: SimParams } {
  const n = rng.int(2, 5);
  const version: VrrpVersion = rng.chance(0.5) ? 2 : 3;
  const family = rng.chance(0.8) ? 4 : 6;
  const { settings, advertIntervalCs } = randomSettings(rng, {
    n,
    version,
    family,
    name: (i) => `VI_${i}`,
    allPreemptChance: 0.5,
    delayChance: 0.3,
    maxPreemptDelayIntervals: 3,
  });
  const A = advertIntervalCs * 10;
  const maxDelayMs = Math.round(rng.pick([0, A / 20, A / 4, A]));
  const params: SimParams = {
    version,
    advertIntervalCs,
    maxDelayMs,
    maxPreemptDelayMs: Math.max(...settings.map((s) => s.preemptDelayMs)),
    routers: n,
  };
  return { settings, params };
}

function disturb(world: World, rng: Rng): void {
  const rs = world.routers;
  const live = rs.filter((r) => r.state !== null);
  const crashed = rs.filter((r) => r.state === null);
  const stopped = live.filter((r) => r.state?.state === 'STOPPED');
  const kind = rng.pick(['loss', 'partition', 'heal', 'crash', 'boot', 'shutdown', 'start', 'priority', 'fault'] as const);
  switch (kind) {
    case 'loss':
      world.setLoss(rng.pick([0.1, 0.3, 0.6, 1]));
      return;
    case 'partition': {
      const parts = rng.int(1, 2);
      world.setGroups(rs.map(() => rng.int(0, parts)));
      return;
    }
    case 'heal':
      world.setGroups(rs.map(() => 0));
      return;
    case 'crash':
      if (live.length > 0) world.crash(rng.pick(live));
      return;
    case 'boot':
      if (crashed.length > 0) world.boot(rng.pick(crashed));
      return;
    case 'shutdown':
      if (live.length > 0) world.command(rng.pick(live), { type: 'shutdown' });
      return;
    case 'start':
      if (stopped.length > 0) world.command(rng.pick(stopped), { type: 'start' });
      return;
    case 'priority':
      if (live.length > 0) {
        const r = rng.pick(live);
        const p = rng.chance(0.5) ? rng.pick([...PRIORITY_POOL, r.settings.priority]) : rng.int(1, 254);
        world.command(r, { type: 'priority', effectivePriority: p });
      }
      return;
    case 'fault':
      if (live.length > 0) {
        const r = rng.pick(live);
        const active = !(r.state?.faults.includes('link') ?? false);
        world.command(r, { type: 'fault', source: 'link', active });
      }
      return;
  }
}

export function runSeed(seed: number, opts: SimOptions = {}): SimResult {
  const rng = mulberry32(seed);
  const { settings, params } = makeSettings(rng);
  const A = params.advertIntervalCs * 10;
  const net = {
    maxDelayMs: params.maxDelayMs,
    dupRate: rng.pick([0, 0.05, 0.3]),
    sloppyShell: rng.chance(0.3),
    maxSendsPerWindow: 4 * params.routers + 4,
    stormWindowMs: A,
  };
  const trace = opts.trace === true ? [] : null;
  const world = new World(rng, settings, net, opts.stepFn ?? step, trace);
  const description =
    `seed=${seed} v${params.version} interval=${params.advertIntervalCs}cs maxDelay=${net.maxDelayMs}ms dup=${net.dupRate} ` +
    `sloppyShell=${net.sloppyShell} routers=[${describeRouters(settings)}]`;
  world.log(() => description);
  const bound = convergenceBoundMs(params);
  const result = (violation: string | null): SimResult => ({
    seed,
    violation,
    trace,
    description,
    transitions: world.totalTransitions,
  });

  // Staggered boot, inside the first chaos phase; then epochs of chaos, each followed by:
  // a stable period from T: no loss, no more changes (an existing partition may stay).
  const violation = runEpochs(world, rng, { A, epochs: 3, chaosSpanMs: 6 * A, maxDisturbances: 6, disturb }, (epoch) => {
    const T = world.now;
    world.log(() => `--- epoch ${epoch}: stable from here, checking at t=${T + bound}`);
    world.setLoss(0);
    if (rng.chance(0.5)) world.setGroups(world.routers.map(() => 0));
    const before = world.totalTransitions;
    world.runUntil(T + bound);
    if (world.violation !== null) return world.violation;
    const converged = checkConverged(world);
    if (converged !== null) return `t=${world.now}: not converged ${bound}ms after the last disturbance: ${converged}`;
    const settled = world.totalTransitions;
    if (settled - before > maxTransitionsPerStable(params.routers)) {
      return `t=${world.now}: ${settled - before} transitions in one stable period (limit ${maxTransitionsPerStable(params.routers)})`;
    }
    const flapping = noFlapping(world, rng, T + bound, A);
    if (flapping !== null) return flapping;
    const still = checkConverged(world);
    return still === null ? null : `t=${world.now}: diverged while stable: ${still}`;
  });
  return result(violation);
}

/** Run a seed; on failure run it again with tracing and return the full report. */
export function reportSeed(seed: number, stepFn?: StepFn): string | null {
  const base = stepFn === undefined ? {} : { stepFn };
  const quick = runSeed(seed, base);
  if (quick.violation === null) return null;
  const traced = runSeed(seed, { ...base, trace: true });
  return failureReport(
    'SIMULATION FAILED',
    quick.description,
    traced,
    `SIM_SEED=${seed} npx tap --reporter=tap test/sim/sim.test.ts   (or: npx ts-node-esm test/sim/replay.ts ${seed})`,
  );
}
