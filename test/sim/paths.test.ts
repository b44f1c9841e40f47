/**
 * "Never two masters": two (sometimes three) routers with two networks, the VRRP
 * network (adverts + hellos) and the external one (hellos + the witness), driven by the real
 * pure core the agent runs (step and the peer guard, src/core/peer/guard.ts). See
 * paths-world.ts for the model.
 *
 * Invariants, on every seed:
 * 1. never two VIP holders for longer than one advert interval + max delay while at least one
 *    path between them works in both directions (checked continuously, through the chaos too);
 * 2. with a witness, a fully isolated router (both links down) holds no VIP once
 *    Master_Down_Interval + one witness probe period (+ delays) have passed, and the others
 *    have exactly one master;
 * 3. without a witness, full isolation gives two holders: unavoidable (each side only knows it
 *    hears nobody), asserted to HAPPEN so the test shows what the witness buys;
 * 4. after a heal, within Master_Down_Interval + 2 advert intervals (+ delays), exactly one
 *    master, the RFC choice (see checkOneMaster in paths-world.ts), and no flapping after.
 *
 * Replay one seed with its trace:  PATHS_SEED=12 npx tap --reporter=tap test/sim/paths.test.ts
 *   (add PATHS_WITNESS=0 for the no-witness mode)
 * More seeds:                       PATHS_SEEDS=20000 npx tap test/sim/paths.test.ts
 */
import t, { type Test } from 'tap';
import type { Hello } from '../../src/core/peer/hello.js';
import { isIsolated, type IsolationInput } from '../../src/core/peer/rules.js';
import { REAL_RULES, reportPathsSeed, runPathsSeed, type PathsOptions, type PeerRules } from './paths-world.js';

const one = process.env['PATHS_SEED'];
const SEEDS = Number(process.env['PATHS_SEEDS'] ?? 1000);
const NO_WITNESS_SEEDS = Math.max(200, Math.floor(SEEDS / 5));
const SHORT_SEEDS = Math.max(200, Math.floor(SEEDS / 5));

function runMany(t: Test, count: number, opts: PathsOptions): ReturnType<typeof runPathsSeed>['stats'][] {
  const failed: number[] = [];
  const stats: ReturnType<typeof runPathsSeed>['stats'][] = [];
  for (let seed = 1; seed <= count; seed++) {
    const r = runPathsSeed(seed, opts);
    stats.push(r.stats);
    if (r.violation !== null) failed.push(seed);
  }
  const first = failed[0];
  if (first !== undefined) {
    console.error(reportPathsSeed(first, opts));
    const env = `PATHS_SEED=${first}${opts.witness ? '' : ' PATHS_WITNESS=0'}${opts.timing === 'short' ? ' PATHS_TIMING=short' : ''}`;
    t.fail(`${failed.length} seed(s) failed: ${failed.slice(0, 20).join(', ')}; replay: ${env}`);
  } else {
    t.pass(`${count} seeds`);
  }
  return stats;
}

function sum(stats: ReturnType<typeof runPathsSeed>['stats'][], key: 'isolations' | 'isolatedDualHolders' | 'needless'): number {
  return stats.reduce((n, s) => n + s[key], 0);
}

if (one !== undefined) {
  t.test(`replay paths seed ${one}`, (t) => {
    const timing = process.env['PATHS_TIMING'] === 'short' ? 'short' : 'mdi';
    const r = runPathsSeed(Number(one), { witness: process.env['PATHS_WITNESS'] !== '0', timing, trace: true });
    console.log([...(r.trace ?? []), `stats: ${JSON.stringify(r.stats)}`].join('\n'));
    t.equal(r.violation, null, r.violation ?? 'ok');
    t.end();
  });
} else {
  for (const timing of ['mdi', 'short'] as const) {
    const count = timing === 'mdi' ? SEEDS : SHORT_SEEDS;
    t.test(`with a witness (isolation timing '${timing}'): invariants 1, 2 and 4 hold on every seed`, (t) => {
      const stats = runMany(t, count, { witness: true, timing });
      const isolations = sum(stats, 'isolations');
      t.ok(isolations > count / 20, `${isolations} full isolations exercised`);
      t.equal(sum(stats, 'isolatedDualHolders'), 0, 'no second holder once the isolated router is fenced');
      const dual = Math.max(...stats.map((s) => s.maxDualFraction));
      t.comment(`invariant 1: longest two-holder episode with a working path = ${(100 * dual).toFixed(0)}% of the allowance (interval + max delay)`);
      const needless = sum(stats, 'needless');
      const worst = stats.reduce((w, s) => (s.needlessMaxMs > w.needlessMaxMs ? s : w));
      t.comment(
        `needless takeovers (VIPs taken while the witness was known unreachable and nothing heard since, then fenced): ` +
          `${needless} in ${count} seeds, longest ${worst.needlessMaxMs}ms (${worst.needlessExample ?? 'none'})`,
      );
      // Known gap of the committed wiring (timing 'mdi'), reported rather than asserted away: the
      // isolation rule waits for a Master_Down_Interval of silence, exactly what a backup's
      // Master_Down_Timer waits for, and the timer wins the race: a cut-off backup takes the VIPs
      // (master hook, GARP) and lets them go at the next evaluation, up to one interval later.
      // The shorter silence closes most of it; what remains is a backup whose Master_Down_Timer
      // was armed long before its last packet from a peer (no master yet, e.g. right after boot).
      // 'short' is the agent as built: isolation is also evaluated right before a
      // Master_Down_Timer expiry is acted on, so a cut-off backup fences itself. 'mdi' is the
      // first wiring, kept to show the gap it had.
      // Residual (seed 95 with PATHS_TIMING=short): a hello still in flight when the links were
      // cut arrives just before the Master_Down_Timer, so the backup does not count as isolated
      // yet, takes over, and is fenced at the next evaluation. Rare and short: asserted as such.
      if (timing === 'short') t.ok(needless <= Math.ceil(count / 100), `needless takeovers are rare (${needless} in ${count} seeds, at most 1%)`);
      else t.ok(needless > 0, `the first wiring (isolation after a full Master_Down_Interval) had needless takeovers: ${needless}`);
      t.end();
    });
  }

  t.test('without a witness: invariants 1 and 4 hold, and full isolation DOES give two holders (invariant 3)', (t) => {
    const stats = runMany(t, NO_WITNESS_SEEDS, { witness: false });
    const isolations = sum(stats, 'isolations');
    const dual = sum(stats, 'isolatedDualHolders');
    // Unavoidable: both sides only know that they hear nobody; without a third view the cut-off
    // router cannot tell that it is the one that is cut off, and keeps (or takes) the VIP.
    t.ok(dual > 0, `two holders in ${dual}/${isolations} full isolations without a witness`);
    t.end();
  });
}

/** A hello from a master is not taken as its advert: heartbeats are not redundant any more. */
const ignoresMasterHellos: PeerRules = { ...REAL_RULES, helloAsAdvert: (_h: Hello, _ours: string) => undefined };

/** The isolation rule without the witness check: a router that hears nobody always fences itself. */
const isolationWithoutWitness: PeerRules = {
  ...REAL_RULES,
  isIsolated: (i: IsolationInput) => isIsolated({ ...i, witnessReachable: false }),
};

/** The isolation rule without the peer check: no witness = isolated, whoever we hear. */
const isolationWithoutPeers: PeerRules = {
  ...REAL_RULES,
  isIsolated: (i: IsolationInput) => i.witnessReachable === false,
};

const broken: ReadonlyArray<readonly [string, PeerRules, RegExp]> = [
  ['ignoring hellos from a master', ignoresMasterHellos, /INVARIANT 1/],
  // Which seed shows it first depends on the timing: an isolation phase going wrong (invariant
  // 2), or a router that reaches the witness and still fences itself in another phase.
  ['isolating without the witness check', isolationWithoutWitness, /INVARIANT 2|out of service although it is not isolated/],
  ['isolating without the peer check', isolationWithoutPeers, /INVARIANT|flapping/],
];

for (const [what, rules, expected] of broken) {
  t.test(`the checker catches rules ${what}`, (t) => {
    const opts: PathsOptions = { witness: true, rules };
    let caught: number | null = null;
    for (let seed = 1; seed <= 300 && caught === null; seed++) {
      if (runPathsSeed(seed, opts).violation !== null) caught = seed;
    }
    t.not(caught, null, `caught within 300 seeds (first: ${caught})`);
    if (caught !== null) {
      t.match(runPathsSeed(caught, opts).violation, expected);
      t.match(reportPathsSeed(caught, opts), /PATHS SIMULATION FAILED[\s\S]*PATHS_SEED=\d+[\s\S]*trace:\n/, 'the report carries seed and trace');
      t.equal(runPathsSeed(caught, { witness: true }).violation, null, 'the real rules pass the same seed');
    }
    t.end();
  });
}

t.test('a run is a pure function of its seed (replay is faithful)', (t) => {
  for (const seed of [1, 7, 42]) {
    for (const witness of [true, false]) {
      const a = runPathsSeed(seed, { witness, trace: true });
      const b = runPathsSeed(seed, { witness, trace: true });
      t.same(a.trace, b.trace);
      t.same(runPathsSeed(seed, { witness }).stats, a.stats, 'tracing does not change the run');
      t.equal(runPathsSeed(seed, { witness }).violation, a.violation);
    }
  }
  t.end();
});
