/** The per-key "first, then at most once per interval" gate of log warnings (src/daemon/warn-throttle.ts). */
import t from 'tap';
import { WarnThrottle } from '../../../src/daemon/warn-throttle.js';

t.test('the first warning of a key passes, then at most one per interval', async (t) => {
  const gate = new WarnThrottle(1000);
  t.same(gate.admit('a', 0, 1), { sinceLast: undefined }, 'first of a');
  t.equal(gate.admit('a', 999, 5), undefined, 'inside the interval');
  t.same(gate.admit('b', 999, 1), { sinceLast: undefined }, 'keys are independent');
  t.same(gate.admit('a', 1000, 7), { sinceLast: 6 }, 'at the interval: count since the last warning');
  t.equal(gate.admit('a', 1500, 8), undefined, 'the interval restarts at the last warning, not the first');
  t.same(gate.admit('a', 2000, 8), { sinceLast: 1 });
});

t.test('without counts it only gates', async (t) => {
  const gate = new WarnThrottle(10_000);
  const admitted = [0, 5_000, 9_999, 10_000, 19_999, 20_000].filter((ms) => gate.admit('idle', ms) !== undefined);
  t.same(admitted, [0, 10_000, 20_000]);
});
