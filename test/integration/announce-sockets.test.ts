/**
 * Announcements share one packet socket per interface: a real agent that is master of two
 * instances on ext0 (the configs `haagent init --active-active` writes; the peer is not started,
 * so this agent takes both) sent the gratuitous ARPs of both, and holds one AF_PACKET socket,
 * counted in /proc/PID/net/packet among the sockets of its own /proc/PID/fd. Before any
 * announcement it holds none (the socket is opened on first use).
 */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distPath } from '../../src/lab/cluster.js';
import { VIP_CIDR, VIP2_CIDR } from '../../src/lab/topology.js';
import { run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

/** The AF_PACKET sockets process `pid` holds (inodes in its net/packet that are its own fds). */
function packetSockets(pid: number): string[] {
  const own = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) own.add(m[1]!);
    } catch {
      // closed while listing
    }
  }
  const rows = readFileSync(`/proc/${pid}/net/packet`, 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  return rows.map((r) => r[8] ?? '').filter((inode) => own.has(inode));
}

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `shared announce socket test skipped: ${skip}`);
} else {
  const { h1, hasVip, withCluster } = labSuite(t, 'hasks');
  const dir = mkdtempSync(join(tmpdir(), 'hasks-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });

  t.test('two master instances on one interface: one packet socket', (t) => withCluster(async (c) => {
    await run(process.execPath, [distPath('cli', 'main.js'), 'init', '--active-active', '--interface', 'int0', '--external', 'ext0',
      '--vip', VIP_CIDR, '--vip', VIP2_CIDR, '--advert-interval', '100ms', '--out', dir, '--force']);
    const f = join(dir, 'host-a.lab.yaml');
    writeFileSync(f, readFileSync(join(dir, 'host-a.yaml'), 'utf8').replace('socket: /run/haagent/haagent.sock', `socket: ${c.socketPath(h1)}`));
    const a = c.startAgent(h1, ['--config', f]);
    const pid = a.child.pid;
    if (pid === undefined) throw new Error('agent has no pid');
    t.ok(await c.waitFor(async () => (await c.status(a)).instances.length === 2, 10_000), 'agent up with two instances', { logs: logsOf(a) });
    const before = (await c.status(a)).instances.every((i) => i.state !== 'MASTER') ? packetSockets(pid).length : undefined;
    t.ok(await c.waitFor(async () => (await c.status(a)).instances.every((i) => i.state === 'MASTER'), 10_000), 'master of both', { logs: logsOf(a) });
    t.ok(await c.waitFor(async () => (await hasVip(h1, VIP_CIDR)) && (await hasVip(h1, VIP2_CIDR)), 5000), 'both VIPs on h1');
    await new Promise((r) => setTimeout(r, 1000)); // both bursts are under way
    if (before !== undefined) t.equal(before, 0, 'no packet socket before the first announcement');
    t.same(packetSockets(pid).length, 1, 'one packet socket for the announcements of both instances');
  }));
}
