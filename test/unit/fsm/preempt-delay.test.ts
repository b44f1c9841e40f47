/**
 * Preempt delay (not in the RFC; keepalived's `preempt_delay`). Our rule, see backup.ts: the first
 * advertisement a backup would discard to preempt arms 'preempt-delay'; until it fires such
 * advertisements are accepted (Master_Down_Timer reset), then the backup takes over at once.
 */
import t from 'tap';
import { HIGHER_ADDRESS, LOWER_ADDRESS, advert, kinds, started, stepFrozen, transition } from './helpers.js';

const cfg = { priority: 200, preemptDelayMs: 5000 } as const;

t.test('the first lower advert arms preempt-delay and is accepted, not discarded', (t) => {
  const s = started(cfg, 0);
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 100), 1000);
  t.same(r.effects, [
    { type: 'arm-timer', timer: 'master-down', deadlineMs: 1000 + 3000 + 210 },
    { type: 'arm-timer', timer: 'preempt-delay', deadlineMs: 6000 },
  ]);
  t.same(r.state.master, { address: HIGHER_ADDRESS, priority: 100, lastSeenMs: 1000 });
  t.end();
});

t.test('during the wait lower adverts keep resetting master-down but not the wait', (t) => {
  let s = stepFrozen(started(cfg, 0), advert(HIGHER_ADDRESS, 100), 1000).state;
  for (let now = 2000; now < 6000; now += 1000) {
    const r = stepFrozen(s, advert(HIGHER_ADDRESS, 100), now);
    t.same(kinds(r.effects), ['arm-timer']);
    t.equal(r.state.timers['preempt-delay'], 6000);
    s = r.state;
  }
  t.equal(s.state, 'BACKUP');
  t.end();
});

t.test('preempt-delay firing while the master is still lower -> MASTER at once', (t) => {
  let s = stepFrozen(started(cfg, 0), advert(HIGHER_ADDRESS, 100), 1000).state;
  s = stepFrozen(s, advert(HIGHER_ADDRESS, 100), 5500).state;
  const r = stepFrozen(s, { type: 'timer', timer: 'preempt-delay' }, 6000);
  t.equal(r.state.state, 'MASTER');
  t.equal(transition(r.effects)?.reason, `preempt delay expired: preempting lower-priority master ${HIGHER_ADDRESS} (priority 100)`);
  t.same(kinds(r.effects), ['send-advert', 'add-vips', 'announce', 'arm-timer', 'cancel-timer', 'cancel-timer', 'state-changed', 'run-hook']);
  t.same(r.state.timers, { 'master-down': null, advert: 7000, 'preempt-delay': null });
  t.end();
});

t.test('a lower advert arriving after the deadline but before the fire is discarded', (t) => {
  const s = stepFrozen(started(cfg, 0), advert(HIGHER_ADDRESS, 100), 1000).state;
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 100), 6000);
  t.equal(r.state, s);
  t.same(r.effects, []);
  t.end();
});

t.test('hearing a better master cancels the wait; the next lower one starts a fresh wait', (t) => {
  let s = stepFrozen(started(cfg, 0), advert(HIGHER_ADDRESS, 100), 1000).state;
  const better = stepFrozen(s, advert(LOWER_ADDRESS, 250), 2000);
  t.same(better.effects, [
    { type: 'arm-timer', timer: 'master-down', deadlineMs: 2000 + 3210 },
    { type: 'cancel-timer', timer: 'preempt-delay' },
  ]);
  s = better.state;
  const lower = stepFrozen(s, advert(HIGHER_ADDRESS, 100), 3000);
  t.equal(lower.state.timers['preempt-delay'], 8000);
  t.end();
});

t.test('preempt-delay firing when we no longer outrank the master just clears the timer', (t) => {
  let s = stepFrozen(started(cfg, 0), advert(HIGHER_ADDRESS, 100), 1000).state;
  s = stepFrozen(s, { type: 'priority', effectivePriority: 50 }, 2000).state;
  const r = stepFrozen(s, { type: 'timer', timer: 'preempt-delay' }, 6000);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.effects, [{ type: 'cancel-timer', timer: 'preempt-delay' }]);
  t.equal(r.state.timers['preempt-delay'], null);
  t.end();
});

t.test('if the lower master goes silent during the wait, master-down still fires', (t) => {
  const s = stepFrozen(started(cfg, 0), advert(HIGHER_ADDRESS, 100), 1000).state;
  const r = stepFrozen(s, { type: 'timer', timer: 'master-down' }, 4210);
  t.equal(r.state.state, 'MASTER');
  t.same(r.state.timers, { 'master-down': null, advert: 5000, 'preempt-delay': null });
  t.end();
});

t.test('priority 0 during the wait: skew takeover, the wait is dropped with it', (t) => {
  let s = stepFrozen(started(cfg, 0), advert(HIGHER_ADDRESS, 100), 1000).state;
  s = stepFrozen(s, advert(HIGHER_ADDRESS, 0), 2000).state;
  const pd = stepFrozen(s, { type: 'timer', timer: 'preempt-delay' }, 6000);
  t.same(pd.effects, [{ type: 'cancel-timer', timer: 'preempt-delay' }], 'no preempting a master that left');
  const r = stepFrozen(s, { type: 'timer', timer: 'master-down' }, 2000 + 210);
  t.equal(transition(r.effects)?.reason, 'peer released (priority 0)');
  t.end();
});

t.test('non-preempt backups never arm a preempt delay', (t) => {
  const s = started({ ...cfg, preempt: false }, 0);
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 100), 1000);
  t.equal(r.state.timers['preempt-delay'], null);
  t.end();
});
