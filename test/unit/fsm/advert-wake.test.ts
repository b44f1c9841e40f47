/**
 * When a MASTER with an advert train wakes for its own advert (src/core/fsm/advert-wake.ts): the
 * wake period from the interval and the lease, and the train between an advert and the next
 * wake-up.
 */
import t from 'tap';
import fc from 'fast-check';
import { advertWakeMs, MAX_ADVERT_WAKE_MS, trainPlan } from '../../../src/core/fsm/advert-wake.js';
import { leaseRenewDue } from '../../../src/core/fsm/lease.js';
import { nextAdvertAtMs } from '../../../src/core/fsm/timers.js';

t.test('wake period: whole intervals, bounded by 1 s and by the lease renewal', (t) => {
  t.equal(advertWakeMs(1000, 3), 1000, '1 s adverts: every advert (no train)');
  t.equal(advertWakeMs(2000, 6), 2000, 'over 1 s: every advert');
  t.equal(advertWakeMs(100, 1), 300, '100 ms, 1 s lease: renewal due after 283 ms -> every 3rd tick');
  t.equal(advertWakeMs(100, 0), 1000, '100 ms, no lease: 1 s');
  t.equal(advertWakeMs(100, 2), 700, '100 ms, 2 s lease: renewal due after 616 ms -> every 7th tick');
  t.equal(advertWakeMs(100, 30), 1000, 'a long lease: 1 s');
  t.equal(advertWakeMs(10, 1), 330, '10 ms, 1 s lease: 33 ticks');
  t.equal(advertWakeMs(300, 1), 300, 'renewal due at once: every tick');
  t.end();
});

t.test('the wake-up is the tick a renewal is due at, the same tick as without a train, and at most 1 s', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 4095 }), fc.integer({ min: 0, max: 200 }), (cs, leaseSec) => {
    const i = cs * 10;
    const w = advertWakeMs(i, leaseSec);
    const k = w / i;
    if (!Number.isInteger(k) || k < 1) return false;
    if (w > Math.max(i, MAX_ADVERT_WAKE_MS)) return false;
    if (leaseSec === 0 || k === Math.max(1, Math.floor(MAX_ADVERT_WAKE_MS / i))) return true;
    // Due at k ticks, not at k - 1 (else the wake-up would be later than needed).
    return leaseRenewDue(w, leaseSec, i) && (k === 1 || !leaseRenewDue(w - i, leaseSec, i));
  }), { numRuns: 3000 });
  t.end();
});

t.test('a train that renews the lease: the agent still wakes at least twice per lease', (t) => {
  t.equal(advertWakeMs(100, 1, true), 500, '100 ms, 1 s lease: every 5th tick');
  t.equal(advertWakeMs(100, 2, true), 1000, '100 ms, 2 s lease: 1 s');
  t.equal(advertWakeMs(100, 0, true), 1000, 'no lease: 1 s');
  t.equal(advertWakeMs(10, 1, true), 500, '10 ms, 1 s lease: 50 ticks');
  t.equal(advertWakeMs(300, 1, true), 300, 'a tick is more than half the lease: every tick');
  t.equal(advertWakeMs(1000, 3, true), 1000, '1 s adverts: every advert');
  fc.assert(fc.property(fc.integer({ min: 1, max: 4095 }), fc.integer({ min: 1, max: 200 }), (cs, leaseSec) => {
    const i = cs * 10;
    const w = advertWakeMs(i, leaseSec, true);
    const k = w / i;
    if (!Number.isInteger(k) || k < 1 || w > Math.max(i, MAX_ADVERT_WAKE_MS)) return false;
    // Within half the lease unless a single interval is already more; the most that fits otherwise.
    if (k === 1) return true;
    return w <= (leaseSec * 1000) / 2 && (w === MAX_ADVERT_WAKE_MS - (MAX_ADVERT_WAKE_MS % i) || w + i > (leaseSec * 1000) / 2);
  }), { numRuns: 3000 });
  t.end();
});

t.test('train plan: the ticks from the deadline up to the next wake-up', (t) => {
  t.same(trainPlan(1000.4, 1100, 100, 300), { wakeAtMs: 1200, count: 1, firstDelayMs: 100 });
  t.same(trainPlan(1200.2, 1300, 100, 300), { wakeAtMs: 1500, count: 2, firstDelayMs: 100 });
  t.same(trainPlan(1400.9, 1500, 100, 300), { wakeAtMs: 1500, count: 0, firstDelayMs: 99 }, 'the deadline is a wake-up: no train');
  t.same(trainPlan(5000, 5100, 100, 100), { wakeAtMs: 5100, count: 0, firstDelayMs: 100 }, 'wake period = interval: never a train');
  t.end();
});

t.test('from any advert on, train ticks and wake-ups cover every tick of the grid once', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 10 }), fc.double({ min: 0, max: 1e7, noNaN: true }), (cs, lease, start) => {
    const i = cs * 10;
    const w = advertWakeMs(i, lease);
    let now = start;
    const sent: number[] = [];
    for (let n = 0; n < 5; n++) {
      const deadline = nextAdvertAtMs(now, i);
      const p = trainPlan(now, deadline, i, w);
      for (let j = 0; j < p.count; j++) sent.push(deadline + j * i);
      sent.push(p.wakeAtMs);
      if (p.wakeAtMs % w !== 0 || p.wakeAtMs < deadline) return false;
      now = p.wakeAtMs + 0.3; // the wake-up runs a little late
    }
    return sent.every((x, j) => j === 0 || x - (sent[j - 1] as number) === i);
  }), { numRuns: 2000 });
  t.end();
});
