/**
 * Deterministic simulation: 2000 seeds of 2..5 routers on a lossy, delaying, duplicating,
 * partitioning LAN with crashes, restarts, shutdowns, faults and priority changes
 * (see scenario.ts for the run and invariants.ts for what "converged" means).
 *
 * Replay one seed with its trace:  SIM_SEED=1234 npx tap --reporter=tap test/sim/sim.test.ts
 * More seeds:                       SIM_SEEDS=50000 npx tap test/sim/sim.test.ts
 */
import t from 'tap';
import { reportSeed, runSeed } from './scenario.js';

const one = process.env['SIM_SEED'];

if (one !== undefined) {
  t.test(`replay seed ${one}`, (t) => {
    const r = runSeed(Number(one), { trace: true });
    console.log([r.description, ...(r.trace ?? [])].join('\n'));
    t.equal(r.violation, null, r.violation ?? 'ok');
    t.end();
  });
} else {
  t.test('the invariants hold on every seed', (t) => {
    const seeds = Number(process.env['SIM_SEEDS'] ?? 2000);
    const failed: number[] = [];
    let transitions = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = runSeed(seed);
      transitions += r.transitions;
      if (r.violation !== null) failed.push(seed);
    }
    t.comment(`${seeds} seeds, ${transitions} transitions`);
    const first = failed[0];
    if (first !== undefined) {
      console.error(reportSeed(first));
      t.fail(`${failed.length} seed(s) failed: ${failed.slice(0, 20).join(', ')}; replay: SIM_SEED=${first}`);
    } else {
      t.pass(`${seeds} seeds`);
    }
    t.end();
  });
}

t.test('a run is a pure function of its seed (replay is faithful)', (t) => {
  for (const seed of [1, 7, 42, 999]) {
    const a = runSeed(seed, { trace: true });
    const b = runSeed(seed, { trace: true });
    const quick = runSeed(seed);
    t.same(a.trace, b.trace);
    t.equal(quick.transitions, a.transitions, 'tracing does not change the run');
    t.equal(quick.violation, a.violation);
  }
  t.end();
});
