import t from 'tap';
import fc from 'fast-check';
import { isoTime } from '../../../src/adapters/iso-time.js';

t.test('the same text as Date.prototype.toISOString', async (t) => {
  for (const ms of [0, 1, 999, 1000, 86_399_999, 1_764_586_399_969, Date.UTC(2000, 1, 29, 23, 59, 59, 7), Date.UTC(9999, 11, 31, 23, 59, 59, 999), -1, Date.UTC(-1, 0, 1), Date.UTC(10000, 0, 1), 8.64e15, -8.64e15]) {
    t.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
  }
  fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => isoTime(ms) === new Date(ms).toISOString()));
});

t.test('now by default', async (t) => {
  const before = Date.now();
  const at = Date.parse(isoTime());
  t.ok(at >= before && at <= Date.now());
});

t.test('an invalid time throws a RangeError, as toISOString does', async (t) => {
  t.throws(() => isoTime(Number.NaN), RangeError);
  t.throws(() => isoTime(8.64e15 + 1), RangeError);
});
