/**
 * Replay one simulation seed with the full event trace:
 *   npx ts-node-esm test/sim/replay.ts 1234
 * (or, through tap: SIM_SEED=1234 npx tap --reporter=tap test/sim/sim.test.ts)
 * Prints the trace whether or not the seed fails; exits 1 when it fails.
 */
import { runSeed } from './scenario.js';

const seed = Number(process.argv[2] ?? process.env['SIM_SEED']);
if (!Number.isInteger(seed)) {
  // Also reached when `tap test/sim/` runs this file as a test: nothing to replay then.
  console.error('usage: replay.ts SEED (or SIM_SEED=n); nothing to replay');
  process.exit(process.env['TAP'] === '1' ? 0 : 2);
}
const r = runSeed(seed, { trace: true });
console.log(r.description);
for (const line of r.trace ?? []) console.log(line);
console.log(r.violation === null ? `seed ${seed}: OK (${r.transitions} transitions)` : `seed ${seed}: FAILED: ${r.violation}`);
process.exit(r.violation === null ? 0 : 1);
