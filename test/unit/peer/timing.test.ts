import t from 'tap';
import { helloIntervalMs, isolationCheckEveryMs, isolationSilenceMs, preExpirySilenceMs, witnessTiming } from '../../../src/core/peer/timing.js';
import { masterDownIntervalMs } from '../../../src/core/fsm/timers.js';

t.test('an isolated master lets go before its peer can take over, for every interval and priority', async (t) => {
  let checked = 0;
  for (const cs of [3, 10, 50, 100, 300, 1000, 4095]) {
    for (const priority of [1, 100, 254]) {
      // The peer's Master_Down_Interval, plus one re-evaluation period of ours.
      t.ok(isolationSilenceMs(cs) + isolationCheckEveryMs(cs) < masterDownIntervalMs(priority, cs, 3) + 50, `A=${cs}cs, priority ${priority}`);
      checked++;
    }
    t.ok(preExpirySilenceMs(cs) < isolationSilenceMs(cs), 'the check before an expiry is the stricter one');
    t.ok(helloIntervalMs(cs) <= preExpirySilenceMs(cs), 'a live peer has helloed within the pre-expiry silence');
  }
  t.equal(checked, 21);
  // Below 30 ms adverts the 50 ms of slack is longer than the intervals: the rule no longer holds.
  t.notOk(isolationSilenceMs(1) < masterDownIntervalMs(100, 1, 3), 'at 10 ms adverts the peer may take over first (documented)');
});

t.test('the agent\'s values', async (t) => {
  t.equal(isolationSilenceMs(10), 250, '100 ms adverts: 2A + 50');
  t.equal(preExpirySilenceMs(100), 1050);
  t.equal(isolationCheckEveryMs(1), 20, 'at most every 20 ms');
  t.same(witnessTiming(10), { intervalMs: 100, timeoutMs: 50 });
  t.same(witnessTiming(100), { intervalMs: 1000, timeoutMs: 500 });
  t.same(witnessTiming(4095), { intervalMs: 40950, timeoutMs: 1000 });
});
