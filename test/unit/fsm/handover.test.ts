/**
 * Planned handovers (operator features, see src/core/fsm/handover.ts): maintenance and
 * switchover, make-before-break.
 */
import t from 'tap';
import { advert, HIGHER_ADDRESS, kinds, LOWER_ADDRESS, master, started, stepFrozen } from './helpers.js';

t.test('switchover on a master: priority-0 advert, BACKUP, VIPs kept until the new master is heard', (t) => {
  const m = master({ priority: 150 }, 10_000);
  const r = stepFrozen(m, { type: 'switchover' }, 10_000);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.effects[0], { type: 'send-advert', priority: 0 }, 'priority 0 first (RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2): the backup waits only Skew_Time)');
  t.notOk(kinds(r.effects).includes('remove-vips'), 'VIPs kept: make before break');
  t.ok(r.state.releasing && r.state.yielding);
  const first = stepFrozen(r.state, advert(LOWER_ADDRESS, 100), 10_070);
  t.notOk(kinds(first.effects).includes('remove-vips'), 'the new master\'s first advert leaves before its VIPs exist: keep ours');
  t.equal(first.state.releaseHeardAtMs, 10_070);
  const heard = stepFrozen(first.state, advert(LOWER_ADDRESS, 100), 11_070);
  t.same(kinds(heard.effects).filter((k) => k === 'remove-vips'), ['remove-vips'], 'VIPs go with the new master\'s second advert');
  t.notOk(heard.state.releasing);
  t.equal(heard.state.state, 'BACKUP');
  // Yielding: a lower-priority master is accepted (no preemption back) although preempt is on.
  t.ok((heard.state.timers['master-down'] ?? 0) > 10_070, 'lower master accepted, Master_Down_Timer reset');
  t.end();
});

t.test('switchover with no peer taking over: mastership is kept after Master_Down_Interval', (t) => {
  const m = master({ priority: 150 }, 10_000);
  const r = stepFrozen(m, { type: 'switchover' }, 10_000);
  const deadline = r.state.timers['master-down'] ?? 0;
  const again = stepFrozen(r.state, { type: 'timer', timer: 'master-down' }, deadline);
  t.equal(again.state.state, 'MASTER');
  t.notOk(again.state.yielding || again.state.releasing, 'flags cleared on becoming master');
  t.end();
});

t.test('switchover on a backup does nothing (only a master can hand over)', (t) => {
  const b = started({ priority: 100 }, 0);
  const r = stepFrozen(b, { type: 'switchover' }, 100);
  t.equal(r.state, b);
  t.same(r.effects, []);
  t.end();
});

t.test('maintenance on a master hands over; the node never becomes master while in maintenance', (t) => {
  const m = master({ priority: 150 }, 10_000);
  const r = stepFrozen(m, { type: 'maintenance', on: true }, 10_000);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.effects[0], { type: 'send-advert', priority: 0 });
  t.ok(r.state.maintenance && r.state.releasing);
  // Nobody takes over: at master-down the VIPs are dropped and the node stays BACKUP.
  const fired = stepFrozen(r.state, { type: 'timer', timer: 'master-down' }, r.state.timers['master-down'] ?? 0);
  t.equal(fired.state.state, 'BACKUP');
  t.ok(kinds(fired.effects).includes('remove-vips'));
  t.notOk(fired.state.releasing);
  t.ok((fired.state.timers['master-down'] ?? 0) > (r.state.timers['master-down'] ?? 0), 'keeps watching');
  // A lower master would normally be preempted (preempt on); in maintenance it is not.
  const lower = stepFrozen(fired.state, advert(LOWER_ADDRESS, 100), 20_000);
  t.same(lower.effects, [], 'lower advert discarded as usual (preempt on)');
  const fired2 = stepFrozen(lower.state, { type: 'timer', timer: 'master-down' }, lower.state.timers['master-down'] ?? 0);
  t.equal(fired2.state.state, 'BACKUP', 'still BACKUP');
  // Maintenance off: the next Master_Down_Timer expiry takes over normally.
  const off = stepFrozen(fired2.state, { type: 'maintenance', on: false }, 30_000);
  t.same(off.effects, []);
  const fired3 = stepFrozen(off.state, { type: 'timer', timer: 'master-down' }, off.state.timers['master-down'] ?? 0);
  t.equal(fired3.state.state, 'MASTER');
  t.end();
});

t.test('maintenance on a backup: just a flag; an owner does not start as master in maintenance', (t) => {
  const b = started({ priority: 100 }, 0);
  const r = stepFrozen(b, { type: 'maintenance', on: true }, 10);
  t.same(r.effects, []);
  t.ok(r.state.maintenance);
  t.equal(stepFrozen(r.state, { type: 'maintenance', on: true }, 20).state, r.state, 'idempotent');
  const owner = started({ priority: 255 }, 0);
  t.equal(owner.state, 'MASTER');
  const down = stepFrozen(owner, { type: 'maintenance', on: true }, 10);
  t.equal(down.state.state, 'BACKUP', 'even the owner hands over');
  const stopped = stepFrozen(down.state, { type: 'shutdown' }, 20);
  t.ok(kinds(stopped.effects).includes('remove-vips'), 'a releasing node that stops drops the VIPs');
  const restarted = stepFrozen(stopped.state, { type: 'start' }, 30);
  t.equal(restarted.state.state, 'BACKUP', 'owner in maintenance restarts as BACKUP');
  t.end();
});

t.test('a releasing backup that hears a priority-0 advert keeps the VIPs (nobody took over yet)', (t) => {
  const m = master({ priority: 150 }, 10_000);
  const r = stepFrozen(m, { type: 'switchover' }, 10_000);
  const zero = stepFrozen(r.state, advert(HIGHER_ADDRESS, 0), 10_010);
  t.notOk(kinds(zero.effects).includes('remove-vips'));
  t.ok(zero.state.releasing);
  t.end();
});
