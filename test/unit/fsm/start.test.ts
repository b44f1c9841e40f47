import t from 'tap';
import { createInstance } from '../../../src/core/fsm/create.js';
import { NO_TIMERS } from '../../../src/core/fsm/create.js';
import { masterDownIntervalMs } from '../../../src/core/fsm/timers.js';
import { settings, started, stepFrozen, transition } from './helpers.js';

t.test('createInstance: INIT, no timers, configured priority and interval', (t) => {
  const s = createInstance(settings({ priority: 120, advertIntervalCs: 50 }), 42);
  t.equal(s.state, 'INIT');
  t.same(s.timers, NO_TIMERS);
  t.equal(s.effectivePriority, 120);
  t.equal(s.masterAdverIntervalCs, 50);
  t.equal(s.master, null);
  t.same(s.faults, []);
  t.equal(s.enteredStateAtMs, 42);
  t.end();
});

// RFC 5798 §6.4.1 (kept by RFC 9568 §6.4.1): "If the Priority = 255 (i.e., the router owns the IPvX address associated
// with the virtual router), then: Send an ADVERTISEMENT ... broadcast a gratuitous ARP request
// containing the virtual router MAC address for each IP address associated with the virtual
// router ... Set the Adver_Timer to Advertisement_Interval; Transition to the {Master} state"
t.test('owner (priority 255) becomes MASTER at once on start', (t) => {
  const r = stepFrozen(createInstance(settings({ priority: 255 }), 0), { type: 'start' }, 1000);
  t.equal(r.state.state, 'MASTER');
  t.same(r.effects, [
    { type: 'send-advert', priority: 255 },
    { type: 'add-vips' },
    { type: 'announce', reason: 'start (address owner, priority 255)' },
    { type: 'arm-timer', timer: 'advert', deadlineMs: 2000 },
    { type: 'state-changed', from: 'INIT', to: 'MASTER', reason: 'start (address owner, priority 255)' },
    { type: 'run-hook', hook: 'master', from: 'INIT', to: 'MASTER' },
  ]);
  t.equal(r.state.timers.advert, 2000);
  t.equal(r.state.enteredStateAtMs, 1000);
  t.end();
});

// RFC 5798 §6.4.1 (kept by RFC 9568 §6.4.1): "else // rtr does not own virt addr: Set Master_Adver_Interval to
// Advertisement_Interval; Set the Master_Down_Timer to Master_Down_Interval; Transition to the
// {Backup} state"
t.test('non-owner becomes BACKUP with the Master_Down_Timer at Master_Down_Interval (v3)', (t) => {
  const r = stepFrozen(createInstance(settings({ priority: 100, advertIntervalCs: 100 }), 0), { type: 'start' }, 500);
  t.equal(r.state.state, 'BACKUP');
  t.equal(r.state.masterAdverIntervalCs, 100);
  t.same(r.effects, [
    { type: 'arm-timer', timer: 'master-down', deadlineMs: 500 + 3600 },
    { type: 'state-changed', from: 'INIT', to: 'BACKUP', reason: 'start' },
    { type: 'run-hook', hook: 'backup', from: 'INIT', to: 'BACKUP' },
  ]);
  t.end();
});

// RFC 3768 §6.4.1: "Set the Master_Down_Timer to Master_Down_Interval" with v2 timing.
t.test('non-owner v2 BACKUP arms master-down with v2 skew', (t) => {
  const s = started({ version: 2, priority: 100, advertIntervalCs: 100 }, 0);
  t.equal(s.timers['master-down'], 3609);
  t.equal(s.timers['master-down'], masterDownIntervalMs(100, 100, 2));
  t.end();
});

t.test('an active fault at start enters FAULT, not BACKUP or MASTER', (t) => {
  let s = createInstance(settings({ priority: 255 }), 0);
  s = stepFrozen(s, { type: 'fault', source: 'interface:eth0', active: true }, 0).state;
  t.equal(s.state, 'INIT', 'a fault in INIT is only recorded');
  const r = stepFrozen(s, { type: 'start' }, 10);
  t.equal(r.state.state, 'FAULT');
  t.same(r.state.timers, NO_TIMERS);
  t.same(r.effects, [
    { type: 'state-changed', from: 'INIT', to: 'FAULT', reason: 'start; fault active: interface:eth0' },
    { type: 'run-hook', hook: 'fault', from: 'INIT', to: 'FAULT' },
  ]);
  t.end();
});

t.test('a priority recorded in INIT is used at start', (t) => {
  let s = createInstance(settings({ priority: 255 }), 0);
  s = stepFrozen(s, { type: 'priority', effectivePriority: 200 }, 0).state;
  const r = stepFrozen(s, { type: 'start' }, 0);
  t.equal(r.state.state, 'BACKUP', 'an owner whose priority dropped behaves as a non-owner');
  t.equal(r.state.timers['master-down'], masterDownIntervalMs(200, 100, 3));
  t.end();
});

t.test('start while running is ignored', (t) => {
  const s = started();
  const r = stepFrozen(s, { type: 'start' }, 5);
  t.equal(r.state, s);
  t.same(r.effects, []);
  t.end();
});

t.test('INIT ignores adverts and timers', (t) => {
  const s = createInstance(settings(), 0);
  t.same(stepFrozen(s, { type: 'advert', from: '10.0.0.9', priority: 200, maxAdvertIntervalCs: 100 }, 1).effects, []);
  t.same(stepFrozen(s, { type: 'timer', timer: 'master-down' }, 1e9).effects, []);
  t.equal(transition(stepFrozen(s, { type: 'start' }, 1).effects)?.to, 'BACKUP');
  t.end();
});
