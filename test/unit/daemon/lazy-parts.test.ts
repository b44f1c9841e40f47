/**
 * Lazy loading of the optional parts (src/adapters/lazy-import.ts, lazy-balancer.ts,
 * lazy-alerter.ts): a part is loaded once and only when a config uses it; a failed load is a
 * HA_ERR_LOAD error that a later use retries; the stand-ins hand their state to the real part.
 * Which modules a real agent loads: test/integration/lazy-load.test.ts.
 */
import t from 'tap';
import pino from 'pino';
import { HaagentError } from '../../../src/core/errors.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import type { AlertsConfig } from '../../../src/core/config/alerts.js';
import type { AgentEvent } from '../../../src/core/control/events.js';
import { lazyImport, type LazyModule } from '../../../src/adapters/lazy-import.js';
import { balancerPart, instanceParts, conntrackPart, etcdClientPart, guardsPart, witnessPart } from '../../../src/daemon/lazy-parts.js';
import { LazyBalancer } from '../../../src/daemon/lazy-balancer.js';
import { LazyAlerter, MAX_QUEUED_EVENTS } from '../../../src/daemon/lazy-alerter.js';
import type { Alerter } from '../../../src/daemon/alerter.js';
import type { BalancerEvent, BalancerKernel } from '../../../src/daemon/balancer.js';

const log = pino({ level: 'silent' });

function instance(name: string, extra = ''): InstanceConfig {
  const r = parseConfigYaml(`instances:\n  - name: ${name}\n    vrid: 1\n    interface: eth0\n    vips: [192.0.2.10/24]\n${extra}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}
const SERVICE = '    virtual-services:\n      - { port: 80, mode: proxy, real-servers: [{ address: 127.0.0.1, port: 9 }] }\n';

class FakeKernel implements BalancerKernel {
  readonly calls: string[] = [];
  async applyRuleset(): Promise<void> { this.calls.push('apply'); }
  async deleteTable(): Promise<void> { this.calls.push('delete'); }
  async deleteLegacyTable(): Promise<void> { this.calls.push('delete-legacy'); }
}

/** A part that fails its first `failures` loads, counting them. */
function flaky<T>(value: T, failures: number): LazyModule<T> & { loads: number } {
  const counter = { loads: 0 };
  const part = lazyImport('test part', async () => {
    counter.loads++;
    if (counter.loads <= failures) throw new Error('EMFILE: too many open files');
    return value;
  });
  return { part: part.part, get: part.get, loaded: part.loaded, get loads() { return counter.loads; } };
}

async function until(pred: () => boolean, ms = 3000): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return pred();
}

t.test('lazyImport: one load shared by concurrent calls; a failure is HA_ERR_LOAD and is retried', async (t) => {
  const ok = flaky({ v: 1 }, 0);
  t.equal(ok.loaded(), undefined, 'nothing before the first get');
  const [a, b] = await Promise.all([ok.get(), ok.get()]);
  t.equal(a, b, 'the same module for both');
  await ok.get();
  t.equal(ok.loads, 1, 'loaded once');
  t.equal(ok.loaded(), a, 'loaded() once it is');

  const bad = flaky({ v: 2 }, 1);
  const err = await bad.get().then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof HaagentError && err.code === 'HA_ERR_LOAD', 'HA_ERR_LOAD');
  t.match((err as Error).message, /cannot load the test part: EMFILE/, 'names the part and the cause');
  t.ok((err as Error).cause instanceof Error, 'with the cause');
  t.equal(bad.loaded(), undefined, 'not loaded');
  t.same(await bad.get(), { v: 2 }, 'the next get tries again');
  t.equal(bad.loads, 2);
});

t.test('instanceParts: a plain instance loads nothing; each feature loads its part', async (t) => {
  const parts = { etcd: etcdClientPart, witness: witnessPart, conntrack: conntrackPart, guards: guardsPart };
  const state = (): string[] => Object.entries(parts).filter(([, p]) => p.loaded() !== undefined).map(([k]) => k);
  await instanceParts(instance('plain'));
  t.same(state(), [], 'plain VRRP: nothing loaded');
  await instanceParts(instance('guarded', '    guards: [[/bin/true]]\n'));
  t.same(state(), ['guards'], 'guards: the guard runner only');
  t.equal(balancerPart.loaded(), undefined, 'the balancer is not an instance part (the stand-in loads it)');
});

t.test('LazyBalancer: no services, no balancer; the first service loads it and hands over the master state', async (t) => {
  const kernel = new FakeKernel();
  const events: BalancerEvent[] = [];
  const bal = new LazyBalancer(log, (ev) => events.push(ev), { kernel });
  bal.add(instance('a'));
  bal.add(instance('b'));
  await bal.becomeMaster('a', 1000);
  t.same(bal.status('a'), [], 'no services, no status');
  await until(() => kernel.calls.length >= 2);
  t.same(kernel.calls, ['delete', 'delete-legacy'], 'stale tables removed once, at the first add');
  t.equal(balancerPart.loaded(), undefined, 'balancer not loaded');

  // A reload gives instance a (master) a service: loaded, and served as master.
  bal.update(instance('a', SERVICE));
  await bal.becomeMaster('a', 5000);
  t.not(balancerPart.loaded(), undefined, 'balancer loaded by the first service');
  t.match(bal.status('a'), [{ port: 80, mode: 'proxy', active: true }], 'the master state went over to the real balancer');
  t.same(bal.status('b'), [], 'b tracked too, without services');
  bal.remove('a');
  t.same(bal.status('a'), [], 'calls now go to the real balancer');
  await bal.close();
});

t.test('LazyBalancer: a failed load is published and logged, the next service retries', async (t) => {
  const { Balancer } = await balancerPart.get();
  const part = flaky({ Balancer }, 1);
  const events: BalancerEvent[] = [];
  const bal = new LazyBalancer(log, (ev) => events.push(ev), { kernel: new FakeKernel(), part });
  bal.add(instance('a', SERVICE));
  await bal.becomeMaster('a', 2000);
  t.match(events, [{ type: 'lb-rules', ok: false, detail: /HA_ERR_LOAD|cannot load the test part/ }], 'lb-rules failure published');
  t.same(bal.status('a'), [], 'not served');
  bal.update(instance('a', SERVICE.replace('port: 80', 'port: 81')));
  t.ok(await until(() => bal.status('a').length === 1), 'the update loaded it');
  t.match(bal.status('a'), [{ port: 81, active: true }], 'with the latest config and master state');
  t.equal(part.loads, 2);
  await bal.close();
});

t.test('LazyAlerter: no targets, nothing loaded; events from before the load are delivered after it', async (t) => {
  const none: AlertsConfig = { targets: [], rateLimit: { burst: 10, perMs: 60_000 } };
  const withTarget: AlertsConfig = { ...none, targets: [{ type: 'syslog', facility: 'local3', address: { host: '127.0.0.1', port: 9 } }] };
  const sent: string[] = [];
  const sinks = {
    webhook: async () => undefined,
    syslogLocal: async () => undefined,
    syslogUdp: async (_h: string, _p: number, line: string) => { sent.push(line); },
  };
  const real = (await import('../../../src/daemon/alerter.js')).Alerter;
  const part = flaky<{ Alerter: typeof Alerter }>({ Alerter: real }, 0);
  const ev: AgentEvent = { at: 'x', type: 'transition', instance: 'web', vrid: 1, from: 'BACKUP', to: 'MASTER', reason: 'r' };
  const al = new LazyAlerter(none, { log, clock: () => 0, sinks, node: 'h1' }, part);
  al.onEvent(ev);
  await al.flush();
  t.equal(part.loads, 0, 'no targets: not loaded');
  t.same(al.targets, []);
  al.update(withTarget);
  al.onEvent(ev); // before the load completes
  await al.ready();
  await al.flush();
  t.equal(part.loads, 1, 'loaded by the first target');
  t.equal(sent.length, 1, 'the event queued during the load was delivered');
  t.match(al.targets, ['syslog 127.0.0.1:9']);
  al.onEvent({ ...ev, instance: 'db' });
  await al.flush();
  t.equal(sent.length, 2, 'then events go straight through');
});

t.test('LazyAlerter: a failed load drops the queue (bounded), the next update retries', async (t) => {
  const real = (await import('../../../src/daemon/alerter.js')).Alerter;
  const part = flaky<{ Alerter: typeof Alerter }>({ Alerter: real }, 1);
  const sent: string[] = [];
  const sinks = { webhook: async () => undefined, syslogLocal: async () => undefined, syslogUdp: async (_h: string, _p: number, l: string) => { sent.push(l); } };
  const cfg: AlertsConfig = { targets: [{ type: 'syslog', facility: 'local3', address: { host: '127.0.0.1', port: 9 } }], rateLimit: { burst: 1000, perMs: 60_000 } };
  const al = new LazyAlerter(cfg, { log, clock: () => 0, sinks, node: 'h1' }, part);
  for (let i = 0; i < MAX_QUEUED_EVENTS + 10; i++) al.onEvent({ at: 'x', type: 'transition', instance: `i${i}`, vrid: 1, from: 'BACKUP', to: 'MASTER', reason: 'r' });
  await al.ready();
  await al.flush();
  t.equal(sent.length, 0, 'nothing delivered by a failed load');
  t.same(al.targets, []);
  al.update(cfg);
  await al.ready();
  al.onEvent({ at: 'x', type: 'transition', instance: 'after', vrid: 1, from: 'BACKUP', to: 'MASTER', reason: 'r' });
  await al.flush();
  t.equal(part.loads, 2, 'retried');
  t.equal(sent.length, 1, 'delivering again, without the dropped queue');
});
