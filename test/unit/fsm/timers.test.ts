import t from 'tap';
import { csToMs, masterDownIntervalMs, skewTimeMs } from '../../../src/core/fsm/timers.js';

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
