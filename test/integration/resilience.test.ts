/**
 * Never a stale VIP, never two masters, with the real agent on two hosts in
 * namespaces: VIP leases that expire when the agent dies or freezes. Time bounds are liveness
 * limits, not speed claims (the chaos script and the bench measure).
 */
import t from 'tap';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import type { Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { CLIENT_ADDRESS, LabTopology, VIP, VIP_CIDR } from '../../src/lab/topology.js';
import { ip, run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf, webInstanceYaml } from '../helpers/lab.js';

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `resilience integration tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, hasVip, withCluster } = labSuite(t, 'hars');
  const base = ['--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR, '--vrid', '51', '--advert-interval', '100ms'];

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

  /**
   * A config with the resilience features: hellos over the external network too (`paths`), the
   * client namespace as an ICMP witness.
   */
  function resilientConfig(c: LabCluster, host: typeof h1, priority: number, opts: { vips?: string; witness?: boolean } = {}): string {
    const peer = host === h1 ? h2 : h1;
    const file = `/tmp/${topo.prefix}-${host.name}-res.yaml`;
    writeFileSync(file, webInstanceYaml({
      socket: c.socketPath(host), priority, vips: opts.vips ?? VIP_CIDR, head: ['peer-key: lab-secret'],
      more: [
        '    preempt: true',
        '    paths:',
        `      - { interface: ext0, peer: ${peer.extAddress} }`,
        ...(opts.witness === false ? [] : ['    witness:', `      - { type: icmp, address: ${CLIENT_ADDRESS} }`]),
      ],
    }));
    return file;
  }

  async function converged(t: Test, c: LabCluster, a: RunningAgent, b: RunningAgent): Promise<void> {
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER', { logs: logsOf(a) });
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP' && ((await c.status(b)).instances[0]?.peers?.length ?? 0) > 0, 10_000), 'h2 BACKUP and hearing h1 over the hello path', { logs: logsOf(b) });
  }

  t.test('internal network cut with a second path: no failover, never two masters', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, ['--config', resilientConfig(c, h1, 150)]);
    const b = c.startAgent(h2, ['--config', resilientConfig(c, h2, 100)]);
    await converged(t, c, a, b);
    await ip('-n', topo.sw, 'link', 'set', 'h1i', 'down');
    await ip('-n', topo.sw, 'link', 'set', 'h2i', 'down');
    const until = performance.now() + 2000; // > 5 x Master_Down_Interval
    let dual = false;
    while (performance.now() < until) {
      if ((await c.stateOf(b)) !== 'BACKUP' || (await hasVip(h2))) dual = true;
      await new Promise((r) => setTimeout(r, 50));
    }
    t.notOk(dual, 'h2 stayed BACKUP without the VIP for 2 s while VRRP adverts could not reach it');
    const peers = (await c.status(b)).instances[0]?.peers ?? [];
    t.match(peers[0], { state: 'MASTER', fingerprintMatch: true }, 'h1 still heard, as MASTER, over ext0');
    t.ok((peers[0]?.paths['ext0'] ?? 1e9) < 1000, 'over the ext0 path');
    await ip('-n', topo.sw, 'link', 'set', 'h1i', 'up');
    await ip('-n', topo.sw, 'link', 'set', 'h2i', 'up');
  }));

  t.test('full isolation of the master with a witness: the peer takes over, the isolated node holds no VIP; healed: one master, clients follow', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, ['--config', resilientConfig(c, h1, 150)]);
    const b = c.startAgent(h2, ['--config', resilientConfig(c, h2, 100)]);
    await converged(t, c, a, b);
    const epoch1 = (await c.status(a)).instances[0]?.epoch ?? 0;
    t.ok(epoch1 >= 1, 'h1 took a fencing epoch', { epoch1 });
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.maxEpochSeen === epoch1, 3000), 'h2 learned it from h1\'s hellos');
    // Isolate h1 beyond its NICs (switch ports detached from the bridges: h1 keeps carrier, so
    // only the isolation rule, not a link fault, can make it let go).
    await ip('-n', topo.sw, 'link', 'set', 'h1i', 'nomaster');
    await ip('-n', topo.sw, 'link', 'set', 'h1e', 'nomaster');
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await hasVip(h2)), 5000), 'h2 took over');
    t.ok(await c.waitFor(async () => !(await hasVip(h1)) && (await c.stateOf(a)) === 'FAULT', 5000), 'isolated h1 released the VIP', { logs: logsOf(a) });
    const sa = (await c.status(a)).instances[0];
    t.match(sa, { isolated: true, faults: ['isolated'] }, 'FAULT because isolated (no link fault: carrier is up)');
    const epoch2 = (await c.status(b)).instances[0]?.epoch ?? 0;
    t.ok(epoch2 > epoch1, 'h2\'s epoch is greater than any it had seen from h1', { epoch1, epoch2 });
    // Heal: h1 (150, preempt) comes back; exactly one master; the client's neighbour entry follows.
    await ip('-n', topo.sw, 'link', 'set', 'h1i', 'master', 'brint');
    await ip('-n', topo.sw, 'link', 'set', 'h1e', 'master', 'brext');
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 5000), 'healed: h1 master, h2 backup', { logs: logsOf(a) });
    t.ok(await c.waitFor(async () => (await hasVip(h1)) && !(await hasVip(h2)), 3000), 'one VIP holder');
    const h1Mac = await topo.hostMac(h1);
    t.ok(await c.waitFor(async () => (await topo.clientNeighbour(VIP)) === h1Mac || (await topo.clientNeighbour(VIP)) === undefined, 3000), 'client neighbour entry points at the winner');
    await run('ip', ['netns', 'exec', topo.client, 'ping', '-c', '1', '-W', '1', VIP]);
    t.equal(await topo.clientNeighbour(VIP), h1Mac);
    t.ok(((await c.status(a)).instances[0]?.epoch ?? 0) > epoch2, 'h1 took a yet greater epoch');
  }));

  t.test('config mismatch between peers is reported in status and logs', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, ['--config', resilientConfig(c, h1, 150, { witness: false })]);
    const b = c.startAgent(h2, ['--config', resilientConfig(c, h2, 100, { witness: false, vips: `${VIP_CIDR}, 10.77.0.101/24` })]);
    t.ok(await c.waitFor(async () => ((await c.status(a)).instances[0]?.peers ?? []).some((p) => !p.fingerprintMatch), 5000), 'h1 sees h2\'s fingerprint differ');
    // Logged in the same step that status reflects, but read from the agent's stdout pipe, which
    // may deliver it after the status reply.
    t.ok(await c.waitFor(() => a.logs.some((l) => String(l['msg']).startsWith('config mismatch with peer')), 2000), 'and logs it');
    const h = await run(process.execPath, [(await import('../../src/lab/cluster.js')).distPath('cli', 'main.js'), 'status', '--json', '--socket', b.socket]);
    t.match(JSON.parse(h), { instances: [{ peers: [{ fingerprintMatch: false }] }] });
  }));

  t.test('vip-lease-wait: after kill -9 the new master adds the VIP only once the old lease ran out (never two holders)', (t) => withCluster(async (c) => {
    const conf = (host: typeof h1, priority: number): string => {
      const file = `/tmp/${topo.prefix}-${host.name}-leasewait.yaml`;
      writeFileSync(file, `socket: ${c.socketPath(host)}\ninstances:\n  - { name: web, vrid: 51, interface: int0, external: ext0, vips: [${VIP_CIDR}], advert-interval: 100ms, priority: ${priority}, preempt: true, vip-lease-wait: true }\n`);
      return file;
    };
    const a = c.startAgent(h1, ['--config', conf(h1, 150)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER');
    const b = c.startAgent(h2, ['--config', conf(h2, 100)]);
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.master?.address === h1.intAddress, 10_000), 'h2 BACKUP, hearing h1');
    const t0 = performance.now();
    a.child.kill('SIGKILL');
    let both = 0;
    let h2Has = false;
    let h1GoneMs = -1;
    let h2AddedMs = -1;
    const until = performance.now() + 5000;
    while (performance.now() < until && !h2Has) {
      const [x, y] = await Promise.all([hasVip(h1), hasVip(h2)]);
      const at = Math.round(performance.now() - t0);
      if (x && y) both += 1;
      if (!x && h1GoneMs < 0) h1GoneMs = at;
      if (y && h2AddedMs < 0) h2AddedMs = at;
      h2Has = y && !x;
      await new Promise((r) => setTimeout(r, 10));
    }
    t.equal(both, 0, 'no sample with the VIP on both hosts', { h1GoneMs, h2AddedMs, logs: logsOf(b) });
    t.ok(h2Has, 'h2 holds the VIP once the dead master\'s lease ran out', { logs: logsOf(b) });
    t.ok(b.logs.some((l) => String(l['msg']).startsWith('vip-lease-wait')), 'and said why it waited');
  }));

  t.test('vip-lifetime off: the VIP has no lifetime (forever), as keepalived does', (t) => withCluster(async (c) => {
    const file = `/tmp/${topo.prefix}-nolease.yaml`;
    writeFileSync(file, `socket: ${c.socketPath(h1)}\ninstances:\n  - { name: web, vrid: 51, interface: int0, external: ext0, vips: [${VIP_CIDR}], advert-interval: 100ms, vip-lifetime: off }\n`);
    const a = c.startAgent(h1, ['--config', file]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER');
    const addr = JSON.parse(await ip('-n', h1.ns, '-j', 'addr', 'show', 'dev', 'ext0')) as Array<{ addr_info: Array<{ local: string; valid_life_time: number }> }>;
    const vipInfo = addr[0]?.addr_info.find((i) => i.local === VIP_CIDR.split('/')[0]);
    t.equal(vipInfo?.valid_life_time, 4294967295, 'forever');
    t.equal((await c.status(a)).instances[0]?.vipLifetimeSec, 0);
  }));
}

if (skip === undefined) {
  t.test('direct cable between the hosts: when the master dies the survivor loses carrier on int0 and still takes over', async (t) => {
    const topo = new LabTopology(`hadc${process.pid % 100000}`, { directInternal: true });
    const [h1, h2] = topo.hosts;
    await topo.create();
    const c = new LabCluster(topo);
    t.teardown(async () => { await c.stopAll(); await topo.destroy(); });
    const conf = (host: typeof h1, peer: typeof h1, priority: number): string => {
      const file = `/tmp/${topo.prefix}-${host.name}.yaml`;
      writeFileSync(file, `socket: ${c.socketPath(host)}\npeer-key: lab-secret\ninstances:\n  - { name: web, vrid: 51, interface: int0, external: ext0, vips: [${VIP_CIDR}], advert-interval: 100ms, priority: ${priority}, preempt: true,\n      paths: [{ interface: ext0, peer: ${peer.extAddress} }], witness: [{ type: icmp, address: ${CLIENT_ADDRESS} }] }\n`);
      return file;
    };
    const a = c.startAgent(h1, ['--config', conf(h1, h2, 150)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER');
    const b = c.startAgent(h2, ['--config', conf(h2, h1, 100)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP');
    a.child.kill('SIGKILL');
    await topo.linksDown(h1);
    const link = JSON.parse(await ip('-n', h2.ns, '-j', 'link', 'show', 'dev', 'int0')) as Array<{ flags: string[] }>;
    t.ok(link[0]?.flags.includes('NO-CARRIER'), 'h2\'s int0 lost carrier (direct cable)', { flags: link[0]?.flags });
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await topo.extAddresses(h2)).includes(VIP_CIDR), 5000), 'h2 took over anyway');
    t.equal((await c.status(b)).instances[0]?.isolated, false, 'not isolated: the witness answers');
  });
}
