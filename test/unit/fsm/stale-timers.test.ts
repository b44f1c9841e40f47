import t from 'tap';
import { HIGHER_ADDRESS, advert, master, started, stepFrozen } from './helpers.js';

// types.ts: "A timer input whose deadline is not the one the state currently holds (stale fire)
// is ignored by the core."
t.test('a timer that fires before its deadline (re-armed since) is ignored', (t) => {
  let s = started({}, 0);
  s = stepFrozen(s, advert(HIGHER_ADDRESS, 200), 3000).state; // master-down moved to 6600
  const r = stepFrozen(s, { type: 'timer', timer: 'master-down' }, 3600);
  t.equal(r.state, s);
  t.same(r.effects, []);
  t.end();
});

t.test('a timer that is not armed is ignored', (t) => {
  const s = started({}, 0);
  t.same(stepFrozen(s, { type: 'timer', timer: 'advert' }, 1e9).effects, [], 'advert in BACKUP');
  t.same(stepFrozen(s, { type: 'timer', timer: 'preempt-delay' }, 1e9).effects, []);
  const m = master({}, 10_000);
  t.same(stepFrozen(m, { type: 'timer', timer: 'master-down' }, 1e9).effects, [], 'master-down in MASTER');
  t.end();
});

t.test('a cancelled advert timer firing after step-down is ignored', (t) => {
  const m = master({ priority: 100 }, 10_000);
  const b = stepFrozen(m, advert(HIGHER_ADDRESS, 200), 10_500).state;
  t.same(stepFrozen(b, { type: 'timer', timer: 'advert' }, 11_000).effects, []);
  t.end();
});

t.test('defensive: a due timer of a kind the state never arms is ignored', (t) => {
  const s = started({}, 0);
  const odd = { ...s, timers: { ...s.timers, advert: 5 } };
  t.same(stepFrozen(odd, { type: 'timer', timer: 'advert' }, 10).effects, []);
  const m = master({}, 10_000);
  const oddM = { ...m, timers: { ...m.timers, 'preempt-delay': 5 } };
  t.same(stepFrozen(oddM, { type: 'timer', timer: 'preempt-delay' }, 10).effects, []);
  t.end();
});
