import t from 'tap';
import { masterDownIntervalMs, skewTimeMs } from '../../../src/core/fsm/timers.js';
import { HIGHER_ADDRESS, LOWER_ADDRESS, advert, started, stepFrozen, transition } from './helpers.js';

// RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2): "If the Priority in the ADVERTISEMENT is zero, then: Set the
// Master_Down_Timer to Skew_Time"
t.test('backup hearing priority 0 sets master-down to Skew_Time (fast handover)', (t) => {
  const s = started({ priority: 100 }, 0);
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 0), 1000);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.effects, [{ type: 'arm-timer', timer: 'master-down', deadlineMs: 1000 + 600 }]);
  t.same(r.state.master, { address: HIGHER_ADDRESS, priority: 0, lastSeenMs: 1000 });
  t.end();
});

t.test('skew-only takeover after priority 0 reports the peer release as the reason', (t) => {
  const s = stepFrozen(started({ priority: 100 }, 0), advert(HIGHER_ADDRESS, 0), 1000).state;
  const r = stepFrozen(s, { type: 'timer', timer: 'master-down' }, 1600);
  t.equal(r.state.state, 'MASTER');
  t.equal(transition(r.effects)?.reason, 'peer released (priority 0)');
  t.end();
});

t.test('v2 backup hearing priority 0 uses the v2 skew', (t) => {
  const s = started({ version: 2, priority: 200 }, 0);
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 0), 100);
  t.equal(r.state.timers['master-down'], 100 + skewTimeMs(200, 100, 2));
  t.equal(r.state.timers['master-down'], 100 + 218);
  t.end();
});

// RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2): "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is
// greater than or equal to the local Priority, then: Set Master_Adver_Interval to Adver Interval
// contained in the ADVERTISEMENT; Recompute the Master_Down_Interval; Reset the
// Master_Down_Timer to Master_Down_Interval"
t.test('backup accepts a higher-priority advert: adopts its interval (v3), resets master-down', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100 }, 0);
  const r = stepFrozen(s, advert(LOWER_ADDRESS, 150, 50), 2000);
  t.equal(r.state.state, 'BACKUP');
  t.equal(r.state.masterAdverIntervalCs, 50);
  const mdi = masterDownIntervalMs(100, 50, 3);
  t.equal(mdi, 1500 + 300);
  t.same(r.effects, [{ type: 'arm-timer', timer: 'master-down', deadlineMs: 2000 + mdi }]);
  t.same(r.state.master, { address: LOWER_ADDRESS, priority: 150, lastSeenMs: 2000 });
  t.end();
});

t.test('v2 backup keeps its own Advertisement_Interval (a v2 interval mismatch never gets here)', (t) => {
  const s = started({ version: 2, priority: 100, advertIntervalCs: 100 }, 0);
  const r = stepFrozen(s, advert(LOWER_ADDRESS, 150, 300), 2000);
  t.equal(r.state.masterAdverIntervalCs, 100);
  t.equal(r.state.timers['master-down'], 2000 + 3609);
  t.end();
});

t.test('a v3 advert with a nonsense interval keeps the current Master_Adver_Interval', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100 }, 0);
  t.equal(stepFrozen(s, advert(LOWER_ADDRESS, 150, 0), 1).state.masterAdverIntervalCs, 100);
  t.end();
});

t.test('backup accepts an advert of equal priority from a higher address', (t) => {
  const s = started({ priority: 100 }, 0);
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 100), 2000);
  t.equal(r.state.timers['master-down'], 2000 + 3600);
  t.end();
});

// RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2): "If Preempt_Mode is False, ... then: ... Reset the Master_Down_Timer"
t.test('non-preempt backup accepts a lower-priority master and never takes over from it', (t) => {
  let s = started({ priority: 200, preempt: false }, 0);
  for (let now = 1000; now <= 20_000; now += 1000) {
    const r = stepFrozen(s, advert(LOWER_ADDRESS, 50), now);
    t.same(r.effects, [{ type: 'arm-timer', timer: 'master-down', deadlineMs: now + masterDownIntervalMs(200, 100, 3) }]);
    s = r.state;
  }
  t.equal(s.state, 'BACKUP');
  t.end();
});

// RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2): "else: Discard the ADVERTISEMENT"
t.test('preempting backup discards a lower-priority advert, so master-down fires and it preempts', (t) => {
  const s = started({ priority: 200 }, 0);
  const deadline = s.timers['master-down'];
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 100), 1000);
  t.equal(r.state, s, 'state unchanged');
  t.same(r.effects, []);
  t.equal(r.state.timers['master-down'], deadline, 'timer not reset');
  const m = stepFrozen(r.state, { type: 'timer', timer: 'master-down' }, deadline ?? 0);
  t.equal(m.state.state, 'MASTER');
  t.end();
});

// RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2): "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is greater
// than or equal to the local Priority, then: ... Reset the Master_Down_Timer to
// Master_Down_Interval". Equal priority is accepted even from a lower address (keepalived does
// the same): a preempting backup does not flap an equal-priority master.
t.test('preempting backup accepts an equal-priority advert, even from a lower address', (t) => {
  const s = started({ priority: 100 }, 0);
  const r = stepFrozen(s, advert(LOWER_ADDRESS, 100), 1000);
  t.equal(r.state.state, 'BACKUP');
  t.match(r.state.master, { address: LOWER_ADDRESS, priority: 100 });
  t.ok((r.state.timers['master-down'] ?? 0) > 1000, 'Master_Down_Timer reset');
  t.end();
});

// RFC 5798 §6.1 (kept by RFC 9568 §6.1) Preempt_Mode: "The exception is that the router that owns the IPvX address
// associated with the virtual router always preempts, independent of the setting of this flag."
t.test('an owner in BACKUP preempts even with preempt off', (t) => {
  let s = started({ priority: 100, preempt: false }, 0);
  s = stepFrozen(s, { type: 'priority', effectivePriority: 255 }, 10).state;
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 254), 1000);
  t.same(r.effects, [], 'lower advert discarded');
  t.end();
});

// RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2): "If the Master_Down_Timer fires, then: Send an ADVERTISEMENT; ... broadcast
// a gratuitous ARP request ...; Set the Adver_Timer to Advertisement_Interval; Transition to the
// {Master} state"
t.test('master-down timer firing in BACKUP -> MASTER', (t) => {
  const s = started({ priority: 100 }, 0);
  const r = stepFrozen(s, { type: 'timer', timer: 'master-down' }, 3600);
  t.equal(r.state.state, 'MASTER');
  t.same(r.effects, [
    { type: 'send-advert', priority: 100 },
    { type: 'add-vips' },
    { type: 'announce', reason: 'master-down timer expired' },
    { type: 'arm-timer', timer: 'advert', deadlineMs: 4000 }, // the next tick of the 1 s grid
    { type: 'cancel-timer', timer: 'master-down' },
    { type: 'state-changed', from: 'BACKUP', to: 'MASTER', reason: 'master-down timer expired' },
    { type: 'run-hook', hook: 'master', from: 'BACKUP', to: 'MASTER' },
  ]);
  t.same(r.state.timers, { 'master-down': null, advert: 4000, 'preempt-delay': null });
  t.equal(r.state.master, null);
  t.equal(r.state.enteredStateAtMs, 3600);
  t.end();
});

t.test('a master-down that fires late still takes over (deadline <= now)', (t) => {
  const s = started({ priority: 100 }, 0);
  t.equal(stepFrozen(s, { type: 'timer', timer: 'master-down' }, 9999).state.state, 'MASTER');
  t.end();
});

t.test('an advert from our own primary address (multicast loop) is ignored', (t) => {
  const s = started({ priority: 100 }, 0);
  const r = stepFrozen(s, advert(s.settings.primaryAddress, 200), 1000);
  t.equal(r.state, s);
  t.same(r.effects, []);
  t.end();
});
