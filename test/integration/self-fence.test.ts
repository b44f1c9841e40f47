/**
 * The self-fence with real agents in namespaces, 100 ms adverts: a client asks "who-has VIP"
 * every 20 ms (broadcast ARP requests, replies captured by tcpdump in the client namespace).
 * Killed (-9) or frozen (SIGSTOP), the old master must never answer after the backup has
 * started to: the fence makes it dark before Master_Down_Interval ends. With `self-fence: off`
 * the same run shows the old master answering on (the VIP lease holds it ~1 s): the check can
 * fail. Also: the fence table exists only on the master, follows a clean release, and a clean
 * stop removes it. With peer hellos (`paths`) and self-fence-backup-priority: auto, the master
 * learns its backup's priority: its fence times out just before THAT backup's takeover (and a
 * kill still shows no two MACs), and goes back to any backup's timeout when the hellos stop,
 * without the live master ever dropping a packet. Time bounds are liveness limits; the bench
 * measures (test/bench/fence.ts).
 */
import t from 'tap';
import type { Test } from 'tap';
import { writeFileSync } from 'node:fs';
import type { LabCluster, RunningAgent } from '../../src/lab/cluster.js';
import { CLIENT_ADDRESS, VIP, type LabHost } from '../../src/lab/topology.js';
import { ip, run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf, webInstanceYaml } from '../helpers/lab.js';
import { arpHandover, ArpWatch } from '../chaos/arp-watch.js';

const skip = skipReason({ needsDist: true, needs: ['nft', 'tcpdump'] });
if (skip !== undefined) {
  t.plan(0, `self-fence integration tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, hasVip, withCluster } = labSuite(t, 'hafn');

  const config = (c: LabCluster, host: LabHost, priority: number, fence: 'auto' | 'off', paths = false): string => {
    const file = `/tmp/${topo.prefix}-${host.name}-fence.yaml`;
    const peer = host === h1 ? h2 : h1;
    writeFileSync(file, webInstanceYaml({
      socket: c.socketPath(host), priority, head: paths ? ['peer-key: lab-secret'] : [],
      more: [
        `    preempt: ${priority > 100 ? 'true' : 'false'}`,
        `    self-fence: ${fence}`,
        ...(paths ? [`    paths: [{ interface: ext0, peer: ${peer.extAddress} }]`] : []),
      ],
    }));
    return file;
  };

  const interfaceMacIn = async (ns: string, dev: string): Promise<string> =>
    (JSON.parse(await ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as Array<{ address: string }>)[0]?.address ?? '';

  const fenceTable = async (host: LabHost): Promise<string> =>
    run('ip', ['netns', 'exec', host.ns, 'nft', 'list', 'tables']).then((out) => (out.includes('table netdev haagent_fence') ? 'present' : 'absent'));

  /** The timeouts in the master's refresh rules (`update @alive4 { VIP timeout Nms }`). */
  const ruleTimeouts = async (host: LabHost): Promise<string[]> =>
    [...(await run('ip', ['netns', 'exec', host.ns, 'nft', 'list', 'table', 'netdev', 'haagent_fence'])).matchAll(/update @alive4 \{[^}]* timeout (\w+) \}/g)].map((m) => m[1] ?? '');

  /** Packets the fence's drop rules have dropped on `host`. */
  const dropped = async (host: LabHost): Promise<number> =>
    [...(await run('ip', ['netns', 'exec', host.ns, 'nft', 'list', 'table', 'netdev', 'haagent_fence'])).matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);

  async function pair(t: Test, c: LabCluster, fence: 'auto' | 'off', paths = false): Promise<[RunningAgent, RunningAgent]> {
    const a = c.startAgent(h1, ['--config', config(c, h1, 150, fence, paths)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', config(c, h2, 100, fence, paths)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP', { logs: logsOf(b) });
    return [a, b];
  }

  /** Kills or freezes the master while the client asks for the VIP; returns the handover seen on the wire. */
  async function fault(t: Test, c: LabCluster, a: RunningAgent, b: RunningAgent, how: 'SIGKILL' | 'SIGSTOP'): Promise<ReturnType<typeof arpHandover>> {
    const watch = new ArpWatch(topo.client, 'eth0', CLIENT_ADDRESS, VIP);
    await watch.start();
    t.teardown(() => watch.stop().then(() => undefined));
    await new Promise((r) => setTimeout(r, 300));
    const at = Date.now();
    const pid = a.child.pid ?? 0;
    process.kill(pid, how);
    try {
      t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await hasVip(h2)), 5000, 20), 'h2 takes over', { logs: logsOf(b) });
      // Long enough for a 1 s VIP lease (and its kernel slack) to have run out too.
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      if (how === 'SIGSTOP') process.kill(pid, 'SIGCONT');
    }
    const events = await watch.stop();
    const [oldMac, newMac] = await Promise.all([interfaceMacIn(h1.ns, 'ext0'), interfaceMacIn(h2.ns, 'ext0')]);
    const h = arpHandover(events, oldMac, newMac, at);
    const before = events.filter((e) => e.kind === 'reply' && e.t < at);
    t.ok(before.length > 5 && before.every((e) => e.mac === oldMac), 'before the fault the live master answered, alone (a live master is never fenced)', { before: before.length });
    t.comment(JSON.stringify({ how, ...h, firstNewMs: h.firstNewT === undefined ? undefined : Math.round(h.firstNewT - at), lastOldMs: h.lastOldT === undefined ? undefined : Math.round(h.lastOldT - at) }));
    t.ok(h.requests > 50, 'the client kept asking', { requests: h.requests });
    t.ok(h.firstNewT !== undefined, 'the backup answered ARP for the VIP', { h });
    return h;
  }

  for (const how of ['SIGKILL', 'SIGSTOP'] as const) {
    t.test(`${how} of a fenced master: it never answers ARP once the backup does`, (t) => withCluster(async (c) => {
      const [a, b] = await pair(t, c, 'auto');
      t.ok(await c.waitFor(async () => (await fenceTable(h1)) === 'present', 5000), 'the master has the fence table (armed beside the VIPs)');
      t.equal(await fenceTable(h2), 'absent', 'the backup has none');
      const st = (await c.status(a)).instances[0]?.selfFence;
      t.match(st, { enabled: true, armed: true, timeoutMs: 280 }, 'status shows the armed fence (3 x 100 ms - 20 ms)');
      const h = await fault(t, c, a, b, how);
      t.equal(h.oldAfterNew, 0, 'no reply from the old master after the backup\'s first one', { h });
      t.equal(h.dualPeriods, 0, 'never two MACs for one request', { h });
      if (how === 'SIGSTOP') {
        // Resumed: it was dark meanwhile, so once it is master again it announces its VIPs again.
        const resumed = (): boolean => a.logs.some((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('adverts resumed after the self-fence had expired'));
        t.ok(await c.waitFor(resumed, 5000), 'the resumed master re-announces', { logs: logsOf(a) });
        t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP' && (await hasVip(h1)) && !(await hasVip(h2)), 5000), 'h1 (preempt) master again, one VIP holder');
      }
    }));
  }

  t.test('auto with hellos: the master learns its backup\'s priority (340 ms, not 280), a kill still shows no two MACs', (t) => withCluster(async (c) => {
    const [a, b] = await pair(t, c, 'auto', true);
    const learned = async (): Promise<boolean> => {
      const st = (await c.status(a)).instances[0]?.selfFence;
      return st?.armed === true && st.backupPriorityFrom === 'peers' && (await ruleTimeouts(h1)).join() === '340ms';
    };
    t.ok(await c.waitFor(learned, 10_000), 'learned from h2\'s hellos: its priority 100 gives 360 - 20 ms', { logs: logsOf(a) });
    t.match((await c.status(a)).instances[0]?.selfFence, { enabled: true, armed: true, timeoutMs: 340, backupPriority: 100, backupPriorityFrom: 'peers' });
    const h = await fault(t, c, a, b, 'SIGKILL');
    t.equal(h.oldAfterNew, 0, 'no reply from the old master after the backup\'s first one', { h });
    t.equal(h.dualPeriods, 0, 'never two MACs for one request', { h });
  }));

  t.test('auto with hellos: the backup falls silent, the master goes back to any backup\'s timeout and is never fenced meanwhile', (t) => withCluster(async (c) => {
    const [a, b] = await pair(t, c, 'auto', true);
    t.ok(await c.waitFor(async () => (await ruleTimeouts(h1)).join() === '340ms', 10_000), 'learned: 340 ms', { logs: logsOf(a) });
    const watch = new ArpWatch(topo.client, 'eth0', CLIENT_ADDRESS, VIP);
    await watch.start();
    t.teardown(() => watch.stop().then(() => undefined));
    process.kill(b.child.pid ?? 0, 'SIGKILL');
    t.ok(await c.waitFor(async () => (await ruleTimeouts(h1)).join() === '280ms', 5000), 'h2 silent: back to any backup (280 ms)', { logs: logsOf(a) });
    t.match((await c.status(a)).instances[0]?.selfFence, { armed: true, timeoutMs: 280, backupPriority: 254, backupPriorityFrom: 'any' });
    await new Promise((r) => setTimeout(r, 500));
    const events = await watch.stop();
    t.ok(events.filter((e) => e.kind === 'reply').length > 20, 'the master kept answering the client');
    t.equal(await dropped(h1), 0, 'the retimed fence never dropped a packet of the live master');
    t.ok(a.logs.some((l) => l['msg'] === 'self-fence timeout follows the backups\' priority' && l['timeoutMs'] === 280), 'logged', { logs: logsOf(a) });
  }));

  t.test('without the fence the same kill shows two MACs answering (the check above can fail)', (t) => withCluster(async (c) => {
    const [a, b] = await pair(t, c, 'off');
    t.equal(await fenceTable(h1), 'absent', 'self-fence: off: no table');
    const h = await fault(t, c, a, b, 'SIGKILL');
    t.ok(h.oldAfterNew > 0, 'the old master answered after the backup had taken over (until its VIP lease ran out)', { h });
  }));

  t.test('a clean release disarms the fence after the VIP; a clean stop removes the table', (t) => withCluster(async (c) => {
    const [a, b] = await pair(t, c, 'auto');
    a.child.kill('SIGTERM');
    t.equal(await a.exited, 0, 'h1 stopped cleanly', { logs: logsOf(a) });
    t.equal(await fenceTable(h1), 'absent', 'its fence table is gone');
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await fenceTable(h2)) === 'present', 5000), 'h2 took over, fenced');
    // A killed master leaves its table; the next start removes it (after the stale VIP).
    process.kill(b.child.pid ?? 0, 'SIGKILL');
    await b.exited;
    t.equal(await fenceTable(h2), 'present', 'a killed agent leaves its table behind');
    const b2 = c.startAgent(h2, ['--config', config(c, h2, 100, 'off')]);
    t.ok(await c.waitFor(async () => (await fenceTable(h2)) === 'absent' && (await c.stateOf(b2)) !== undefined, 10_000), 'the restarted agent removed it', { logs: logsOf(b2) });
  }));
}
