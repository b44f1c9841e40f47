/**
 * Election on etcd in the state machine (src/core/fsm/takeover.ts, handover.ts): every claim
 * must win the leader key (asked in the run-guards attempt, answered with reason 'etcd' when it
 * could not), a MASTER that loses the key releases at once, a free key is claimed on `claim`,
 * a handover is break-before-make, and promote --force is refused. Fake clock throughout.
 */
import t from 'tap';
import { createInstance } from '../../../src/core/fsm/create.js';
import type { Effect, InstanceSettings, InstanceState, TakeoverSettings } from '../../../src/core/fsm/types.js';
import { advert, HIGHER_ADDRESS, settings, stepFrozen, transition } from './helpers.js';

const ETCD: TakeoverSettings = {
  guarded: false, guardRetryMs: 2000, coldStartTimeoutMs: null, promotionBackoffMs: 10_000, holdWhileDemoting: false, etcd: { retryMs: 250 },
};

function withEtcd(over: Partial<TakeoverSettings> = {}, more: Partial<InstanceSettings> = {}): InstanceSettings {
  return settings({ takeover: { ...ETCD, ...over }, ...more });
}

function backup(s: InstanceSettings): { state: InstanceState; deadline: number } {
  const state = stepFrozen(createInstance(s, 0), { type: 'start' }, 0).state;
  return { state, deadline: state.timers['master-down'] ?? -1 };
}

function find<T extends Effect['type']>(effects: readonly Effect[], type: T): Extract<Effect, { type: T }> | undefined {
  return effects.find((e): e is Extract<Effect, { type: T }> => e.type === type);
}

/** A MASTER that won the key at `deadline + 10`. */
function master(s: InstanceSettings = withEtcd()): { state: InstanceState; at: number } {
  const { state, deadline } = backup(s);
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const r = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: true, detail: 'leader key won' }, deadline + 10);
  return { state: r.state, at: deadline + 10 };
}

t.test('a Master_Down expiry asks for the key (run-guards) even without guards, and stays BACKUP', (t) => {
  const { state, deadline } = backup(withEtcd());
  const r = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  t.equal(r.state.state, 'BACKUP');
  t.same(find(r.effects, 'run-guards'), { type: 'run-guards', attempt: 1 });
  t.notOk(find(r.effects, 'add-vips'));
  t.end();
});

t.test('the key held elsewhere: blocked with reason etcd, retried every etcd.retryMs (not guard-retry)', (t) => {
  const { state, deadline } = backup(withEtcd());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const f = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'the leader key is held by 10.0.0.2', reason: 'etcd' }, deadline + 5);
  t.equal(f.state.state, 'BACKUP');
  t.equal(f.state.takeover.blocked?.reason, 'etcd');
  t.same(find(f.effects, 'arm-guard-retry'), { type: 'arm-guard-retry', deadlineMs: deadline + 255 });
  t.same(find(f.effects, 'takeover-blocked'), { type: 'takeover-blocked', reason: 'etcd', detail: 'the leader key is held by 10.0.0.2', active: true });
  const retry = stepFrozen(f.state, { type: 'guard-retry' }, deadline + 255);
  t.same(find(retry.effects, 'run-guards'), { type: 'run-guards', attempt: 2 });
  const won = stepFrozen(retry.state, { type: 'guards-result', attempt: 2, ok: true, detail: 'leader key won' }, deadline + 260);
  t.equal(won.state.state, 'MASTER');
  t.same(find(won.effects, 'takeover-blocked'), { type: 'takeover-blocked', reason: 'etcd', detail: 'the leader key is held by 10.0.0.2', active: false });
  t.end();
});

t.test('a failed guard still blocks with reason guard and the guard retry', (t) => {
  const { state, deadline } = backup(withEtcd({ guarded: true }));
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const f = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'fresh: exit 1' }, deadline + 5);
  t.equal(f.state.takeover.blocked?.reason, 'guard');
  t.same(find(f.effects, 'arm-guard-retry'), { type: 'arm-guard-retry', deadlineMs: deadline + 2005 });
  t.end();
});

t.test('lock-lost: a MASTER sends priority 0, removes the VIPs, is BACKUP and waits for the key (no backoff)', (t) => {
  const { state, at } = master();
  t.equal(state.state, 'MASTER');
  const r = stepFrozen(state, { type: 'lock-lost', detail: 'the lease passed its fence deadline' }, at + 1000);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.effects[0], { type: 'send-advert', priority: 0 }, 'priority 0 first');
  t.ok(find(r.effects, 'remove-vips'));
  t.match(transition(r.effects)?.reason, /leader key lost: the lease passed its fence deadline/);
  t.equal(r.state.takeover.blocked?.reason, 'etcd');
  t.equal(r.state.takeover.backoffUntilMs, null, 'no promotion backoff');
  t.same(find(r.effects, 'arm-guard-retry'), { type: 'arm-guard-retry', deadlineMs: at + 1250 });
  t.end();
});

t.test('lock-lost is ignored outside MASTER and without etcd settings', (t) => {
  const { state } = backup(withEtcd());
  const r = stepFrozen(state, { type: 'lock-lost', detail: 'x' }, 100);
  t.equal(r.state, state);
  const plain = backup(settings());
  const m = stepFrozen(plain.state, { type: 'timer', timer: 'master-down' }, plain.deadline);
  t.equal(m.state.state, 'MASTER');
  t.equal(stepFrozen(m.state, { type: 'lock-lost', detail: 'x' }, plain.deadline + 5).state, m.state);
  t.end();
});

t.test('claim: a BACKUP with no claim pending asks for the key now; otherwise nothing', (t) => {
  const { state } = backup(withEtcd());
  const r = stepFrozen(state, { type: 'claim', reason: 'the leader key is free' }, 100);
  t.same(find(r.effects, 'run-guards'), { type: 'run-guards', attempt: 1 });
  t.equal(r.state.takeover.claimReason, 'the leader key is free');
  const again = stepFrozen(r.state, { type: 'claim', reason: 'the leader key is free' }, 150);
  t.equal(again.state, r.state, 'a pending claim is not made twice');
  const maint = stepFrozen(state, { type: 'maintenance', on: true }, 10).state;
  t.equal(stepFrozen(maint, { type: 'claim', reason: 'free' }, 100).state, maint, 'not in maintenance');
  const plain = backup(settings()).state;
  t.equal(stepFrozen(plain, { type: 'claim', reason: 'free' }, 100).state, plain, 'plain VRRP ignores it');
  t.end();
});

t.test('a master advert heard while the key holds the claim back cancels the claim', (t) => {
  const { state, deadline } = backup(withEtcd());
  const g = stepFrozen(state, { type: 'timer', timer: 'master-down' }, deadline);
  const f = stepFrozen(g.state, { type: 'guards-result', attempt: 1, ok: false, detail: 'held', reason: 'etcd' }, deadline + 5);
  const a = stepFrozen(f.state, advert(HIGHER_ADDRESS, 200), deadline + 20);
  t.equal(a.state.takeover.phase, 'idle');
  t.equal(a.state.takeover.blocked, null);
  t.end();
});

t.test('switchover and maintenance on a MASTER are break-before-make: the VIPs go at once', (t) => {
  for (const input of [{ type: 'switchover' }, { type: 'maintenance', on: true }] as const) {
    const { state, at } = master();
    const r = stepFrozen(state, input, at + 100);
    t.equal(r.state.state, 'BACKUP', input.type);
    t.equal(r.state.releasing, false, `${input.type}: not releasing`);
    t.ok(find(r.effects, 'remove-vips'), `${input.type}: VIPs removed now`);
  }
  t.end();
});

t.test('promote --force is refused: only the key makes a MASTER', (t) => {
  const { state } = backup(withEtcd());
  const r = stepFrozen(state, { type: 'promote-force' }, 100);
  t.equal(r.state, state);
  t.end();
});
