import t from 'tap';
import { csToMs, masterDownIntervalMs, nextAdvertAtMs, skewTimeMs } from '../../../src/core/fsm/timers.js';

// RFC 5798 §6.1 (kept by RFC 9568 §6.1): "Skew_Time: Time to skew Master_Down_Interval in centiseconds. Calculated as:
// (((256 - priority) * Master_Adver_Interval) / 256)"
t.test('v3 Skew_Time is ((256 - priority) * Master_Adver_Interval) / 256, whole centiseconds', (t) => {
  t.equal(skewTimeMs(100, 100, 3), 600, '156*100/256 = 60.9 cs -> 60 cs');
  t.equal(skewTimeMs(255, 100, 3), 0, '1*100/256 rounds down to 0 cs');
  t.equal(skewTimeMs(1, 100, 3), 990, '255*100/256 = 99.6 cs -> 99 cs');
  t.equal(skewTimeMs(200, 25, 3), 50, '56*25/256 = 5.47 cs -> 5 cs');
  t.end();
});

// RFC 5798 §6.1 (kept by RFC 9568 §6.1): "Master_Down_Interval: Time interval for Backup to declare Master down
// (centiseconds). Calculated as: (3 * Master_Adver_Interval) + Skew_time"
t.test('v3 Master_Down_Interval is 3 * Master_Adver_Interval + Skew_Time', (t) => {
  t.equal(masterDownIntervalMs(100, 100, 3), 3600);
  t.equal(masterDownIntervalMs(200, 25, 3), 750 + 50);
  t.equal(masterDownIntervalMs(50, 4095, 3), 3 * 40950 + Math.floor((206 * 4095) / 256) * 10);
  t.end();
});

// RFC 3768 §6.1: "Skew_Time: Time to skew Master_Down_Interval in seconds. Calculated as:
// ( (256 - Priority) / 256 )"
t.test('v2 Skew_Time is (256 - Priority) / 256 seconds, whole ms, independent of the interval', (t) => {
  t.equal(skewTimeMs(100, 100, 2), 609, '156/256 s = 609.375 ms -> 609');
  t.equal(skewTimeMs(100, 300, 2), 609);
  t.equal(skewTimeMs(255, 100, 2), 3);
  t.end();
});

// RFC 3768 §6.1: "Master_Down_Interval: Time interval for Backup to declare Master down
// (seconds). Calculated as: (3 * Advertisement_Interval) + Skew_time"
t.test('v2 Master_Down_Interval is 3 * Advertisement_Interval + Skew_Time', (t) => {
  t.equal(masterDownIntervalMs(100, 100, 2), 3609);
  t.equal(masterDownIntervalMs(150, 200, 2), 6000 + Math.floor((106 * 1000) / 256));
  t.end();
});

t.test('higher priority always has a shorter or equal skew (the better backup wakes first)', (t) => {
  for (const version of [2, 3] as const) {
    for (let p = 1; p < 255; p++) {
      t.ok(skewTimeMs(p + 1, 100, version) <= skewTimeMs(p, 100, version));
    }
  }
  t.equal(csToMs(7), 70);
  t.end();
});

t.test('a master advertises on the tick grid: the first multiple of the interval after now', (t) => {
  t.equal(nextAdvertAtMs(0, 1000), 1000);
  t.equal(nextAdvertAtMs(999.5, 1000), 1000, 'just before a tick: that tick, a short gap');
  t.equal(nextAdvertAtMs(1000, 1000), 2000, 'on a tick: the next one, a whole interval');
  t.equal(nextAdvertAtMs(1003.7, 1000), 2000, 'a late timer does not push the next advert later');
  t.equal(nextAdvertAtMs(2500, 1000), 3000, 'a stall longer than the interval rejoins the grid');
  t.equal(nextAdvertAtMs(1234.5, 10), 1240);
  t.end();
});

t.test('instances that became master at different moments advertise together from their next advert on', (t) => {
  const intervalMs = 1000;
  const becameMasterAt = [3.2, 117.9, 640, 999.99, 1000.01];
  const next = becameMasterAt.map((at) => nextAdvertAtMs(at, intervalMs));
  t.same(next, [1000, 1000, 1000, 1000, 2000]);
  // Steady state: each fire (up to 20 ms late) re-arms one whole interval after the tick it was for.
  for (const tick of [1000, 2000, 3000]) {
    for (const lateMs of [0, 0.4, 7, 19.9]) t.equal(nextAdvertAtMs(tick + lateMs, intervalMs), tick + intervalMs);
  }
  t.end();
});

t.test('the gap after now is never zero and never more than the interval', (t) => {
  for (const intervalMs of [10, 100, 1000, 40_950]) {
    for (let i = 0; i < 2000; i++) {
      const now = Math.random() * 1e7;
      const next = nextAdvertAtMs(now, intervalMs);
      if (!(next > now && next <= now + intervalMs && next % intervalMs === 0)) {
        t.fail(`interval ${intervalMs}, now ${now}: next ${next}`);
        return t.end();
      }
    }
  }
  t.pass('2000 random moments per interval');
  t.end();
});
