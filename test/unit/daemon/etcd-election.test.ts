/**
 * The election on etcd in the daemon (src/daemon/etcd-election.ts through InstanceRunner): real
 * runners and timers on an in-memory etcd (test/unit/daemon/etcd-fakes.ts). VRRP adverts are
 * not delivered between the runners here, as if the VRRP link were cut: every safety property
 * below comes from the key. Namespace tests with a real etcd are test/integration/etcd-*.test.ts.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { EtcdEpochs } from '../../../src/daemon/etcd-epochs.js';
import { InstanceRunner, type HookPort } from '../../../src/daemon/instance-runner.js';
import { FakeEtcd, FakeLease } from './etcd-fakes.js';
import { until } from './instance-runner-fakes.js';

interface NodeOpts {
  readonly address: string;
  readonly priority: number;
  readonly election?: 'vrrp+etcd' | 'etcd';
  readonly preempt?: boolean;
  readonly unreachable?: 'keep' | 'release';
  /** With one takeover guard (always passing); its runs are counted in `guardRuns`. */
  readonly guarded?: boolean;
}

interface Node {
  readonly runner: InstanceRunner;
  readonly lease: FakeLease;
  readonly calls: string[];
  readonly hookEpochs: number[];
  guardRuns: number;
  cut: boolean;
}

function config(o: NodeOpts): InstanceConfig {
  const yaml = `etcd:\n  endpoints: [http://127.0.0.1:2379]\n  lease: 2s\n  keepalive-interval: 100ms\n  request-timeout: 100ms\ninstances:\n  - name: web\n    vrid: 1\n    interface: eth0\n    vips: [192.0.2.10/24]\n    advert-interval: 100ms\n`
    + `    priority: ${o.priority}\n    preempt: ${String(o.preempt ?? false)}\n    election: ${o.election ?? 'vrrp+etcd'}\n`
    + ((o.election ?? 'vrrp+etcd') === 'vrrp+etcd' ? `    etcd-unreachable: ${o.unreachable ?? 'release'}\n` : '')
    + (o.guarded === true ? '    guards: [{ command: [/bin/true] }]\n' : '');
  const r = parseConfigYaml(yaml);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}

function node(t: Test, etcd: FakeEtcd, o: NodeOpts): Node {
  const calls: string[] = [];
  const hookEpochs: number[] = [];
  const lease = new FakeLease(etcd);
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  const hooks: HookPort = {
    run: async (hook, ctx) => { calls.push(`hook ${hook}`); if (hook === 'master') hookEpochs.push(ctx.epoch ?? -1); return { ok: true, exitCode: 0, timedOut: false }; },
    results: () => [],
    close: () => undefined,
  };
  const epochs = new EtcdEpochs();
  const n: Node = { runner: undefined as unknown as InstanceRunner, lease, calls, hookEpochs, guardRuns: 0, cut: false };
  const runner = new InstanceRunner(config(o), o.address, {
    clock: () => performance.now(),
    log: pino({ level: 'debug' }, sink),
    sendAdvert: async (p) => { calls.push(`advert ${p}`); },
    vips: { addVip: async (_i, c) => { calls.push(`add ${c}`); }, removeVip: async (_i, c) => { calls.push(`remove ${c}`); } },
    announce: async () => undefined,
    quiet: () => undefined,
    hooks,
    events: new EventBus(),
    checks: () => [],
    epochs,
    etcd: { kv: etcd.client(() => n.cut), lease, prefix: '/haagent', pollMs: 50, node: o.address, epochs },
    ...(o.guarded === true ? {
      guards: {
        run: async () => { n.guardRuns += 1; return { ok: true, detail: '', results: [] }; },
        results: () => [],
        close: () => undefined,
      },
    } : {}),
  });
  (n as { runner: InstanceRunner }).runner = runner;
  runner.startElection();
  runner.input({ type: 'start' });
  t.teardown(async () => {
    runner.input({ type: 'shutdown' });
    await runner.drain();
    await runner.stopElection();
    runner.close();
  });
  return n;
}

const masters = (nodes: readonly Node[]): Node[] => nodes.filter((n) => n.runner.vrrpState === 'MASTER');

/** Samples every 5 ms until `cond`; fails the test if two nodes were ever MASTER at once. */
async function watch(t: Test, nodes: readonly Node[], cond: () => boolean, timeoutMs = 5000): Promise<boolean> {
  let both = false;
  const ok = await until(() => {
    if (masters(nodes).length > 1) both = true;
    return cond();
  }, timeoutMs);
  t.notOk(both, 'never two MASTERs');
  return ok;
}

t.test('vrrp+etcd without VRRP between them: one MASTER (the key holder); the other is held back, reason etcd', async (t) => {
  const etcd = new FakeEtcd();
  const a = node(t, etcd, { address: '10.0.0.1', priority: 150 });
  const b = node(t, etcd, { address: '10.0.0.2', priority: 100 });
  t.ok(await watch(t, [a, b], () => masters([a, b]).length === 1 && [a, b].some((n) => n.runner.status().takeover?.reason === 'etcd')), 'one master, the other blocked');
  await watch(t, [a, b], () => false, 500);
  const m = masters([a, b])[0];
  const other = m === a ? b : a;
  t.equal(other.runner.status().takeover?.blocked, true);
  t.match(other.runner.status().takeover?.detail, /held by/);
  t.equal(m?.runner.status().election?.holder, m?.runner.primaryAddress);
  t.equal(m?.runner.epoch, Number(etcd.keys.get('/haagent/web/leader')?.createRevision), 'the epoch is the key\'s create revision');
});

t.test('a MASTER whose lease is fenced releases at once (priority 0, VIP removed); the other takes over after the lease expired, with a greater epoch', async (t) => {
  const etcd = new FakeEtcd();
  const a = node(t, etcd, { address: '10.0.0.1', priority: 150 });
  t.ok(await until(() => a.runner.vrrpState === 'MASTER'), 'a is MASTER');
  const b = node(t, etcd, { address: '10.0.0.2', priority: 100 });
  t.ok(await until(() => b.runner.status().takeover?.reason === 'etcd'), 'b held back by the key');
  const epochA = a.runner.epoch;
  a.cut = true;
  const fenced = a.lease.fence();
  t.equal(a.runner.vrrpState, 'BACKUP', 'released synchronously on fence');
  t.ok(await until(() => a.calls.includes('remove 192.0.2.10/24')), 'VIP removed');
  t.ok(a.calls.includes('advert 0'), 'priority-0 advert');
  t.equal(b.runner.vrrpState, 'BACKUP', 'b waits while the key still exists');
  etcd.expire(fenced);
  t.ok(await watch(t, [a, b], () => b.runner.vrrpState === 'MASTER'), 'b MASTER once the key expired');
  t.ok(b.runner.epoch > epochA, `epoch grows: ${epochA} -> ${b.runner.epoch}`);
  t.same(b.hookEpochs, [b.runner.epoch], 'the master hook got the new epoch');
  t.equal(a.runner.status().takeover?.reason, 'etcd', 'a waits for the key');
});

t.test('etcd-unreachable: keep: a MASTER keeps the VIP while etcd is unreachable, and releases once it answers with another holder', async (t) => {
  const etcd = new FakeEtcd();
  const a = node(t, etcd, { address: '10.0.0.1', priority: 150, unreachable: 'keep' });
  t.ok(await until(() => a.runner.vrrpState === 'MASTER'));
  a.cut = true;
  const fenced = a.lease.fence();
  await new Promise((r) => setTimeout(r, 300));
  t.equal(a.runner.vrrpState, 'MASTER', 'kept');
  t.equal(a.runner.status().election?.keptWithoutEtcd, true);
  etcd.expire(fenced);
  const b = node(t, etcd, { address: '10.0.0.2', priority: 100 });
  t.ok(await until(() => b.runner.vrrpState === 'MASTER'), 'b took the free key');
  a.lease.renew(etcd);
  a.cut = false;
  t.ok(await until(() => a.runner.vrrpState === 'BACKUP'), 'a released once etcd answered with b as holder');
});

t.test('etcd-unreachable: keep: etcd back and the key free: the MASTER takes it again (new epoch) and stays', async (t) => {
  const etcd = new FakeEtcd();
  const a = node(t, etcd, { address: '10.0.0.1', priority: 150, unreachable: 'keep' });
  t.ok(await until(() => a.runner.vrrpState === 'MASTER'));
  const first = a.runner.epoch;
  a.cut = true;
  etcd.expire(a.lease.fence());
  a.lease.renew(etcd);
  a.cut = false;
  t.ok(await until(() => a.runner.epoch > first), 'new epoch');
  t.equal(a.runner.vrrpState, 'MASTER');
  t.notOk(a.calls.includes('remove 192.0.2.10/24'), 'the VIP never went');
});

t.test('etcd-unreachable: keep: etcd back with our key still on the abandoned lease: moved to the new lease (new epoch), still MASTER', async (t) => {
  const etcd = new FakeEtcd();
  const a = node(t, etcd, { address: '10.0.0.1', priority: 150, unreachable: 'keep' });
  t.ok(await until(() => a.runner.vrrpState === 'MASTER'));
  const first = a.runner.epoch;
  a.cut = true;
  a.lease.fence();
  await new Promise((r) => setTimeout(r, 200));
  a.lease.renew(etcd);
  a.cut = false;
  t.ok(await until(() => a.runner.epoch > first), 'new epoch');
  t.equal(etcd.keys.get('/haagent/web/leader')?.leaseId, a.lease.leaseId, 'the key lives on the current lease');
  t.equal(a.runner.vrrpState, 'MASTER');
  t.notOk(a.calls.includes('remove 192.0.2.10/24'), 'the VIP never went');
});

t.test('with takeover guards: the guards pass, then the key decides; while the key is held elsewhere the guards are not run again', async (t) => {
  const etcd = new FakeEtcd();
  const a = node(t, etcd, { address: '10.0.0.1', priority: 150, guarded: true });
  t.ok(await until(() => a.runner.vrrpState === 'MASTER'), 'guarded node MASTER with the key');
  t.ok(a.guardRuns >= 1, 'its guards ran');
  const b = node(t, etcd, { address: '10.0.0.2', priority: 100, guarded: true });
  t.ok(await until(() => b.runner.status().takeover?.reason === 'etcd'), 'b held back by the key');
  await new Promise((r) => setTimeout(r, 600));
  t.equal(b.guardRuns, 0, `b's guards never ran while the key was held (${b.runner.status().takeover?.detail ?? ''})`);
});

t.test('leaving MASTER cleanly frees the key after the VIP is gone', async (t) => {
  const etcd = new FakeEtcd();
  const a = node(t, etcd, { address: '10.0.0.1', priority: 150 });
  t.ok(await until(() => a.runner.vrrpState === 'MASTER'));
  t.ok(etcd.keys.has('/haagent/web/leader'));
  a.runner.input({ type: 'maintenance', on: true });
  t.ok(await until(() => !etcd.keys.has('/haagent/web/leader')), 'key deleted');
  t.ok(a.calls.indexOf('remove 192.0.2.10/24') >= 0);
});

t.test('election: etcd: no VRRP packet; N nodes fail over in priority order, epochs rising', async (t) => {
  const etcd = new FakeEtcd();
  const nodes = [
    node(t, etcd, { address: '10.0.0.1', priority: 110, election: 'etcd' }),
    node(t, etcd, { address: '10.0.0.2', priority: 150, election: 'etcd' }),
    node(t, etcd, { address: '10.0.0.3', priority: 130, election: 'etcd' }),
    node(t, etcd, { address: '10.0.0.4', priority: 120, election: 'etcd' }),
  ];
  const order: string[] = [];
  const epochs: number[] = [];
  let live = [...nodes];
  for (let i = 0; i < 4; i++) {
    t.ok(await watch(t, live, () => masters(live).length === 1), `round ${i}: one master`);
    const m = masters(live)[0];
    if (m === undefined) break;
    order.push(m.runner.primaryAddress);
    epochs.push(m.runner.epoch);
    // Held for a few polls (a tenure shorter than one poll may go unseen: then the order is
    // only as good as the stale free-since of the others), then the holder dies: its lease expires, its keys go.
    await new Promise((r) => setTimeout(r, 200));
    m.cut = true;
    m.runner.input({ type: 'shutdown' });
    etcd.expire(m.lease.leaseId ?? '');
    live = live.filter((n) => n !== m);
  }
  t.same(order, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.1'], 'priority order');
  t.ok(epochs.every((e, i) => i === 0 || e > (epochs[i - 1] ?? 0)), `epochs rise: ${epochs.join(' ')}`);
  t.notOk(nodes.some((n) => n.calls.some((c) => c.startsWith('advert'))), 'no VRRP advert sent');
  t.equal(nodes[0]?.runner.status().advertsSent, 0);
});

t.test('election: etcd with preempt: the holder resigns for a higher-priority candidate', async (t) => {
  const etcd = new FakeEtcd();
  const low = node(t, etcd, { address: '10.0.0.1', priority: 100, election: 'etcd', preempt: true });
  t.ok(await until(() => low.runner.vrrpState === 'MASTER'));
  const high = node(t, etcd, { address: '10.0.0.2', priority: 200, election: 'etcd', preempt: true });
  t.ok(await watch(t, [low, high], () => high.runner.vrrpState === 'MASTER'), 'the higher one took over');
  t.equal(low.runner.vrrpState, 'BACKUP');
  const noPreempt = new FakeEtcd();
  const l2 = node(t, noPreempt, { address: '10.0.0.1', priority: 100, election: 'etcd' });
  t.ok(await until(() => l2.runner.vrrpState === 'MASTER'));
  const h2 = node(t, noPreempt, { address: '10.0.0.2', priority: 200, election: 'etcd' });
  await new Promise((r) => setTimeout(r, 500));
  t.equal(l2.runner.vrrpState, 'MASTER', 'without preempt the holder stays');
  t.equal(h2.runner.vrrpState, 'BACKUP');
  t.equal(h2.runner.status().master?.address, '10.0.0.1', 'the backup shows the holder as its master');
});
