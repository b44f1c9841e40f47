import t from 'tap';
import { NO_TIMERS, createInstance } from '../../../src/core/fsm/create.js';
import { masterDownIntervalMs } from '../../../src/core/fsm/timers.js';
import { HIGHER_ADDRESS, LOWER_ADDRESS, advert, kinds, master, settings, started, stepFrozen, transition } from './helpers.js';

t.test('a MASTER whose priority drops advertises the new value at once and stays MASTER', (t) => {
  const m = master({ priority: 150 }, 10_000);
  const r = stepFrozen(m, { type: 'priority', effectivePriority: 90 }, 10_200);
  t.equal(r.state.state, 'MASTER');
  t.equal(r.state.effectivePriority, 90);
  t.same(r.effects, [
    { type: 'send-advert', priority: 90 },
    { type: 'arm-timer', timer: 'advert', deadlineMs: 11_000 }, // the tick grid, not 10_200 + 1000
  ]);
  t.end();
});

t.test('... and steps down only when it then hears someone better', (t) => {
  let m = master({ priority: 150 }, 10_000);
  m = stepFrozen(m, { type: 'priority', effectivePriority: 90 }, 10_200).state;
  t.equal(stepFrozen(m, advert(LOWER_ADDRESS, 89), 10_300).state.state, 'MASTER');
  t.equal(stepFrozen(m, advert(LOWER_ADDRESS, 100), 10_300).state.state, 'BACKUP');
  t.end();
});

t.test('a BACKUP whose priority rises above the master stops resetting on its adverts (preempt)', (t) => {
  let s = started({ priority: 100 }, 0);
  s = stepFrozen(s, advert(HIGHER_ADDRESS, 120), 1000).state;
  const up = stepFrozen(s, { type: 'priority', effectivePriority: 130 }, 1500);
  t.same(up.effects, [], 'nothing happens at once');
  s = up.state;
  const deadline = s.timers['master-down'];
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 120), 2000);
  t.same(r.effects, [], 'lower advert now discarded');
  t.equal(stepFrozen(r.state, { type: 'timer', timer: 'master-down' }, deadline ?? 0).state.state, 'MASTER');
  t.end();
});

t.test('the skew uses the backup\'s new priority at the next reset', (t) => {
  let s = started({ priority: 100 }, 0);
  s = stepFrozen(s, { type: 'priority', effectivePriority: 40 }, 100).state;
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 120), 1000);
  t.equal(r.state.timers['master-down'], 1000 + masterDownIntervalMs(40, 100, 3));
  t.end();
});

t.test('priority inputs are clamped; non-finite and unchanged values are ignored', (t) => {
  const s = started({ priority: 100 }, 0);
  t.equal(stepFrozen(s, { type: 'priority', effectivePriority: 0 }, 1).state.effectivePriority, 1);
  t.equal(stepFrozen(s, { type: 'priority', effectivePriority: 300 }, 1).state.effectivePriority, 255);
  t.equal(stepFrozen(s, { type: 'priority', effectivePriority: Number.NaN }, 1).state, s);
  t.equal(stepFrozen(s, { type: 'priority', effectivePriority: 100 }, 1).state, s);
  t.end();
});

t.test('an owner whose priority dropped below 255 behaves as a non-owner (no forced preempt)', (t) => {
  let s = started({ priority: 200, preempt: false }, 0);
  s = stepFrozen(s, { type: 'priority', effectivePriority: 254 }, 1).state;
  t.same(kinds(stepFrozen(s, advert(HIGHER_ADDRESS, 100), 1000).effects), ['arm-timer'], 'accepted: non-preempt');
  t.end();
});

t.test('the first fault takes a MASTER to FAULT: priority 0, VIPs removed, timers cancelled', (t) => {
  const m = master({}, 10_000);
  const r = stepFrozen(m, { type: 'fault', source: 'interface:eth0', active: true }, 10_100);
  t.equal(r.state.state, 'FAULT');
  t.same(r.effects, [
    { type: 'send-advert', priority: 0 },
    { type: 'remove-vips' },
    { type: 'cancel-timer', timer: 'advert' },
    { type: 'state-changed', from: 'MASTER', to: 'FAULT', reason: 'fault: interface:eth0' },
    { type: 'run-hook', hook: 'fault', from: 'MASTER', to: 'FAULT' },
  ]);
  t.same(r.state.timers, NO_TIMERS);
  t.same(r.state.faults, ['interface:eth0']);
  t.end();
});

t.test('the first fault takes a BACKUP to FAULT', (t) => {
  const s = started({}, 0);
  const r = stepFrozen(s, { type: 'fault', source: 'check:web', active: true }, 100);
  t.same(r.effects, [
    { type: 'cancel-timer', timer: 'master-down' },
    { type: 'state-changed', from: 'BACKUP', to: 'FAULT', reason: 'fault: check:web' },
    { type: 'run-hook', hook: 'fault', from: 'BACKUP', to: 'FAULT' },
  ]);
  t.end();
});

t.test('FAULT ignores adverts and stale timers; more faults are only recorded', (t) => {
  let s = stepFrozen(started({}, 0), { type: 'fault', source: 'a', active: true }, 100).state;
  t.same(stepFrozen(s, advert(HIGHER_ADDRESS, 0), 200).effects, []);
  t.same(stepFrozen(s, { type: 'timer', timer: 'master-down' }, 1e9).effects, []);
  const second = stepFrozen(s, { type: 'fault', source: 'b', active: true }, 300);
  t.same(second.effects, []);
  s = second.state;
  t.same(s.faults, ['a', 'b']);
  t.same(stepFrozen(s, { type: 'fault', source: 'a', active: true }, 300).effects, [], 'duplicate source: no-op');
  t.same(stepFrozen(s, { type: 'fault', source: 'zzz', active: false }, 300).effects, [], 'unknown source cleared: no-op');
  const one = stepFrozen(s, { type: 'fault', source: 'a', active: false }, 400);
  t.same(one.effects, [], 'still one fault left');
  t.equal(one.state.state, 'FAULT');
  t.end();
});

t.test('clearing the last fault: back to BACKUP as at start', (t) => {
  const s = stepFrozen(started({}, 0), { type: 'fault', source: 'a', active: true }, 100).state;
  const r = stepFrozen(s, { type: 'fault', source: 'a', active: false }, 1000);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.effects, [
    { type: 'arm-timer', timer: 'master-down', deadlineMs: 1000 + 3600 },
    { type: 'state-changed', from: 'FAULT', to: 'BACKUP', reason: 'fault cleared: a' },
    { type: 'run-hook', hook: 'backup', from: 'FAULT', to: 'BACKUP' },
  ]);
  t.same(r.state.faults, []);
  t.end();
});

t.test('clearing the last fault of an owner: straight to MASTER', (t) => {
  const s = stepFrozen(started({ priority: 255 }, 0), { type: 'fault', source: 'a', active: true }, 100).state;
  const r = stepFrozen(s, { type: 'fault', source: 'a', active: false }, 1000);
  t.equal(r.state.state, 'MASTER');
  t.equal(transition(r.effects)?.reason, 'fault cleared: a (address owner, priority 255)');
  t.end();
});

t.test('a FAULT instance records priority changes for when it returns', (t) => {
  let s = stepFrozen(started({ priority: 100 }, 0), { type: 'fault', source: 'a', active: true }, 100).state;
  s = stepFrozen(s, { type: 'priority', effectivePriority: 255 }, 200).state;
  t.equal(stepFrozen(s, { type: 'fault', source: 'a', active: false }, 300).state.state, 'MASTER');
  t.end();
});

t.test('faults recorded in INIT and cleared before start leave no trace', (t) => {
  let s = createInstance(settings(), 0);
  s = stepFrozen(s, { type: 'fault', source: 'a', active: true }, 0).state;
  s = stepFrozen(s, { type: 'fault', source: 'a', active: false }, 0).state;
  t.equal(stepFrozen(s, { type: 'start' }, 0).state.state, 'BACKUP');
  t.end();
});
