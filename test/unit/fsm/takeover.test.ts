/**
 * Data-consistent takeovers (src/core/fsm/takeover.ts): guards at the decision point, the
 * backoff after a failed promotion, the cold-start wait, ordered demotion and the forced
 * promotion. Not RFC 9568 (nor RFC 5798): each test names the rule it checks. Fake clock throughout.
 */
import t from 'tap';
import { createInstance } from '../../../src/core/fsm/create.js';
import { forcePromoteRefusal } from '../../../src/core/fsm/takeover.js';
import type { Effect, InstanceSettings, InstanceState, TakeoverSettings } from '../../../src/core/fsm/types.js';
import { advert, HIGHER_ADDRESS, kinds, LOWER_ADDRESS, settings, stepFrozen, transition } from './helpers.js';

const TAKEOVER: TakeoverSettings = {
  guarded: true, guardRetryMs: 2000, coldStartTimeoutMs: null, promotionBackoffMs: 10_000, holdWhileDemoting: false,
};

function withTakeover(over: Partial<TakeoverSettings> = {}, more: Partial<InstanceSettings> = {}): InstanceSettings {
  return settings({ takeover: { ...TAKEOVER, ...over }, ...more });
}

/** Started BACKUP at 0; returns the state and its Master_Down deadline. */
function backup(s: InstanceSettings): { state: InstanceState; deadline: number } {
  const state = stepFrozen(createInstance(s, 0), { type: 'start' }, 0).state;
  return { state, deadline: state.timers['master-down'] ?? -1 };
}

function find<T extends Effect['type']>(effects: readonly Effect[], type: T): Extract<Effect, { type: T }> | undefined {
  return effects.find((e): e is Extract<Effect, { type: T }> => e.type === type);
}

t.test('without takeover settings a Master_Down expiry is MASTER at once (RFC behaviour kept)', (t) => {
  const { state, deadline } = backup(settings());
  const r = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  t.equal(r.state.state, 'MASTER');
  t.notOk(find(r.effects, 'run-guards'));
  t.notOk(find(r.effects, 'takeover-blocked'));
  t.end();
});

t.test('guards: a Master_Down expiry runs the guards and stays BACKUP, without timers', (t) => {
  const { state, deadline } = backup(withTakeover());
  const r = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  t.equal(r.state.state, 'BACKUP');
  t.equal(r.state.takeover.phase, 'guarding');
  t.same(find(r.effects, 'run-guards'), { type: 'run-guards', attempt: 1 });
  t.notOk(find(r.effects, 'add-vips'), 'no VIP while guarding');
  t.notOk(find(r.effects, 'send-advert'), 'no advert as master while guarding');
  t.equal(r.state.timers['master-down'], null);
  t.equal(r.state.takeover.blocked, null, 'a first run is not a block');
  t.end();
});

t.test('guards: all pass -> MASTER with the claim reason', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const r = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: true, detail: '' }, deadline + 50);
  t.equal(r.state.state, 'MASTER');
  t.equal(r.state.takeover.phase, 'idle');
  t.match(transition(r.effects)?.reason, /takeover guards passed/);
  t.ok(find(r.effects, 'add-vips'));
  t.end();
});

t.test('guards: a failure stays BACKUP blocked (reason guard), arms the retry, says so once', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const f = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'fresh: exit 1' }, deadline + 10);
  t.equal(f.state.state, 'BACKUP');
  t.equal(f.state.takeover.phase, 'blocked');
  t.same(f.state.takeover.blocked, { reason: 'guard', detail: 'fresh: exit 1', sinceMs: deadline + 10 });
  t.same(find(f.effects, 'arm-guard-retry'), { type: 'arm-guard-retry', deadlineMs: deadline + 2010 });
  t.same(find(f.effects, 'takeover-blocked'), { type: 'takeover-blocked', reason: 'guard', detail: 'fresh: exit 1', active: true });
  t.notOk(transition(f.effects), 'no transition');

  // The retry runs the guards again; the block stays visible meanwhile, no second event.
  const retry = stepFrozen(f.state, { type: 'guard-retry' }, deadline + 2010);
  t.same(find(retry.effects, 'run-guards'), { type: 'run-guards', attempt: 2 });
  t.equal(retry.state.takeover.blocked?.reason, 'guard');
  t.notOk(find(retry.effects, 'takeover-blocked'));
  const again = stepFrozen(retry.state, { type: 'guards-result', attempt: 2, ok: false, detail: 'fresh: exit 1' }, deadline + 2020);
  t.notOk(find(again.effects, 'takeover-blocked'), 'same reason again: no new event');
  t.equal(again.state.takeover.blocked?.sinceMs, deadline + 10, 'since is kept');

  // Passing at last: MASTER, and the block is reported over.
  const r2 = stepFrozen(again.state, { type: 'guard-retry' }, deadline + 4020);
  const ok = stepFrozen(r2.state, { type: 'guards-result', attempt: 3, ok: true, detail: '' }, deadline + 4030);
  t.equal(ok.state.state, 'MASTER');
  t.same(find(ok.effects, 'takeover-blocked'), { type: 'takeover-blocked', reason: 'guard', detail: 'fresh: exit 1', active: false });
  t.end();
});

t.test('guards: a stale result (other attempt) or an early retry fire changes nothing', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const stale = stepFrozen(g.state, { type: 'guards-result', attempt: 7, ok: true, detail: '' }, deadline + 1);
  t.equal(stale.state, g.state);
  const f = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'x' }, deadline + 1);
  const early = stepFrozen(f.state, { type: 'guard-retry' }, deadline + 100);
  t.equal(early.state, f.state);
  t.end();
});

t.test('guards: a master advert heard meanwhile cancels the attempt; its late result is ignored', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const a = stepFrozen(g.state, advert(HIGHER_ADDRESS, 100), deadline + 20);
  t.equal(a.state.takeover.phase, 'idle');
  t.ok(a.state.timers['master-down'], 'watching the master again');
  const late = stepFrozen(a.state, { type: 'guards-result', attempt: 1, ok: true, detail: '' }, deadline + 30);
  t.equal(late.state.state, 'BACKUP');
  t.notOk(find(late.effects, 'add-vips'));
  t.end();
});

t.test('guards: a blocked claim is cancelled by a master advert (event active false)', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const f = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'x' }, deadline + 1);
  const a = stepFrozen(f.state, advert(HIGHER_ADDRESS, 100), deadline + 20);
  t.equal(a.state.takeover.blocked, null);
  t.ok(find(a.effects, 'cancel-guard-retry'));
  t.same(find(a.effects, 'takeover-blocked'), { type: 'takeover-blocked', reason: 'guard', detail: 'x', active: false });
  t.end();
});

t.test('guards: a lower master we preempt does not cancel the claim', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const a = stepFrozen(g.state, advert(LOWER_ADDRESS, 50), deadline + 20);
  t.equal(a.state.takeover.phase, 'guarding');
  t.equal(a.state, g.state);
  t.end();
});

t.test('guards: an owner\'s start claims through the guards (INIT -> BACKUP first)', (t) => {
  const r = stepFrozen(createInstance(withTakeover({}, { priority: 255 }), 0), { type: 'start' }, 0);
  t.equal(r.state.state, 'BACKUP');
  t.equal(transition(r.effects)?.to, 'BACKUP');
  t.ok(find(r.effects, 'run-guards'));
  t.end();
});

t.test('guards: maintenance switched on while guarding -> no MASTER when they pass', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const m = stepFrozen(g.state, { type: 'maintenance', on: true }, deadline + 1);
  const r = stepFrozen(m.state, { type: 'guards-result', attempt: 1, ok: true, detail: '' }, deadline + 2);
  t.equal(r.state.state, 'BACKUP');
  t.equal(r.state.takeover.phase, 'idle');
  t.end();
});

t.test('guards: entering FAULT ends a blocked claim and its retry timer', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const f = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'x' }, deadline + 1);
  const fault = stepFrozen(f.state, { type: 'fault', source: 'check:a', active: true }, deadline + 5);
  t.equal(fault.state.state, 'FAULT');
  t.equal(fault.state.takeover.phase, 'idle');
  t.ok(find(fault.effects, 'cancel-guard-retry'));
  t.same(find(fault.effects, 'takeover-blocked'), { type: 'takeover-blocked', reason: 'guard', detail: 'x', active: false });
  t.end();
});

function masterOf(s: InstanceSettings): { state: InstanceState; at: number } {
  const { state, deadline } = backup(s);
  let r = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  if (r.state.takeover.phase === 'guarding') r = stepFrozen(r.state, { type: 'guards-result', attempt: r.state.takeover.attempt, ok: true, detail: '' }, deadline);
  return { state: r.state, at: deadline };
}

t.test('failed promotion: priority 0, BACKUP, held back for the backoff, then claims again', (t) => {
  const { state, at } = masterOf(withTakeover({ guarded: false, promotionBackoffMs: 5000 }));
  t.equal(state.state, 'MASTER');
  const r = stepFrozen(state, { type: 'promotion-failed', detail: 'before-master exit 1' }, at + 100);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.effects[0], { type: 'send-advert', priority: 0 }, 'priority 0 first: the peer takes over after Skew_Time');
  t.match(transition(r.effects)?.reason, /promotion failed: before-master exit 1/);
  t.equal(r.state.takeover.blocked?.reason, 'promotion-backoff');
  t.same(find(r.effects, 'arm-guard-retry'), { type: 'arm-guard-retry', deadlineMs: at + 5100 });
  t.notOk(kinds(r.effects).includes('add-vips'));
  // The peer takes over: its advert ends the claim, but the backoff still holds a new one back.
  const peer = stepFrozen(r.state, advert(HIGHER_ADDRESS, 100), at + 800);
  t.equal(peer.state.takeover.phase, 'idle');
  const down = stepFrozen(peer.state, { type: 'timer', timer: 'master-down' }, peer.state.timers['master-down'] ?? 0);
  t.equal(down.state.state, 'BACKUP', 'within the backoff: no MASTER');
  t.equal(down.state.takeover.blocked?.reason, 'promotion-backoff');
  // After the backoff the retry makes the claim: MASTER.
  const retry = stepFrozen(down.state, { type: 'guard-retry' }, at + 5100);
  t.equal(retry.state.state, 'MASTER');
  t.end();
});

t.test('failed promotion without takeover settings: default backoff of 10 s', (t) => {
  const { state, at } = masterOf(settings());
  const r = stepFrozen(state, { type: 'promotion-failed', detail: 'x' }, at);
  t.equal(r.state.takeover.backoffUntilMs, at + 10_000);
  t.equal(r.state.state, 'BACKUP');
  t.end();
});

t.test('failed promotion reported after the node already left MASTER: only the backoff', (t) => {
  const { state } = backup(settings());
  const r = stepFrozen(state, { type: 'promotion-failed', detail: 'x' }, 500);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.effects, []);
  t.equal(r.state.takeover.backoffUntilMs, 10_500);
  t.end();
});

t.test('cold start: no MASTER before a peer was heard or the timeout; after it, MASTER (no guards)', (t) => {
  const { state, deadline } = backup(withTakeover({ guarded: false, coldStartTimeoutMs: 60_000 }));
  t.equal(state.takeover.coldStartUntilMs, 60_000);
  const r = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  t.equal(r.state.state, 'BACKUP');
  t.equal(r.state.takeover.blocked?.reason, 'cold-start');
  t.same(find(r.effects, 'arm-guard-retry'), { type: 'arm-guard-retry', deadlineMs: 60_000 });
  t.same(find(r.effects, 'takeover-blocked')?.active, true);
  const late = stepFrozen(r.state, { type: 'guard-retry' }, 60_000);
  t.equal(late.state.state, 'MASTER');
  t.end();
});

t.test('cold start: after the timeout the guards still decide', (t) => {
  const { state, deadline } = backup(withTakeover({ coldStartTimeoutMs: 10_000 }));
  const r = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  t.equal(r.state.takeover.blocked?.reason, 'cold-start');
  const late = stepFrozen(r.state, { type: 'guard-retry' }, 10_000);
  t.equal(late.state.state, 'BACKUP');
  t.ok(find(late.effects, 'run-guards'));
  const fail = stepFrozen(late.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'stale' }, 10_050);
  t.equal(fail.state.takeover.blocked?.reason, 'guard');
  t.end();
});

t.test('cold start: a peer heard ends the wait and the node watches for a master again', (t) => {
  const { state, deadline } = backup(withTakeover({ guarded: false, coldStartTimeoutMs: 60_000 }));
  const r = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const h = stepFrozen(r.state, { type: 'peer-heard' }, deadline + 100);
  t.equal(h.state.takeover.peerHeard, true);
  t.equal(h.state.takeover.blocked, null);
  t.ok(h.state.timers['master-down'], 'Master_Down_Timer armed again');
  const down = stepFrozen(h.state, { type: 'timer', timer: 'master-down' }, h.state.timers['master-down'] ?? 0);
  t.equal(down.state.state, 'MASTER', 'nobody took over: a peer was heard, so this node may');
  t.end();
});

t.test('cold start: a peer heard before the expiry means no wait at all', (t) => {
  const { state, deadline } = backup(withTakeover({ guarded: false, coldStartTimeoutMs: 60_000 }));
  const h = stepFrozen(state, { type: 'peer-heard' }, 10);
  t.same(h.effects, []);
  const r = stepFrozen(h.state, { type: 'timer', timer: 'master-down' }, deadline);
  t.equal(r.state.state, 'MASTER');
  t.end();
});

t.test('ordered demotion: no claim until the demote hook is done', (t) => {
  const s = withTakeover({ guarded: false, holdWhileDemoting: true });
  const { state, at } = masterOf(s);
  const down = stepFrozen(state, advert(HIGHER_ADDRESS, 100), at + 10);
  t.equal(down.state.state, 'BACKUP');
  t.equal(down.state.takeover.demoting, true);
  const ks = kinds(down.effects);
  t.ok(ks.indexOf('remove-vips') < ks.indexOf('run-hook'), 'VIPs removed before the demote hook');
  const expiry = stepFrozen(down.state, { type: 'timer', timer: 'master-down' }, down.state.timers['master-down'] ?? 0);
  t.equal(expiry.state.state, 'BACKUP');
  t.equal(expiry.state.takeover.blocked?.reason, 'demote-hook');
  t.notOk(find(expiry.effects, 'arm-guard-retry'), 'no timer: the hook\'s end retries');
  const done = stepFrozen(expiry.state, { type: 'demote-hook-done' }, (down.state.timers['master-down'] ?? 0) + 500);
  t.equal(done.state.state, 'MASTER');
  t.equal(done.state.takeover.demoting, false);
  t.end();
});

t.test('ordered demotion: off without holdWhileDemoting', (t) => {
  const { state, at } = masterOf(withTakeover({ guarded: false }));
  const down = stepFrozen(state, advert(HIGHER_ADDRESS, 100), at + 10);
  t.equal(down.state.takeover.demoting, false);
  t.end();
});

t.test('promote --force: past a failing guard, refused with a live master', (t) => {
  const { state, deadline } = backup(withTakeover());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const f = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'x' }, deadline + 1);
  t.equal(forcePromoteRefusal(f.state, deadline + 2), undefined);
  const forced = stepFrozen(f.state, { type: 'promote-force' }, deadline + 2);
  t.equal(forced.state.state, 'MASTER');
  t.match(transition(forced.effects)?.reason, /promote --force/);
  t.ok(find(forced.effects, 'cancel-guard-retry'));

  const live = stepFrozen(state, advert(HIGHER_ADDRESS, 100), 100).state;
  t.equal(forcePromoteRefusal(live, 200), `VI_1 has a master (${HIGHER_ADDRESS}); run switchover there`);
  t.equal(stepFrozen(live, { type: 'promote-force' }, 200).state, live, 'refused: nothing changes');
  t.match(forcePromoteRefusal(forced.state, deadline + 3), /already MASTER/);
  t.end();
});

t.test('promote --force: past the cold-start wait and the backoff', (t) => {
  const { state } = backup(withTakeover({ guarded: false, coldStartTimeoutMs: 60_000 }));
  const r = stepFrozen(state, { type: 'promote-force' }, 5);
  t.equal(r.state.state, 'MASTER');
  const failed = stepFrozen(r.state, { type: 'promotion-failed', detail: 'x' }, 10);
  t.equal(failed.state.takeover.blocked?.reason, 'promotion-backoff');
  const again = stepFrozen(failed.state, { type: 'promote-force' }, 20);
  t.equal(again.state.state, 'MASTER');
  t.end();
});

t.test('cold start counts from the agent\'s boot when the start says so (an instance restarted by a reload)', (t) => {
  const s = withTakeover({ guarded: false, coldStartTimeoutMs: 60_000 });
  const late = stepFrozen(createInstance(s, 100_000), { type: 'start', coldStartFromMs: 0 }, 100_000).state;
  t.equal(late.takeover.coldStartUntilMs, 60_000, 'the wait ended long ago');
  const r = stepFrozen(late, { type: 'timer', timer: 'master-down' }, late.timers['master-down'] ?? 0);
  t.equal(r.state.state, 'MASTER');
  const early = stepFrozen(createInstance(s, 10_000), { type: 'start', coldStartFromMs: 0 }, 10_000).state;
  t.equal(early.takeover.coldStartUntilMs, 60_000, 'the rest of the wait from boot');
  t.end();
});

t.test('a promotion backoff carried into a restart (reload) still holds; one already over does not', (t) => {
  const s = withTakeover({ guarded: false });
  const started = stepFrozen(createInstance(s, 0), { type: 'start', backoffUntilMs: 60_000 }, 0).state;
  const deadline = started.timers['master-down'] ?? -1;
  const held = stepFrozen(started, { type: 'timer', timer: 'master-down' }, deadline);
  t.equal(held.state.state, 'BACKUP', 'the backoff of the earlier runner keeps it out');
  t.equal(held.state.takeover.blocked?.reason, 'promotion-backoff');
  const over = stepFrozen(createInstance(s, 0), { type: 'start', backoffUntilMs: -1 }, 0).state;
  t.equal(stepFrozen(over, { type: 'timer', timer: 'master-down' }, over.timers['master-down'] ?? -1).state.state, 'MASTER', 'a backoff already over is ignored');
  t.end();
});
