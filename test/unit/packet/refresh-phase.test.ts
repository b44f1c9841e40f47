/**
 * The refresh phase spread: in range, deterministic, and spread (no window of the period holds
 * far more refreshes than its share) for any number of announcers.
 */
import fc from 'fast-check';
import t from 'tap';
import { refreshAtMs, refreshPhaseMs } from '../../../src/core/packet/refresh-phase.js';

t.test('phases are integers in [0, period), 0 without a period', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 3_600_000 }), (slot, periodMs) => {
      const p = refreshPhaseMs(slot, periodMs);
      return Number.isInteger(p) && p >= 0 && p < periodMs;
    }),
    { seed: 20261130, numRuns: 2000 },
  );
  t.equal(refreshPhaseMs(5, 0), 0);
  t.equal(refreshPhaseMs(5, -10), 0);
  t.equal(refreshPhaseMs(Number.NaN, 1000), 0);
  t.equal(refreshPhaseMs(0, 10_000), 0, 'the first announcer keeps the plain period');
  t.equal(refreshPhaseMs(7, 10_000), refreshPhaseMs(7, 10_000), 'deterministic');
  t.end();
});

t.test('n announcers spread over the period: no tenth of it holds more than 3x its share', (t) => {
  for (const n of [2, 10, 64, 255, 1000]) {
    const periodMs = 10_000;
    const bins = new Array<number>(10).fill(0);
    for (let slot = 0; slot < n; slot++) bins[Math.floor(refreshPhaseMs(slot, periodMs) / 1000)]! += 1;
    const share = Math.max(1, Math.ceil(n / 10));
    t.ok(Math.max(...bins) <= 3 * share, `n=${n}: bins ${bins.join(',')}`);
    const distinct = new Set(Array.from({ length: n }, (_, s) => refreshPhaseMs(s, periodMs))).size;
    t.equal(distinct, Math.min(n, periodMs), `n=${n}: every announcer has its own phase`);
  }
  t.end();
});

t.test('a refresh goes out at the first advert tick at or after the moment it is meant for', (t) => {
  t.equal(refreshAtMs(10_000, 1000), 10_000, 'on a tick: that tick');
  t.equal(refreshAtMs(10_000.5, 1000), 11_000);
  t.equal(refreshAtMs(12_345, 100), 12_400);
  t.equal(refreshAtMs(12_345.6, 0), 12_345.6, 'no tick: as meant');
  fc.assert(
    // Monotonic ms with a fraction in 1/1024 steps, exact in binary (no rounding in the check itself).
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 10, max: 40_950 }), (base1024, tick) => {
      const base = base1024 / 1024;
      const at = refreshAtMs(base, tick);
      return at >= base && at - base < tick && at % tick === 0;
    }),
  );
  t.end();
});
