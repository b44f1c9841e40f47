import { runSeed } from './scenario.js';
const n = Number(process.argv[2] ?? 2000);
const t0 = performance.now();
let fails = 0; let tr = 0;
const s0 = Number(process.argv[3] ?? 1); for (let s = s0; s < s0 + n; s++) {
  const r = runSeed(s);
  tr += r.transitions;
  if (r.violation !== null) { fails++; if (fails <= 8) console.log(r.description, '\n   ', r.violation); }
}
console.log('fails', fails, 'of', n, 'transitions', tr, 'ms', Math.round(performance.now() - t0));
