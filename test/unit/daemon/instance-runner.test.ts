/**
 * InstanceRunner's takeover path with fake adapters (no sockets, no netlink) and real timers:
 * a backup that hears nobody becomes MASTER after its Master_Down_Interval (about 0.4 s at a
 * 100 ms advert interval). What is checked: an epoch write failure does not stop the takeover
 * (VIP added, error in status, event, retried until written); a failing hook or load balancer
 * preparation (sync throw or rejection) and a throwing event subscriber do not kill it; an epoch
 * at its bound means FAULT and no VIP.
 */
import t from 'tap';
import { FileEpochStore, MAX_EPOCH, writeFileDurably, type DurableWriter } from '../../../src/adapters/epoch-store.js';
import type { HookPort, InstanceDeps } from '../../../src/daemon/instance-runner.js';
import { harness, until, VIP } from './instance-runner-fakes.js';

/** The real durable writer, failing with ENOSPC while `disk.full` is true. */
function failingWriter(): { writer: DurableWriter; attempts: () => number; disk: { full: boolean } } {
  let attempts = 0;
  const disk = { full: true };
  return {
    attempts: () => attempts,
    disk,
    writer: (dir, name, text) => {
      attempts += 1;
      if (disk.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      writeFileDurably(dir, name, text);
    },
  };
}

t.test('an epoch write failure at takeover: still MASTER with the VIP, the error in status, an event, retried until written', async (t) => {
  const dir = t.testdir({});
  const w = failingWriter();
  const store = new FileEpochStore(dir, 'web', { writer: w.writer, retryMinMs: 20, retryMaxMs: 40 });
  const h = harness(t, store);
  h.runner.input({ type: 'start' });
  t.equal(h.runner.vrrpState, 'BACKUP');
  t.ok(await until(() => h.runner.vrrpState === 'MASTER'), 'took over');
  t.ok(await until(() => h.calls.includes(`add ${VIP}`)), 'the VIP was added');
  t.ok(h.calls.includes('hook before-master'), 'the before-master hook ran');
  t.equal(h.runner.epoch, 1, 'the new epoch is held');
  const s = h.runner.status();
  t.equal(s.epochPersisted, false, 'status: not persisted');
  t.match(s.epochStateError, /writing .*web\.epoch\.json failed \(ENOSPC/, 'status names the file and errno');
  const ev = h.events.find((e) => e.type === 'epoch-state');
  t.match(ev, { type: 'epoch-state', instance: 'web', ok: false, persisted: false, detail: /ENOSPC/ }, 'an epoch-state event');
  t.ok(h.logs.some((l) => l.level >= 50 && /ENOSPC/.test(l.msg)), 'logged at error with the errno');
  t.ok(h.logs.some((l) => l.level >= 50 && /NOT persisted: taking over anyway/.test(l.msg)), 'the takeover says it goes on');
  t.ok(await until(() => w.attempts() >= 3), 'the write is retried');
  t.equal(h.runner.status().epochPersisted, false, 'still failing: still reported');
  t.equal(h.events.filter((e) => e.type === 'epoch-state').length, 1, 'one event for the problem, not one per retry');
  w.disk.full = false;
  t.ok(await until(() => h.runner.status().epochPersisted === true), 'a retry wrote it once there was room');
  t.equal(h.runner.status().epochStateError, undefined, 'the error is gone from status');
  t.ok(h.events.some((e) => e.type === 'epoch-state' && e.ok && e.persisted), 'an event says it recovered');
  t.equal(h.runner.vrrpState, 'MASTER', 'still master throughout');
});

t.test('a corrupt epoch file found at start is in status and published by the runner', async (t) => {
  const dir = t.testdir({ 'web.epoch.json': 'not json' });
  const h = harness(t, new FileEpochStore(dir, 'web'));
  t.match(h.runner.status(), { epochPersisted: true, epochStateError: /web\.epoch\.json was unusable .* moved aside to .*\.corrupt-\d+/ });
  t.ok(h.logs.some((l) => l.level >= 50 && /was unusable/.test(l.msg)), 'logged at error');
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER'), 'takes over like any backup');
  t.ok(h.runner.epoch > Date.now() - 60_000, `the epoch (${h.runner.epoch}) is above the wall-clock floor`);
});

t.test('a failing hook runner and load balancer preparation (sync throw or rejection) and a throwing subscriber do not stop the takeover', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown): void => { unhandled.push(r); };
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => { process.off('unhandledRejection', onUnhandled); });
  for (const mode of ['throw', 'reject'] as const) {
    const fail = (what: string): Promise<never> => {
      if (mode === 'throw') throw new Error(`${what} broke`);
      return Promise.reject(new Error(`${what} broke`));
    };
    const hooks: HookPort = { run: () => fail('hook runner'), results: () => [], close: () => undefined };
    const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { hooks, beforeVips: () => fail('balancer') });
    h.runner.input({ type: 'start' });
    // A subscriber that throws on the transition event: the runner must survive it.
    (h.runner as unknown as { deps: InstanceDeps }).deps.events.subscribe((ev) => { if (ev.type === 'transition') throw new Error('subscriber broke'); });
    t.ok(await until(() => h.calls.includes(`add ${VIP}`)), `${mode}: the VIP was added anyway`);
    t.equal(h.runner.vrrpState, 'MASTER', `${mode}: MASTER`);
    t.ok(h.logs.some((l) => l.level >= 50 && /before-master hook could not be run/.test(l.msg)), `${mode}: the hook failure is logged`);
    t.ok(h.logs.some((l) => l.level >= 50 && /preparing the load balancer rules failed/.test(l.msg)), `${mode}: the balancer failure is logged`);
    t.ok(h.logs.some((l) => l.level >= 50 && /an event subscriber failed/.test(l.msg)), `${mode}: the subscriber failure is logged`);
  }
  await new Promise((r) => setTimeout(r, 50));
  t.same(unhandled, [], 'no unhandled rejection');
});

t.test('an epoch at its bound: FAULT (epoch-limit), no VIP, no announcement', async (t) => {
  const dir = t.testdir({ 'web.epoch.json': JSON.stringify({ epoch: 3, maxSeen: MAX_EPOCH }) });
  const h = harness(t, new FileEpochStore(dir, 'web'));
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.status().faults.includes('epoch-limit')), 'fault epoch-limit');
  t.equal(h.runner.vrrpState, 'FAULT');
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(h.calls.includes(`add ${VIP}`), 'no VIP added');
  t.notOk(h.calls.includes('announce'), 'nothing announced');
  t.notOk(h.calls.includes('hook master'), 'no master hook');
  t.equal(h.runner.epoch, 3, 'no epoch taken');
  t.match(h.runner.status().epochStateError, /reached its bound/);
  t.ok(h.events.some((e) => e.type === 'epoch-state' && !e.ok && /bound/.test(e.detail)), 'an event');
});

t.test('a peer reporting the bound puts a backup in FAULT before it could take over', async (t) => {
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'));
  h.runner.input({ type: 'start' });
  h.runner.observeEpoch(MAX_EPOCH);
  await new Promise((r) => setTimeout(r, 10));
  t.equal(h.runner.vrrpState, 'FAULT');
  t.same(h.runner.status().faults, ['epoch-limit']);
  await new Promise((r) => setTimeout(r, 600));
  t.equal(h.runner.vrrpState, 'FAULT', 'stays');
  t.notOk(h.calls.includes(`add ${VIP}`));
});
