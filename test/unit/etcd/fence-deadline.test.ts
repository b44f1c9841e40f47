/** Fence deadline math (src/core/etcd/fence-deadline.ts). */
import t from 'tap';
import fc from 'fast-check';
import { afterAck, fenceDeadlineMs, fenceMarginMs, isFenced, msUntilFence, type LeaseRenewal } from '../../../src/core/etcd/fence-deadline.js';

t.test('deadline = send time of the acknowledged keepalive + TTL - margin; fenced only after it', (t) => {
  const r: LeaseRenewal = { sentMs: 10_000, ttlS: 2 };
  t.equal(fenceDeadlineMs(r, 300), 11_700);
  t.equal(isFenced(11_700, r, 300), false, 'at the deadline the holder may still act');
  t.equal(isFenced(11_701, r, 300), true);
  t.equal(msUntilFence(11_000, r, 300), 701, 'a timer armed for this fires when isFenced turns true');
  t.equal(isFenced(11_000 + msUntilFence(11_000, r, 300), r, 300), true);
  t.equal(isFenced(11_000 + msUntilFence(11_000, r, 300) - 1, r, 300), false);
  t.equal(msUntilFence(20_000, r, 300), 0);
  t.end();
});

t.test('margin: the request timeout, at least 100 ms', (t) => {
  t.equal(fenceMarginMs(300), 300);
  t.equal(fenceMarginMs(10), 100);
  t.end();
});

t.test('afterAck: the later expiry wins; replies out of order never move the deadline back', (t) => {
  const first = afterAck(undefined, 1000, 2);
  t.same(first, { sentMs: 1000, ttlS: 2 });
  const newer = afterAck(first, 1250, 2);
  t.same(newer, { sentMs: 1250, ttlS: 2 });
  t.same(afterAck(newer, 1000, 2), newer, 'an older reply arriving late is ignored');
  t.same(afterAck(newer, 1500, 0), newer, 'ttl 0 (lease gone) never renews');
  t.same(afterAck(newer, Number.NaN, 2), newer);
  t.same(afterAck(undefined, 1500, 0), undefined);
  t.end();
});

t.test('property: the deadline never passes the earliest server expiry, and acks only move it forward', (t) => {
  // Each step: a keepalive sent at some time, acknowledged (server renews at a time >= send
  // time) or not. The server's lease expires at (latest renewal time) + TTL; the holder's
  // deadline must be before it by at least the margin, at every step.
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 60 }),
    fc.integer({ min: 10, max: 2000 }),
    fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 5000 }), delayMs: fc.integer({ min: 0, max: 5000 }), acked: fc.boolean() }), { maxLength: 50 }),
    (ttlS, timeoutMs, steps) => {
      const margin = fenceMarginMs(timeoutMs);
      let now = 0;
      let renewal: LeaseRenewal | undefined = { sentMs: 0, ttlS };
      let serverExpiry = ttlS * 1000;
      for (const s of steps) {
        now += s.gapMs;
        const before: number = fenceDeadlineMs(renewal, margin);
        if (s.acked) {
          serverExpiry = Math.max(serverExpiry, now + s.delayMs + ttlS * 1000);
          renewal = afterAck(renewal, now, ttlS);
        }
        if (renewal === undefined) return false;
        if (fenceDeadlineMs(renewal, margin) < before) return false;
        if (fenceDeadlineMs(renewal, margin) + margin > serverExpiry) return false;
      }
      return true;
    },
  ), { seed: 20261130, numRuns: 500 });
  t.pass('held for 500 seeded runs');
  t.end();
});
