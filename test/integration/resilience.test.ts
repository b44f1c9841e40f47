/**
 * Never a stale VIP, never two masters (issue 5), with the real agent on two hosts in
 * namespaces: VIP leases that expire when the agent dies or freezes. Time bounds are liveness
 * limits, not speed claims (the chaos script and the bench measure).
 */
import t from 'tap';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { LabTopology, VIP_CIDR } from '../../src/lab/topology.js';
import { ip } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `resilience integration tests skipped: ${skip}`);
} else {
  const topo = new LabTopology(`hars${process.pid % 100000}`);
  const [h1, h2] = topo.hosts;
  const base = ['--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR, '--vrid', '51', '--advert-interval', '100ms'];

  t.before(async () => { await topo.create(); });
  t.teardown(async () => { await topo.destroy(); });

  const hasVip = async (host: typeof h1, vip = VIP_CIDR): Promise<boolean> => (await topo.extAddresses(host)).includes(vip);
  const logsOf = (a: RunningAgent): string => a.logs.slice(-20).map((l) => JSON.stringify(l)).join('\n');

  async function withCluster(fn: (c: LabCluster) => Promise<void>): Promise<void> {
    const c = new LabCluster(topo);
    try {
      await fn(c);
    } finally {
      await c.stopAll();
      for (const h of topo.hosts) {
        await topo.linksUp(h);
        await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0').catch(() => undefined);
      }
    }
  }

  for (const how of ['kill -9', 'SIGSTOP'] as const) {
    t.test(`${how} of the master: the kernel removes its VIP by itself while the backup takes over`, (t) => withCluster(async (c) => {
      const a = c.startAgent(h1, [...base, '--role', 'master']);
      t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
      const b = c.startAgent(h2, [...base, '--role', 'backup']);
      t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP');
      const st = (await c.status(a)).instances[0];
      t.equal(st?.vipLifetimeSec, 1, 'lease: 3 x 100 ms rounded down to whole seconds, at least 1 s');
      const addr = JSON.parse(await ip('-n', h1.ns, '-j', 'addr', 'show', 'dev', 'ext0')) as Array<{ addr_info: Array<{ local: string; valid_life_time: number }> }>;
      const vipInfo = addr[0]?.addr_info.find((i) => i.local === VIP_CIDR.split('/')[0]);
      t.ok(vipInfo !== undefined && vipInfo.valid_life_time <= 1, 'the VIP carries a kernel lifetime of at most 1 s', { vipInfo });
      const pid = a.child.pid ?? 0;
      process.kill(pid, how === 'kill -9' ? 'SIGKILL' : 'SIGSTOP');
      try {
        t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await hasVip(h2)), 5000, 20), 'h2 takes over');
        t.ok(await c.waitFor(async () => !(await hasVip(h1)), 5000, 50), 'the dead/frozen master no longer holds the VIP (kernel expiry)');
      } finally {
        if (how === 'SIGSTOP') process.kill(pid, 'SIGCONT');
      }
      if (how === 'SIGSTOP') {
        // Resumed: h1 (150) reclaims mastership from h2 (100) and exactly one holds the VIP.
        t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 5000), 'resumed h1 is master again', { logs: logsOf(a) });
        t.ok(await c.waitFor(async () => (await hasVip(h1)) && !(await hasVip(h2)), 3000), 'one VIP holder');
      }
    }));
  }

  t.test('vip-lifetime off: the VIP has no lifetime (forever), as keepalived does', (t) => withCluster(async (c) => {
    const file = `/tmp/${topo.prefix}-nolease.yaml`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, `socket: ${c.socketPath(h1)}\ninstances:\n  - { name: web, vrid: 51, interface: int0, external: ext0, vips: [${VIP_CIDR}], advert-interval: 100ms, vip-lifetime: off }\n`);
    const a = c.startAgent(h1, ['--config', file]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER');
    const addr = JSON.parse(await ip('-n', h1.ns, '-j', 'addr', 'show', 'dev', 'ext0')) as Array<{ addr_info: Array<{ local: string; valid_life_time: number }> }>;
    const vipInfo = addr[0]?.addr_info.find((i) => i.local === VIP_CIDR.split('/')[0]);
    t.equal(vipInfo?.valid_life_time, 4294967295, 'forever');
    t.equal((await c.status(a)).instances[0]?.vipLifetimeSec, 0);
  }));
}
