import t from 'tap';
import { NO_TIMERS, createInstance } from '../../../src/core/fsm/create.js';
import { HIGHER_ADDRESS, advert, master, settings, started, stepFrozen, transition } from './helpers.js';

// RFC 5798 §6.4.3 (kept by RFC 9568 §6.4.3): "If a Shutdown event is received, then: Cancel the Adver_Timer; Send an
// ADVERTISEMENT with Priority = 0; Transition to the {Initialize} state" (here: STOPPED, and the
// VIPs are removed).
t.test('MASTER shutdown: priority-0 advert, VIPs removed, timers cancelled, STOPPED', (t) => {
  const m = master({}, 10_000);
  const r = stepFrozen(m, { type: 'shutdown' }, 10_400);
  t.equal(r.state.state, 'STOPPED');
  t.same(r.effects, [
    { type: 'send-advert', priority: 0 },
    { type: 'remove-vips' },
    { type: 'cancel-timer', timer: 'advert' },
    { type: 'state-changed', from: 'MASTER', to: 'STOPPED', reason: 'shutdown' },
    { type: 'run-hook', hook: 'stop', from: 'MASTER', to: 'STOPPED' },
  ]);
  t.same(r.state.timers, NO_TIMERS);
  t.end();
});

// RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2): "If a Shutdown event is received, then: Cancel the Master_Down_Timer;
// Transition to the {Initialize} state"
t.test('BACKUP shutdown: cancel master-down, STOPPED, no advert', (t) => {
  const r = stepFrozen(started({}, 0), { type: 'shutdown' }, 100);
  t.same(r.effects, [
    { type: 'cancel-timer', timer: 'master-down' },
    { type: 'state-changed', from: 'BACKUP', to: 'STOPPED', reason: 'shutdown' },
    { type: 'run-hook', hook: 'stop', from: 'BACKUP', to: 'STOPPED' },
  ]);
  t.end();
});

t.test('shutdown from INIT and FAULT', (t) => {
  t.equal(transition(stepFrozen(createInstance(settings(), 0), { type: 'shutdown' }, 1).effects)?.from, 'INIT');
  const f = stepFrozen(started({}, 0), { type: 'fault', source: 'x', active: true }, 1).state;
  const r = stepFrozen(f, { type: 'shutdown' }, 2);
  t.same(r.effects.map((e) => e.type), ['state-changed', 'run-hook']);
  t.end();
});

t.test('STOPPED ignores everything but start; shutdown is idempotent', (t) => {
  const s = stepFrozen(master({}, 10_000), { type: 'shutdown' }, 10_400).state;
  t.same(stepFrozen(s, { type: 'shutdown' }, 10_500).effects, []);
  t.same(stepFrozen(s, advert(HIGHER_ADDRESS, 0), 10_500).effects, []);
  t.same(stepFrozen(s, { type: 'timer', timer: 'advert' }, 1e9).effects, []);
  t.same(stepFrozen(s, { type: 'priority', effectivePriority: 7 }, 10_500).effects, []);
  t.same(stepFrozen(s, { type: 'fault', source: 'x', active: true }, 10_500).effects, []);
  t.end();
});

t.test('start after shutdown restarts as from INIT', (t) => {
  const stopped = stepFrozen(master({}, 10_000), { type: 'shutdown' }, 10_400).state;
  const r = stepFrozen(stopped, { type: 'start' }, 20_000);
  t.equal(r.state.state, 'BACKUP');
  t.equal(r.state.timers['master-down'], 23_600);
  t.same(transition(r.effects), { type: 'state-changed', from: 'STOPPED', to: 'BACKUP', reason: 'restart' });
  t.end();
});
