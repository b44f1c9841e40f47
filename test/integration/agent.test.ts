/**
 * The real agent binary on two hosts in network namespaces (the lab topology): election,
 * failover on crash, clean-stop handover, preemption, split-brain healing, gratuitous ARP,
 * status over the control socket. Advert interval 100 ms (VRRPv3) keeps each case short;
 * time bounds here are generous liveness limits, not speed claims (those are in the bench).
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { distPath } from '../../src/lab/cluster.js';
import { VIP, VIP2, VIP_CIDR, VIP2_CIDR } from '../../src/lab/topology.js';
import { ip, run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `agent integration tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, hasVip, withCluster } = labSuite(t, 'hait');
  const base = ['--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR, '--vrid', '51', '--advert-interval', '100ms', '--log-level', 'debug'];

  t.test('election by priority: the higher priority is master, status tells the truth on both', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    const b = c.startAgent(h2, [...base, '--role', 'backup']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 10_000), 'h1 MASTER, h2 BACKUP', { logs: [logsOf(a), logsOf(b)] });
    t.ok(await c.waitFor(() => hasVip(h1), 3000), 'VIP on h1');
    t.notOk(await hasVip(h2), 'no VIP on h2');
    const sa = await c.status(a);
    const sb = await c.status(b);
    t.match(sa.instances[0], { state: 'MASTER', priority: 150, effectivePriority: 150, vrid: 51, vips: [VIP_CIDR], address: h1.intAddress, master: { self: true } });
    t.match(sb.instances[0], { state: 'BACKUP', priority: 100, master: { address: h1.intAddress, priority: 150, self: false } });
    t.ok((sb.instances[0]?.advertsReceived ?? 0) > 0, 'backup counts received adverts');
    t.ok((sa.instances[0]?.advertsSent ?? 0) > 0, 'master counts sent adverts');
    t.match(sa.instances[0]?.transitions.slice(-1)[0], { to: 'MASTER' });
  }));

  t.test('crash (kill -9 + links down): the backup takes over and the client is told by gratuitous ARP', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    const b = c.startAgent(h2, [...base, '--role', 'backup']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 10_000), 'converged');
    t.ok(await c.waitFor(() => hasVip(h1), 3000), 'VIP on h1');
    // The client learns the VIP's MAC (h1) once, then sends nothing more.
    await run('ip', ['netns', 'exec', topo.client, 'ping', '-c', '1', '-W', '1', VIP]);
    const h1Mac = await topo.hostMac(h1);
    const h2Mac = await topo.hostMac(h2);
    t.equal(await topo.clientNeighbour(VIP), h1Mac, 'client neighbour entry points at h1');
    await new Promise((r) => setTimeout(r, 1100)); // past the neighbour locktime (1 s)
    a.child.kill('SIGKILL');
    await topo.linksDown(h1);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', 5000, 20), 'h2 took over', { logs: logsOf(b) });
    t.ok(await c.waitFor(() => hasVip(h2), 3000), 'VIP on h2');
    t.ok(await c.waitFor(async () => (await topo.clientNeighbour(VIP)) === h2Mac, 3000), 'client neighbour entry now points at h2 without the client sending anything');
    const sb = await c.status(b);
    t.match(sb.instances[0]?.transitions.slice(-1)[0], { from: 'BACKUP', to: 'MASTER' });
  }));

  t.test('clean stop hands over within Skew_Time (priority 0 advert) and removes the VIP', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    const b = c.startAgent(h2, [...base, '--role', 'backup']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 10_000), 'converged');
    a.child.kill('SIGTERM');
    const code = await a.exited;
    t.equal(code, 0, 'agent exits 0 on SIGTERM');
    t.notOk(await hasVip(h1), 'VIP removed from h1 on stop');
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', 3000, 10), 'h2 MASTER');
    const last = (await c.status(b)).instances[0]?.transitions.slice(-1)[0];
    t.match(last?.reason, /priority 0|released/i, 'takeover was triggered by the priority-0 advert, not the master-down timeout');
  }));

  t.test('a returning higher-priority node preempts only when configured', (t) => withCluster(async (c) => {
    const b = c.startAgent(h2, [...base, '--role', 'backup']);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', 10_000), 'h2 alone becomes MASTER');
    const noPre = c.startAgent(h1, [...base, '--priority', '200', '--no-preempt']);
    t.ok(await c.waitFor(async () => (await c.stateOf(noPre)) === 'BACKUP', 5000), 'h1 (200, no preempt) starts as BACKUP');
    await new Promise((r) => setTimeout(r, 1000)); // > Master_Down_Interval
    t.equal(await c.stateOf(noPre), 'BACKUP', 'without preempt h1 leaves the healthy lower master alone', { logs: logsOf(noPre) });
    t.equal(await c.stateOf(b), 'MASTER');
    noPre.child.kill('SIGKILL');
    await noPre.exited;
    const pre = c.startAgent(h1, [...base, '--priority', '200', '--preempt']);
    t.ok(await c.waitFor(async () => (await c.stateOf(pre)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 5000), 'with preempt h1 takes over');
    t.ok(await c.waitFor(async () => (await hasVip(h1)) && !(await hasVip(h2)), 3000), 'VIP moved to h1');
  }));

  t.test('equal priority: after a heartbeat partition heals, the higher address stays master', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, [...base, '--role', 'auto']);
    const b = c.startAgent(h2, [...base, '--role', 'auto']);
    t.ok(await c.waitFor(async () => [await c.stateOf(a), await c.stateOf(b)].sort().join() === 'BACKUP,MASTER', 10_000), 'one master');
    // Cut the internal network (switch ports down): both become master.
    await ip('-n', topo.sw, 'link', 'set', 'h1i', 'down');
    await ip('-n', topo.sw, 'link', 'set', 'h2i', 'down');
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'MASTER', 5000), 'split brain while the heartbeat network is cut');
    await ip('-n', topo.sw, 'link', 'set', 'h1i', 'up');
    await ip('-n', topo.sw, 'link', 'set', 'h2i', 'up');
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'BACKUP' && (await c.stateOf(b)) === 'MASTER', 5000), 'healed: h2 (10.66.0.12 > 10.66.0.11) stays master', { logs: logsOf(a) });
    t.ok(await c.waitFor(async () => !(await hasVip(h1)) && (await hasVip(h2)), 3000), 'only h2 holds the VIP');
  }));

  t.test('external NIC down on the master: FAULT there, the peer takes over; back up: BACKUP', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    const b = c.startAgent(h2, [...base, '--role', 'backup']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 10_000), 'converged');
    await ip('-n', h1.ns, 'link', 'set', 'ext0', 'down');
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'FAULT' && (await c.stateOf(b)) === 'MASTER', 5000), 'h1 FAULT, h2 MASTER', { logs: [logsOf(a), logsOf(b)] });
    t.match((await c.status(a)).instances[0]?.faults, ['interface:ext0']);
    t.notOk(await hasVip(h1), 'h1 released the VIP');
    t.ok(await c.waitFor(() => hasVip(h2), 3000), 'h2 holds the VIP');
    await ip('-n', h1.ns, 'link', 'set', 'ext0', 'up');
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) !== 'FAULT', 5000), 'h1 leaves FAULT when ext0 is back', { logs: logsOf(a) });
  }));

  t.test('a VIP removed by someone else on the master is re-added', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER with the VIP');
    await ip('-n', h1.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0');
    t.ok(await c.waitFor(() => hasVip(h1), 3000), 'VIP is back', { logs: logsOf(a) });
    t.ok(a.logs.some((l) => typeof l['msg'] === 'string' && l['msg'].includes('re-adding')), 'and the removal was logged');
  }));

  t.test('unicast peers instead of multicast; `haagent status` table and --json from the CLI', (t) => withCluster(async (c) => {
    const a = c.startAgent(h1, [...base, '--role', 'master', '--peer', h2.intAddress]);
    const b = c.startAgent(h2, [...base, '--role', 'backup', '--peer', h1.intAddress]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 10_000), 'converged over unicast', { logs: [logsOf(a), logsOf(b)] });
    const before = (await c.status(b)).instances[0]?.advertsReceived ?? 0;
    await new Promise((r) => setTimeout(r, 500));
    t.ok(((await c.status(b)).instances[0]?.advertsReceived ?? 0) > before, 'backup keeps receiving unicast adverts');
    const main = distPath('cli', 'main.js');
    const table = await run(process.execPath, [main, 'status', '--socket', a.socket]);
    t.match(table, /INSTANCE\s+VRID\s+STATE/);
    t.match(table, /vrid51\s+51\s+MASTER\s+150\s+150\s+10\.77\.0\.100\/24\s+self \(150\)/);
    const json = JSON.parse(await run(process.execPath, [main, 'status', '--json', '--socket', b.socket])) as { instances: Array<{ state: string; master: { address: string } }> };
    t.match(json.instances[0], { state: 'BACKUP', master: { address: h1.intAddress } });
  }));

  t.test('IPv6: VRRPv3 over ff02::12, VIP failover, the client learns the new MAC from the unsolicited NA', (t) => withCluster(async (c) => {
    const vip6 = 'fd00:77::100';
    const v6 = ['--interface', 'int0', '--external', 'ext0', '--vip', `${vip6}/64`, '--vrid', '61', '--advert-interval', '100ms'];
    await ip('-n', topo.client, 'addr', 'replace', 'fd00:77::50/64', 'dev', 'eth0', 'nodad');
    t.teardown(() => ip('-n', topo.client, 'addr', 'del', 'fd00:77::50/64', 'dev', 'eth0').catch(() => undefined));
    const a = c.startAgent(h1, [...v6, '--role', 'master']);
    const b = c.startAgent(h2, [...v6, '--role', 'backup']);
    // b is BACKUP from its start; it knows the master once an advert has arrived (up to one interval later).
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP' && (await c.status(b)).instances[0]?.master !== null, 15_000),
      'h1 MASTER, h2 BACKUP over IPv6', { logs: [logsOf(a), logsOf(b)] });
    const sb = await c.status(b);
    t.match(sb.instances[0]?.master?.address, /^fe80::/, 'the master is known by its link-local address');
    t.same(sb.instances[0]?.drops, {}, 'no IPv6 advert dropped (hop limit, checksum)');
    t.ok(await c.waitFor(async () => (await topo.extAddresses(h1)).includes(`${vip6}/64`), 3000), 'IPv6 VIP on h1');
    await run('ip', ['netns', 'exec', topo.client, 'ping', '-6', '-c', '1', '-W', '2', vip6]);
    const neigh6 = async (): Promise<string | undefined> => {
      const out = await ip('-n', topo.client, '-6', '-j', 'neigh', 'show', vip6);
      return (JSON.parse(out) as Array<{ lladdr?: string }>)[0]?.lladdr;
    };
    t.equal(await neigh6(), await topo.hostMac(h1), 'client neighbour entry points at h1');
    await new Promise((r) => setTimeout(r, 1100));
    a.child.kill('SIGKILL');
    await topo.linksDown(h1);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', 5000, 20), 'h2 took over', { logs: logsOf(b) });
    const h2Mac = await topo.hostMac(h2);
    t.ok(await c.waitFor(async () => (await neigh6()) === h2Mac, 3000), 'client neighbour entry now points at h2 (unsolicited NA, override flag)');
  }));

  t.test('two instances, two VIPs: each host master of one', (t) => withCluster(async (c) => {
    const conf = (p51: number, p52: number, sock: string): string => `socket: ${sock}
instances:
  - {name: vip1, vrid: 51, interface: int0, external: ext0, vips: [${VIP_CIDR}], priority: ${p51}, preempt: true, advert-interval: 100ms}
  - {name: vip2, vrid: 52, interface: int0, external: ext0, vips: [${VIP2_CIDR}], priority: ${p52}, preempt: true, advert-interval: 100ms}
`;
    const f1 = `/tmp/${topo.prefix}-h1.yaml`;
    const f2 = `/tmp/${topo.prefix}-h2.yaml`;
    writeFileSync(f1, conf(150, 100, c.socketPath(h1)));
    writeFileSync(f2, conf(100, 150, c.socketPath(h2)));
    const a = c.startAgent(h1, ['--config', f1]);
    const b = c.startAgent(h2, ['--config', f2]);
    const states = async (): Promise<string> => {
      const [sa, sb] = [await c.status(a), await c.status(b)];
      return [...sa.instances.map((i) => i.state), ...sb.instances.map((i) => i.state)].join();
    };
    t.ok(await c.waitFor(async () => (await states()) === 'MASTER,BACKUP,BACKUP,MASTER', 10_000), 'h1 master of vip1, h2 master of vip2', { logs: logsOf(a) });
    t.ok(await c.waitFor(async () => (await hasVip(h1, VIP_CIDR)) && (await hasVip(h2, VIP2_CIDR)), 3000));
    t.notOk(await hasVip(h1, VIP2_CIDR));
    t.notOk(await hasVip(h2, VIP_CIDR));
    const out = await run('ip', ['netns', 'exec', topo.client, 'ping', '-c', '1', '-W', '1', VIP2]);
    t.match(out, /1 received/);
  }));
}
