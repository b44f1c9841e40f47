/**
 * The ordering contract of the instance runner, on fakes that take their time (no root, real
 * timers): a VIP removal never overtakes an add; before-master is awaited before the VIPs go in;
 * the load balancer's rules go in before the first VIP and out only once every VIP is removed.
 * The fakes resolve only when the test says so, so each test sees what the runner does while an
 * earlier step is still running.
 */
import t from 'tap';
import { FileEpochStore } from '../../../src/adapters/epoch-store.js';
import type { Input } from '../../../src/core/fsm/types.js';
import type { HookPort } from '../../../src/daemon/instance-runner.js';
import { harness, instance, until, VIP } from './instance-runner-fakes.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

/** A promise the test resolves. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((r) => { open = r; });
  return { promise, open };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A better master's advert: a MASTER that hears it steps down to BACKUP and removes its VIPs. */
const BETTER_MASTER: Input = { type: 'advert', from: '192.0.2.9', priority: 200, maxAdvertIntervalCs: 10 };

t.test('a VIP removal never overtakes an add: slow add, quick demotion, the kernel ends without the VIP', async (t) => {
  const addDone = gate();
  const seen: string[] = [];
  const present = new Set<string>();
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), {
    vips: {
      // Like the kernel: the address exists once the add has finished.
      addVip: async (_if, cidr) => { seen.push(`add ${cidr}`); await addDone.promise; present.add(cidr); seen.push(`added ${cidr}`); },
      removeVip: async (_if, cidr) => { seen.push(`remove ${cidr}`); present.delete(cidr); seen.push(`removed ${cidr}`); },
    },
  });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => seen.includes(`add ${VIP}`)), 'took over and started adding the VIP');
  t.equal(h.runner.vrrpState, 'MASTER');
  h.runner.input(BETTER_MASTER);
  t.equal(h.runner.vrrpState, 'BACKUP', 'demoted while the add is still running');
  await sleep(50);
  t.same(seen, [`add ${VIP}`], 'the removal waits for the add');
  addDone.open();
  await h.runner.drain();
  t.same(seen, [`add ${VIP}`, `added ${VIP}`, `remove ${VIP}`, `removed ${VIP}`], 'add, then remove, in that order');
  t.same([...present], [], 'no VIP left');
});

t.test('before-master is awaited before the VIPs go in; the master hook starts after them', async (t) => {
  const hookDone = gate();
  const seen: string[] = [];
  const hooks: HookPort = {
    run: async (hook) => {
      seen.push(`hook ${hook}`);
      if (hook === 'before-master') {
        await hookDone.promise;
        seen.push('before-master finished');
      }
      return { ok: true, exitCode: 0, timedOut: false };
    },
    results: () => [],
    close: () => undefined,
  };
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), {
    hooks,
    vips: { addVip: async (_if, cidr) => { seen.push(`add ${cidr}`); }, removeVip: async () => undefined },
  });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => seen.includes('hook before-master')), 'before-master started at takeover');
  t.equal(h.runner.vrrpState, 'MASTER');
  await sleep(150); // adverts go on meanwhile; the VIPs must not
  t.ok(h.calls.filter((c) => c.startsWith('advert ')).length >= 1, 'adverts did not wait for the hook');
  t.notOk(seen.some((c) => c.startsWith('add ')), 'no VIP added while before-master runs');
  hookDone.open();
  t.ok(await until(() => seen.includes('hook master')), 'the master hook ran');
  // From the takeover's before-master (after INIT -> BACKUP's hook) to the master hook; later adds
  // are the VIP lease renewals that go with adverts (a slow machine reaches them before `until` returns).
  const takeover = seen.slice(seen.indexOf('hook before-master'), seen.indexOf('hook master') + 1);
  t.same(takeover, ['hook before-master', 'before-master finished', `add ${VIP}`, 'hook master'], 'before-master, then the VIP, then the master hook');
});

t.test('load balancer rules: in before the first VIP, out only once every VIP is removed', async (t) => {
  const vips = [VIP, '192.0.2.11/24'];
  const rulesIn = gate();
  const removals: Array<{ cidr: string; done: () => void }> = [];
  const seen: string[] = [];
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), {
    beforeVips: async () => { seen.push('rules in'); await rulesIn.promise; seen.push('rules in done'); },
    afterVipsRemoved: () => { seen.push('rules out'); },
    vips: {
      addVip: async (_if, cidr) => { seen.push(`add ${cidr}`); },
      removeVip: (_if, cidr) => new Promise<void>((r) => {
        seen.push(`remove ${cidr}`);
        removals.push({ cidr, done: () => { seen.push(`removed ${cidr}`); r(); } });
      }),
    },
  }, instance(vips));
  h.runner.input({ type: 'start' });
  t.ok(await until(() => seen.includes('rules in')), 'the rules are started at takeover');
  t.equal(h.runner.vrrpState, 'MASTER');
  await sleep(150);
  t.notOk(seen.some((c) => c.startsWith('add ')), 'no VIP added before the rules are in');
  rulesIn.open();
  t.ok(await until(() => vips.every((v) => seen.includes(`add ${v}`))), 'then every VIP is added');
  t.ok(seen.indexOf('rules in done') < seen.indexOf(`add ${VIP}`), 'rules in, then the first VIP');

  h.runner.input(BETTER_MASTER);
  t.equal(h.runner.vrrpState, 'BACKUP');
  for (const v of vips) {
    t.ok(await until(() => removals.some((r) => r.cidr === v)), `removing ${v}`);
    await sleep(30);
    t.notOk(seen.includes('rules out'), `the rules stay while ${v} is still being removed`);
    removals.find((r) => r.cidr === v)?.done();
  }
  await h.runner.drain();
  const out = seen.indexOf('rules out');
  t.ok(out >= 0, 'the rules go');
  for (const v of vips) t.ok(seen.indexOf(`removed ${v}`) < out, `after ${v} was removed`);
});

/** A config with these extra YAML lines under the instance (hooks, takeover keys). */
function instanceWith(extra: string): ReturnType<typeof instance> {
  const r = parseConfigYaml(`instances:\n  - name: web\n    vrid: 1\n    interface: eth0\n    vips: [${VIP}]\n    advert-interval: 100ms\n    priority: 100\n${extra}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}

t.test('a failed before-master adds no VIP, announces nothing, runs no master hook; priority 0, BACKUP, backoff', async (t) => {
  const seen: string[] = [];
  const hooks: HookPort = {
    run: async (hook) => {
      seen.push(`hook ${hook}`);
      return hook === 'before-master' ? { ok: false, exitCode: 1, timedOut: false } : { ok: true, exitCode: 0, timedOut: false };
    },
    results: () => [],
    close: () => undefined,
  };
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { hooks }, instanceWith('    promotion-backoff: 60s\n'));
  h.runner.input({ type: 'start' });
  t.ok(await until(() => seen.includes('hook before-master')), 'took over and ran before-master');
  t.ok(await until(() => h.runner.vrrpState === 'BACKUP'), 'the claim is given up: BACKUP');
  await h.runner.drain();
  await sleep(50);
  t.notOk(h.calls.some((c) => c.startsWith('add ')), 'no VIP added');
  t.notOk(h.calls.includes('announce'), 'nothing announced');
  t.notOk(seen.includes('hook master'), 'no master hook');
  t.ok(h.calls.includes('advert 0'), 'a priority-0 advert was sent');
  t.match(h.runner.status().takeover, { blocked: true, reason: 'promotion-backoff' });
  t.ok(h.events.some((e) => e.type === 'takeover-blocked' && e.active && e.reason === 'promotion-backoff'), 'published');
  await sleep(h.runner.masterDownMs + 200);
  t.equal(h.runner.vrrpState, 'BACKUP', 'still out of MASTER within the backoff');
});

t.test('a before-master of an earlier takeover that fails late does not undo a later takeover', async (t) => {
  const firstDone = gate();
  let beforeMasters = 0;
  const hooks: HookPort = {
    run: async (hook) => {
      if (hook !== 'before-master') return { ok: true, exitCode: 0, timedOut: false };
      beforeMasters += 1;
      if (beforeMasters === 1) {
        await firstDone.promise;
        return { ok: false, exitCode: 1, timedOut: false };
      }
      return { ok: true, exitCode: 0, timedOut: false };
    },
    results: () => [],
    close: () => undefined,
  };
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { hooks });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => beforeMasters === 1 && h.runner.vrrpState === 'MASTER'), 'first takeover, its before-master still running');
  h.runner.input(BETTER_MASTER);
  t.equal(h.runner.vrrpState, 'BACKUP', 'left MASTER while the first before-master runs');
  t.ok(await until(() => beforeMasters === 2 && h.runner.vrrpState === 'MASTER', h.runner.masterDownMs + 2000), 'the better master went silent: second takeover');
  firstDone.open();
  await h.runner.drain();
  await sleep(50);
  t.equal(h.runner.vrrpState, 'MASTER', 'the first takeover\'s late failure does not demote the second');
  t.equal(h.calls.filter((c) => c.startsWith('add ')).length, 1, 'only the second takeover added the VIP');
});

t.test('ordered demotion: VIPs removed, then the backup hook; no takeover until it has ended', async (t) => {
  const backupDone = gate();
  const seen: string[] = [];
  const hooks: HookPort = {
    run: async (hook) => {
      seen.push(`hook ${hook}`);
      if (hook === 'backup' && seen.filter((s) => s === 'hook backup').length === 2) { await backupDone.promise; seen.push('backup hook finished'); }
      return { ok: true, exitCode: 0, timedOut: false };
    },
    results: () => [],
    close: () => undefined,
  };
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), {
    hooks,
    vips: { addVip: async (_if, cidr) => { seen.push(`add ${cidr}`); }, removeVip: async (_if, cidr) => { seen.push(`remove ${cidr}`); } },
  }, instanceWith('    hooks:\n      backup: [/bin/true]\n'));
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER' && seen.includes(`add ${VIP}`)), 'MASTER with the VIP');
  h.runner.input(BETTER_MASTER);
  t.ok(await until(() => seen.filter((s) => s === 'hook backup').length === 2), 'the backup hook started');
  t.ok(seen.lastIndexOf(`remove ${VIP}`) < seen.lastIndexOf('hook backup'), 'after the VIP was removed');
  // The better master goes silent: the expiry comes while the backup hook still runs.
  await sleep(h.runner.masterDownMs + 200);
  t.equal(h.runner.vrrpState, 'BACKUP', 'no takeover while the demote hook runs');
  t.match(h.runner.status().takeover, { blocked: true, reason: 'demote-hook' });
  backupDone.open();
  t.ok(await until(() => h.runner.vrrpState === 'MASTER'), 'takes over once the hook has ended');
  t.ok(seen.indexOf('backup hook finished') < seen.lastIndexOf(`add ${VIP}`), 'the new VIP add comes after the hook');
});
