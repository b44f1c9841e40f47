/**
 * Balancer (src/daemon/balancer.ts) with a fake kernel (records each transaction) and real tcp
 * checks against listeners on 127.0.0.1: rules only while master; a reload (update) keeps the
 * verdict of kept servers, starts new ones out of the rotation, drops removed ones; a changed
 * check keeps the verdict until it decides; events; the stale-table cleanup and close().
 * The kernel itself is tested in test/integration/nft.test.ts and balancer.test.ts.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { pino } from 'pino';
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import { Balancer, type BalancerEvent, type BalancerKernel } from '../../../src/daemon/balancer.js';

const log = pino({ level: 'silent' });

async function listener(): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, server };
}

/** A free port nobody listens on (listen, note, close). */
async function deadPort(): Promise<number> {
  const { port, server } = await listener();
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function instance(servers: readonly { port: number; interval?: string }[]): InstanceConfig {
  const rs = servers.map((s) => `          - { address: 127.0.0.1, port: ${s.port}, check: { type: tcp, interval: ${s.interval ?? '100ms'}, timeout: 100ms, rise: 1, fall: 1 } }\n`).join('');
  const r = parseConfigYaml(`instances:\n  - name: web\n    vrid: 1\n    interface: eth0\n    vips: [192.0.2.10/24]\n    virtual-services:\n      - port: 80\n        real-servers:\n${rs}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}

class FakeKernel implements BalancerKernel {
  readonly calls: string[] = [];
  /** Per applied transaction: the DNAT target ports named in it (once each: prerouting and output repeat them). */
  readonly applied: string[][] = [];
  async applyRuleset(json: object): Promise<void> {
    this.calls.push('apply');
    this.applied.push([...new Set([...JSON.stringify(json).matchAll(/"concat":\["127\.0\.0\.1",(\d+)\]|"addr":"127\.0\.0\.1","port":(\d+)/g)].map((m) => m[1] ?? m[2] ?? ''))]);
  }
  async deleteTable(): Promise<void> { this.calls.push('delete'); }
  async deleteLegacyTable(): Promise<void> { this.calls.push('delete-legacy'); }
  last(): string[] | undefined { return this.applied[this.applied.length - 1]; }
}

async function until(pred: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return pred();
}

const ups = (b: Balancer): string[] => (b.status('web')[0]?.realServers ?? []).map((r) => `${r.port}:${r.up ? 'up' : 'down'}`);

t.test('rules only while master; update keeps verdicts, starts new servers down, drops removed ones', async (t) => {
  const [a, b, c] = [await listener(), await listener(), await listener()];
  t.teardown(() => { for (const l of [a, b, c]) l.server.close(); });
  const kernel = new FakeKernel();
  const events: BalancerEvent[] = [];
  const bal = new Balancer(log, (ev) => events.push(ev), kernel);
  t.teardown(() => bal.close());

  bal.add(instance([{ port: a.port }, { port: b.port }]));
  t.ok(await until(() => ups(bal).every((u) => u.endsWith(':up'))), 'both servers become up', { ups: ups(bal) });
  t.same(kernel.calls.slice(0, 2), ['delete', 'delete-legacy'], 'stale tables (inet and legacy ip) removed first');
  t.equal(kernel.applied.length, 0, 'a backup applies no rules');
  t.equal(bal.status('web')[0]?.active, false);

  bal.setMaster('web', true);
  t.ok(await until(() => kernel.last()?.length === 2), 'master: both servers in the rules');
  t.same(kernel.last(), [String(a.port), String(b.port)]);

  // Reload: keep a (same check), drop b, add c (new check).
  const applies = kernel.applied.length;
  bal.update(instance([{ port: a.port }, { port: c.port }]));
  t.same(ups(bal), [`${a.port}:up`, `${c.port}:down`], 'at once: a keeps its verdict, c starts out of the rotation');
  t.ok(await until(() => kernel.applied.length > applies), 'the update applies a transaction');
  t.same(kernel.applied[applies], [String(a.port)], 'the first rules after the update: a only (b gone, c not decided yet)');
  t.ok(await until(() => kernel.last()?.length === 2), 'c joins on its first good result');
  t.same(kernel.last(), [String(a.port), String(c.port)]);
  t.match(events.filter((e) => e.type === 'real-server').map((e) => (e.type === 'real-server' ? `${e.server} ${String(e.up)}` : '')),
    [`127.0.0.1:${a.port} true`, `127.0.0.1:${b.port} true`, `127.0.0.1:${c.port} true`], 'events: a, b, then c joined; none left');
  t.ok(events.some((e) => e.type === 'lb-rules' && e.ok && e.detail === '192.0.2.10:80/tcp 2/2 up'), 'lb-rules event');

  bal.setMaster('web', false);
  t.ok(await until(() => kernel.calls[kernel.calls.length - 1] === 'delete'), 'leaving MASTER deletes the table');
});

t.test('a kept server whose check changed keeps its verdict until the new check decides', async (t) => {
  const a = await listener();
  t.teardown(() => a.server.close());
  const kernel = new FakeKernel();
  const bal = new Balancer(log, () => undefined, kernel);
  t.teardown(() => bal.close());
  bal.add(instance([{ port: a.port }]));
  bal.setMaster('web', true);
  t.ok(await until(() => kernel.last()?.length === 1), 'a in the rules');
  const before = kernel.applied.length;
  bal.update(instance([{ port: a.port, interval: '150ms' }]));
  t.same(ups(bal), [`${a.port}:up`], 'still up right after the reload (new check, no result yet)');
  await new Promise((r) => setTimeout(r, 400));
  t.same(ups(bal), [`${a.port}:up`], 'and after the new check ran (it passes)');
  t.notOk(kernel.applied.slice(before).some((x) => x.length === 0), 'a never left the rules after the reload');

  // Now the server dies: the new check takes it out.
  a.server.close();
  t.ok(await until(() => ups(bal)[0] === `${a.port}:down`), 'the failing check takes it out');
  t.ok(await until(() => kernel.last()?.length === 0), 'no server: no DNAT for the service');
});

t.test('a new server on a dead port stays out; services removed by a reload leave no rules; close deletes the table', async (t) => {
  const a = await listener();
  t.teardown(() => a.server.close());
  const dead = await deadPort();
  const kernel = new FakeKernel();
  const bal = new Balancer(log, () => undefined, kernel);
  bal.add(instance([{ port: a.port }, { port: dead }]));
  bal.setMaster('web', true);
  t.ok(await until(() => kernel.last()?.length === 1), 'only the live server is in the rules');
  await new Promise((r) => setTimeout(r, 300));
  t.same(ups(bal), [`${a.port}:up`, `${dead}:down`]);
  const noServices = { ...instance([{ port: a.port }]), virtualServices: [] };
  bal.update(noServices);
  t.same(bal.status('web'), [], 'no services in status');
  t.ok(await until(() => kernel.calls[kernel.calls.length - 1] === 'delete'), 'no master service left: the table goes');
  bal.update(instance([{ port: a.port }]));
  t.ok(await until(() => kernel.last()?.length === 1), 'services back on the still-master instance: rules again');
  await bal.close();
  t.equal(kernel.calls[kernel.calls.length - 1], 'delete', 'close removes the table');
});

t.test('no nft on the host: the backup already says so in status; the master reports the failed apply', async (t) => {
  const a = await listener();
  t.teardown(() => a.server.close());
  class NoNft extends FakeKernel {
    override async applyRuleset(): Promise<void> { throw new Error('nft not found (nft comes with the Debian package nftables)'); }
    override async deleteTable(): Promise<void> { throw new Error('nft not found (nft comes with the Debian package nftables)'); }
  }
  const events: BalancerEvent[] = [];
  const bal = new Balancer(log, (ev) => events.push(ev), new NoNft());
  t.teardown(() => bal.close());
  bal.add(instance([{ port: a.port }]));
  t.ok(await until(() => bal.status('web')[0]?.error !== undefined), 'the backup shows the problem');
  t.match(bal.status('web')[0], { active: false, error: /^nftables unavailable on this host: nft not found/ });
  bal.setMaster('web', true);
  t.ok(await until(() => events.some((e) => e.type === 'lb-rules' && !e.ok)), 'lb-rules event with ok false');
  t.match(bal.status('web')[0], { active: true, error: /^nftables rules not applied: nft not found/ });
});

t.test('becomeMaster: resolves once the rules are applied; a hung nft delays it by the bound only', async (t) => {
  const a = await listener();
  t.teardown(() => a.server.close());
  class Slow extends FakeKernel {
    release: (() => void) | undefined;
    override async applyRuleset(json: object): Promise<void> {
      await new Promise<void>((r) => { this.release = r; });
      await super.applyRuleset(json);
    }
  }
  const kernel = new Slow();
  const bal = new Balancer(log, () => undefined, kernel);
  t.teardown(() => { kernel.release?.(); return bal.close(); });
  bal.add(instance([{ port: a.port }]));
  let done = false;
  const becoming = bal.becomeMaster('web', 5000).then(() => { done = true; });
  t.ok(await until(() => kernel.release !== undefined), 'the apply started');
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(done, 'not before the rules are applied');
  kernel.release?.();
  await becoming;
  t.equal(kernel.applied.length, 1, 'resolved after the apply');

  bal.setMaster('web', false);
  kernel.release?.();
  const t0 = Date.now();
  const hung = new Slow();
  const bal2 = new Balancer(log, () => undefined, hung);
  t.teardown(() => { hung.release?.(); return bal2.close(); });
  bal2.add(instance([{ port: a.port }]));
  await bal2.becomeMaster('web', 150);
  t.ok(Date.now() - t0 < 1000, 'a hung nft holds the VIPs back by the bound only');
  t.equal(hung.applied.length, 0);

  const none = new Balancer(log, () => undefined, new FakeKernel());
  const plain = { ...instance([{ port: a.port }]), virtualServices: [] };
  none.add(plain);
  const t1 = Date.now();
  await none.becomeMaster('web', 5000);
  t.ok(Date.now() - t1 < 50, 'an instance without services does not wait');
  await none.close();
});
