import t from 'tap';
import { masterDownIntervalMs } from '../../../src/core/fsm/timers.js';
import { HIGHER_ADDRESS, LOWER_ADDRESS, advert, master, stepFrozen } from './helpers.js';

t.test('fixture: a master with its advert timer at 11000', (t) => {
  const m = master({}, 10_000);
  t.equal(m.state, 'MASTER');
  t.equal(m.timers.advert, 11_000);
  t.end();
});

// RFC 5798 §6.4.3 (kept by RFC 9568 §6.4.3): "If the Adver_Timer fires, then: Send an ADVERTISEMENT; Reset the Adver_Timer
// to Advertisement_Interval"
t.test('advert timer: send an advertisement and re-arm at Advertisement_Interval', (t) => {
  const m = master({ advertIntervalCs: 100 }, 10_000);
  const r = stepFrozen(m, { type: 'timer', timer: 'advert' }, 11_000);
  t.same(r.effects, [
    { type: 'send-advert', priority: 100 },
    { type: 'arm-timer', timer: 'advert', deadlineMs: 12_000 },
  ]);
  t.equal(r.state.state, 'MASTER');
  t.end();
});

// RFC 5798 §6.4.3 (kept by RFC 9568 §6.4.3): "If the Priority in the ADVERTISEMENT is zero, then: Send an ADVERTISEMENT;
// Reset the Adver_Timer to Advertisement_Interval"
// The reset lands on the shared tick grid (nextAdvertAtMs): the next multiple of the interval.
t.test('master hearing priority 0 advertises at once and resets the Adver_Timer', (t) => {
  const m = master({}, 10_000);
  const r = stepFrozen(m, advert(HIGHER_ADDRESS, 0), 10_300);
  t.same(r.effects, [
    { type: 'send-advert', priority: 100 },
    { type: 'arm-timer', timer: 'advert', deadlineMs: 11_000 },
  ]);
  t.equal(r.state.state, 'MASTER');
  t.end();
});

// RFC 5798 §6.4.3 (kept by RFC 9568 §6.4.3): "If the Priority in the ADVERTISEMENT is greater than the local Priority ...
// then: Cancel Adver_Timer; Set Master_Adver_Interval to Adver Interval contained in the
// ADVERTISEMENT; Recompute the Skew_Time; Recompute the Master_Down_Interval; Set
// Master_Down_Timer to Master_Down_Interval; Transition to the {Backup} state"
t.test('master hearing a higher priority steps down to BACKUP', (t) => {
  const m = master({ priority: 100 }, 10_000);
  const r = stepFrozen(m, advert(LOWER_ADDRESS, 150, 200), 10_500);
  t.equal(r.state.state, 'BACKUP');
  t.equal(r.state.masterAdverIntervalCs, 200);
  const mdi = masterDownIntervalMs(100, 200, 3);
  t.same(r.effects, [
    { type: 'cancel-timer', timer: 'advert' },
    { type: 'arm-timer', timer: 'master-down', deadlineMs: 10_500 + mdi },
    { type: 'remove-vips' },
    { type: 'state-changed', from: 'MASTER', to: 'BACKUP', reason: `higher-priority master ${LOWER_ADDRESS} (priority 150)` },
    { type: 'run-hook', hook: 'backup', from: 'MASTER', to: 'BACKUP' },
  ]);
  t.same(r.state.master, { address: LOWER_ADDRESS, priority: 150, lastSeenMs: 10_500 });
  t.same(r.state.timers, { 'master-down': 10_500 + mdi, advert: null, 'preempt-delay': null });
  t.end();
});

t.test('a v2 master stepping down keeps its own interval', (t) => {
  const m = master({ version: 2, priority: 100 }, 10_000);
  const r = stepFrozen(m, advert(LOWER_ADDRESS, 150, 100), 10_500);
  t.equal(r.state.state, 'BACKUP');
  t.equal(r.state.timers['master-down'], 10_500 + 3609);
  t.end();
});

// RFC 5798 §6.4.3 (kept by RFC 9568 §6.4.3): "... or the Priority in the ADVERTISEMENT is equal to the local Priority and
// the primary IPvX Address of the sender is greater than the local primary IPvX Address, then:
// ... Transition to the {Backup} state"
t.test('equal priority from a higher primary address: master steps down (tie-break)', (t) => {
  const m = master({ priority: 100 }, 10_000);
  const r = stepFrozen(m, advert(HIGHER_ADDRESS, 100), 10_500);
  t.equal(r.state.state, 'BACKUP');
  t.end();
});

// RFC 9568 §6.4.3 (changed from RFC 5798, which only discarded): "else // new Active Router
// logic + Discard the ADVERTISEMENT + Send an ADVERTISEMENT immediately to assert the {Active}
// state to the sending VRRP Router and to update any learning bridges with the correct Active
// VRRP Router path." - plus haagent's announcement of the VIPs.
t.test('equal priority from a lower address: master stays and re-asserts', (t) => {
  const m = master({ priority: 100 }, 10_000);
  const r = stepFrozen(m, advert(LOWER_ADDRESS, 100), 10_500);
  t.equal(r.state, m);
  t.same(r.effects, [
    { type: 'send-advert', priority: 100 },
    { type: 'announce', reason: `lower-priority master ${LOWER_ADDRESS} (priority 100) seen` },
  ]);
  t.end();
});

t.test('lower priority: master ignores it but advertises and announces at once (split-brain heal)', (t) => {
  const m = master({ priority: 100 }, 10_000);
  const r = stepFrozen(m, advert(HIGHER_ADDRESS, 99), 10_500);
  t.equal(r.state.state, 'MASTER');
  t.same(r.effects.map((e) => e.type), ['send-advert', 'announce']);
  t.equal(r.state.timers.advert, 11_000, 'advert cadence unchanged');
  t.end();
});

t.test('master ignores its own looped-back advertisement (no send storm)', (t) => {
  const m = master({ priority: 100 }, 10_000);
  const r = stepFrozen(m, advert(m.settings.primaryAddress, 100), 10_500);
  t.same(r.effects, []);
  t.end();
});
