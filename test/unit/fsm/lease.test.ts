/**
 * The VIP lease arithmetic (src/core/fsm/lease.ts): the lifetime from the advert interval in
 * whole kernel seconds, the renew cadence, and how long a silent old master's lease may last.
 */
import t from 'tap';
import { KERNEL_EXPIRY_SLACK_MS, leaseRenewDue, leaseRenewEveryMs, oldLeaseLeftMs, vipLeaseSec } from '../../../src/core/fsm/lease.js';
import { masterDownIntervalMs, nextAdvertAtMs } from '../../../src/core/fsm/timers.js';
import { advert, HIGHER_ADDRESS, master, started, stepFrozen } from './helpers.js';

t.test("'auto' lease: 3 x advert interval rounded down to whole seconds, at least 1 s", (t) => {
  t.equal(vipLeaseSec('auto', 100), 3, '1 s interval -> 3 s');
  t.equal(vipLeaseSec('auto', 150), 4, '3 x 1.5 s = 4.5 s -> 4 s (down, not to nearest)');
  t.equal(vipLeaseSec('auto', 67), 2, '3 x 0.67 s = 2.01 s -> 2 s');
  t.equal(vipLeaseSec('auto', 66), 1, '3 x 0.66 s = 1.98 s -> 1 s');
  t.equal(vipLeaseSec('auto', 34), 1, '3 x 0.34 s = 1.02 s -> 1 s');
  t.equal(vipLeaseSec('auto', 33), 1, 'sub-second: 3 x 0.33 s = 0.99 s would round to 0 (forever): 1 s');
  t.equal(vipLeaseSec('auto', 10), 1, '100 ms interval: 1 s');
  t.equal(vipLeaseSec('auto', 1), 1, '10 ms interval: 1 s');
  t.equal(vipLeaseSec('auto', 4095), 122, 'the v3 maximum interval: 3 x 40.95 s = 122.85 s -> 122 s');
  t.end();
});

t.test('an explicit lease is the operator\'s, whatever the interval; 0 stays forever', (t) => {
  t.equal(vipLeaseSec(0, 100), 0, 'off');
  t.equal(vipLeaseSec(7, 100), 7);
  t.equal(vipLeaseSec(7, 10), 7);
  t.end();
});

t.test("'auto' lease is whole seconds, never 0, never past Master_Down_Interval when a whole second fits", (t) => {
  for (let cs = 1; cs <= 4095; cs += 1) {
    const leaseMs = vipLeaseSec('auto', cs) * 1000;
    if (!Number.isInteger(leaseMs / 1000) || leaseMs < 1000) return t.fail(`interval ${cs} cs: lease ${leaseMs} ms`);
    // The best backup (priority 254) has the shortest Master_Down_Interval.
    const mdiMs = masterDownIntervalMs(254, cs, 3);
    if (3 * cs >= 100 && leaseMs > mdiMs) return t.fail(`interval ${cs} cs: lease ${leaseMs} ms outlasts Master_Down_Interval ${mdiMs} ms`);
    if (leaseMs + 1000 <= 3 * cs * 10) return t.fail(`interval ${cs} cs: lease ${leaseMs} ms is a whole second short of 3 intervals`);
  }
  t.pass('every interval from 1 to 4095 cs');
  t.end();
});

t.test('the lease is renewed every third of it', (t) => {
  t.equal(leaseRenewEveryMs(3), 1000, '3 s lease: every second');
  t.equal(leaseRenewEveryMs(122), 122000 / 3);
  t.ok(Math.abs(leaseRenewEveryMs(1) - 333.333) < 0.001, '1 s lease: every 333.3 ms (not rounded: it is compared, not armed)');
  for (const sec of [1, 2, 3, 7, 122]) t.ok(Math.abs(leaseRenewEveryMs(sec) * 3 - sec * 1000) < 1e-9, `${sec} s: three renewals per lease`);
  t.end();
});

t.test('a renewal is due with the advert one renew interval on, even when that advert runs a hair early', (t) => {
  t.ok(leaseRenewDue(999.6, 3, 1000), '1 s adverts, 3 s lease: the next tick ran 0.4 ms "early"');
  t.ok(leaseRenewDue(1000, 3, 1000));
  t.notOk(leaseRenewDue(499, 3, 1000), 'an extra advert half an interval later renews nothing');
  t.ok(leaseRenewDue(299.5, 1, 100), '100 ms adverts, 1 s lease: every third advert');
  t.notOk(leaseRenewDue(199.9, 1, 100), 'not every second one');
  t.end();
});

t.test('on the tick grid with jittery timers a 3 s lease at 1 s adverts is renewed with every advert', (t) => {
  // Each tick's timer runs 0-5 ms late, in random order against the previous tick.
  let last = -Infinity;
  let renewals = 0;
  let tick = 1000;
  for (let i = 0; i < 500; i++) {
    const now = tick + Math.random() * 5;
    if (leaseRenewDue(now - last, 3, 1000)) {
      renewals += 1;
      last = now;
    }
    tick = nextAdvertAtMs(now, 1000);
  }
  t.equal(renewals, 500);
  t.end();
});

t.test("a silent old master's lease: its last advert + lease + one second of kernel expiry slack", (t) => {
  // A backup that heard the master at 500 ms.
  const backup = stepFrozen(started(), advert(HIGHER_ADDRESS, 200), 500).state;
  t.equal(backup.state, 'BACKUP');
  t.equal(KERNEL_EXPIRY_SLACK_MS, 1000, 'the kernel expires addresses on whole-second boundaries');
  t.equal(oldLeaseLeftMs(backup, 3, 500), 4000, 'just heard: the whole lease plus a second');
  t.equal(oldLeaseLeftMs(backup, 3, 4000), 500);
  t.equal(oldLeaseLeftMs(backup, 3, 4499), 1);
  t.equal(oldLeaseLeftMs(backup, 3, 4500), 0, 'expired');
  t.equal(oldLeaseLeftMs(backup, 3, 9000), 0, 'never negative');
  // Sub-second interval (250 ms): the lease is 1 s, the backup takes over after 750 ms + skew.
  const fast = stepFrozen(started({ advertIntervalCs: 25 }), advert(HIGHER_ADDRESS, 200, 25), 0).state;
  const takeoverMs = masterDownIntervalMs(100, 25, 3);
  t.equal(oldLeaseLeftMs(fast, vipLeaseSec('auto', 25), takeoverMs), 2000 - takeoverMs, 'sub-second interval: 1 s lease + 1 s slack from the last advert');
  t.end();
});

t.test('nothing to wait for: no lease, not a backup, nobody heard, or a master that released', (t) => {
  const backup = stepFrozen(started(), advert(HIGHER_ADDRESS, 200), 500).state;
  t.equal(oldLeaseLeftMs(backup, 0, 500), 0, 'lease 0 = forever: waiting would never end');
  t.equal(oldLeaseLeftMs(started(), 3, 500), 0, 'a backup that heard nobody');
  t.equal(oldLeaseLeftMs(master(), 3, 10_000), 0, 'a master');
  const released = stepFrozen(backup, advert(HIGHER_ADDRESS, 0), 600).state;
  t.equal(released.master?.priority, 0, 'the old master sent priority 0');
  t.equal(oldLeaseLeftMs(released, 3, 600), 0, 'it removed its VIPs itself');
  t.equal(oldLeaseLeftMs({ state: 'INIT', master: { address: HIGHER_ADDRESS, priority: 200, lastSeenMs: 500 } }, 3, 500), 0, 'not BACKUP');
  t.end();
});
