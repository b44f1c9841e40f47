/**
 * Active-active with the real agent: configs written by
 * `haagent init --active-active`, each host serves one VIP (the client's HTTP answers come from
 * different hosts), the survivor serves both when a host dies, and each host takes its VIP back
 * when it returns (preempt).
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distPath } from '../../src/lab/cluster.js';
import { VIP, VIP2, VIP_CIDR, VIP2_CIDR } from '../../src/lab/topology.js';
import { run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `active-active integration tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, hasVip, withCluster } = labSuite(t, 'haaa');
  const dir = mkdtempSync(join(tmpdir(), 'haaa-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });

  /** GET http://vip/ from the client namespace: the answering host's name. */
  const who = async (vip: string): Promise<string> => (await run('ip', ['netns', 'exec', topo.client, process.execPath, '-e',
    `fetch("http://${vip}/", { signal: AbortSignal.timeout(1000) }).then(r => r.text()).then(t => process.stdout.write(t.trim()))`])).trim();

  t.test('two VIPs, one per host; the survivor serves both; each takes its VIP back', (t) => withCluster(async (c) => {
    await run(process.execPath, [distPath('cli', 'main.js'), 'init', '--active-active', '--interface', 'int0', '--external', 'ext0',
      '--vip', VIP_CIDR, '--vip', VIP2_CIDR, '--advert-interval', '100ms', '--out', dir, '--force']);
    const conf = (host: 'a' | 'b', socket: string): string => {
      // The generated file, with this lab's control socket (two agents share one filesystem).
      const f = join(dir, `host-${host}.lab.yaml`);
      writeFileSync(f, readFileSync(join(dir, `host-${host}.yaml`), 'utf8').replace('socket: /run/haagent/haagent.sock', `socket: ${socket}`));
      return f;
    };
    for (const h of topo.hosts) c.startWeb(h);
    const a = c.startAgent(h1, ['--config', conf('a', c.socketPath(h1))]);
    const b = c.startAgent(h2, ['--config', conf('b', c.socketPath(h2))]);
    const states = async (): Promise<string> => [
      ...(await c.status(a)).instances.map((i) => i.state), ...(await c.status(b)).instances.map((i) => i.state),
    ].join();
    t.ok(await c.waitFor(async () => (await states()) === 'MASTER,BACKUP,BACKUP,MASTER', 10_000), 'h1 master of vip1, h2 of vip2', { logs: [logsOf(a), logsOf(b)] });
    t.ok(await c.waitFor(async () => (await who(VIP)) === 'h1' && (await who(VIP2)) === 'h2', 5000), 'the client is served by h1 on VIP1 and by h2 on VIP2');

    b.child.kill('SIGKILL');
    await topo.linksDown(h2);
    t.ok(await c.waitFor(async () => (await c.status(a)).instances.every((i) => i.state === 'MASTER'), 5000), 'h2 dies: h1 master of both');
    t.ok(await c.waitFor(async () => (await who(VIP)) === 'h1' && (await who(VIP2)) === 'h1', 5000), 'both VIPs served by h1');

    await topo.linksUp(h2);
    for (const v of [VIP_CIDR, VIP2_CIDR]) await run('ip', ['-n', h2.ns, 'addr', 'del', v, 'dev', 'ext0']).catch(() => undefined);
    const b2 = c.startAgent(h2, ['--config', conf('b', c.socketPath(h2))]);
    t.ok(await c.waitFor(async () => [
      ...(await c.status(a)).instances.map((i) => i.state), ...(await c.status(b2)).instances.map((i) => i.state),
    ].join() === 'MASTER,BACKUP,BACKUP,MASTER', 10_000), 'h2 returns and takes VIP2 back (preempt)', { logs: logsOf(b2) });
    t.ok(await c.waitFor(async () => (await who(VIP)) === 'h1' && (await who(VIP2)) === 'h2', 5000), 'each host serves its own VIP again');
    t.ok(await hasVip(h2, VIP2_CIDR) && !(await hasVip(h1, VIP2_CIDR)), 'VIP2 only on h2');
  }));
}
