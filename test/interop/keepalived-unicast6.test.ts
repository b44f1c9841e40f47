/**
 * VRRPv3 over IPv6 unicast against a real keepalived (Debian's 2.2.7): keepalived checks no hop
 * limit on unicast and sends its unicast adverts with the kernel's default hop limit (64), so a
 * haagent that insists on 255 drops every one of them as `bad-ttl` and both hosts hold the VIP.
 * With `unicast-ttl-check: false` haagent accepts them from the configured peer:
 *   1. keepalived 150 vs haagent 100: haagent BACKUP, nothing dropped, one VIP holder;
 *   2. haagent 150 vs keepalived 100: keepalived BACKUP (it hears our hop-limit-255 adverts);
 *   3. without the key: haagent counts bad-ttl and both are MASTER (why the key exists).
 * Peers are the hosts' fe80:: addresses on int0. Time bounds are liveness limits only.
 */
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { LabTopology, type LabHost } from '../../src/lab/topology.js';
import { ip } from '../../src/lab/sh.js';
import type { InstanceStatus } from '../../src/core/control/types.js';
import { skipReason } from '../helpers/root.js';
import { Keepalived, killAllKeepalived, steadyPair } from '../helpers/keepalived.js';

const skip = skipReason({ needsDist: true, needs: ['keepalived'] });
if (skip !== undefined) {
  t.plan(0, `keepalived IPv6 unicast interop skipped: ${skip}`);
} else {
  const prefix = `haku${process.pid % 100000}`;
  const topo = new LabTopology(prefix);
  const [h1, h2] = topo.hosts;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const VIP6 = 'fd00:78::100/64';
  const hasVip = async (host: LabHost): Promise<boolean> => (await topo.extAddresses(host)).includes(VIP6);
  const tmpFiles: string[] = [];
  let seq = 0;

  /** The host's link-local address on int0 (waits for duplicate address detection to finish). */
  async function linkLocal(host: LabHost): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const out = await ip('-n', host.ns, '-6', '-o', 'addr', 'show', 'dev', 'int0', 'scope', 'link');
      const m = /inet6 (fe80::[0-9a-f:]+)\/64 scope link(?! tentative)/.exec(out);
      if (m?.[1] !== undefined && !out.includes('tentative')) return m[1];
      await sleep(100);
    }
    throw new Error(`${host.name}: no link-local address on int0`);
  }

  let ll1 = '';
  let ll2 = '';
  t.before(async () => {
    await topo.create();
    [ll1, ll2] = [await linkLocal(h1), await linkLocal(h2)];
  });
  t.teardown(async () => {
    await killAllKeepalived();
    await topo.destroy();
    for (const f of tmpFiles) rmSync(f, { force: true });
  });

  function agentConfig(priority: number, ttlCheck: boolean): string {
    const f = `/tmp/${prefix}-${++seq}.yaml`;
    tmpFiles.push(f);
    writeFileSync(f, `instances:\n  - name: vi1\n    vrid: 52\n    interface: int0\n    external: ext0\n    vips: ["${VIP6}"]\n`
      + `    priority: ${priority}\n    preempt: true\n    advert-interval: 1s\n    vrrp-version: 3\n    peers: [${ll2}]\n`
      + (ttlCheck ? '' : '    unicast-ttl-check: false\n'));
    return f;
  }

  interface Pair { c: LabCluster; agent: RunningAgent; ka: Keepalived; logs(): Record<string, unknown> }

  async function withPair(agentPriority: number, ttlCheck: boolean, kaPriority: number, fn: (p: Pair) => Promise<void>): Promise<void> {
    const c = new LabCluster(topo);
    const agent = c.startAgent(h1, ['--config', agentConfig(agentPriority, ttlCheck), '--log-level', 'debug']);
    const ka = new Keepalived(h2, `${prefix}-ka${++seq}`, {
      version: 3, priority: kaPriority, advertInt: 1, vrid: 52, vips: [VIP6],
      instanceLines: ['  unicast_peer {', `    ${ll1}`, '  }'],
    });
    const p: Pair = { c, agent, ka, logs: () => ({ haagent: agent.logs.slice(-15).map((l) => JSON.stringify(l)), keepalived: ka.tail(25) }) };
    try {
      await fn(p);
    } finally {
      await killAllKeepalived();
      await c.stopAll();
      for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', VIP6, 'dev', 'ext0').catch(() => undefined);
    }
  }

  const instanceOf = async (c: LabCluster, a: RunningAgent): Promise<InstanceStatus | undefined> => (await c.status(a)).instances[0];

  /** The expected states hold and exactly `holder` has the VIP for `ms`; the first violation, or undefined. */
  const steady = (p: Pair, agentState: string, kaState: string, holder: LabHost, ms?: number): Promise<string | undefined> =>
    steadyPair({ agentState: () => p.c.stateOf(p.agent), keepalivedState: () => p.ka.state(), hasVip }, [h1, h2], agentState, kaState, holder, ms);

  const converge = 25_000;

  t.test('unicast-ttl-check false: keepalived 150 is MASTER, haagent 100 BACKUP, nothing dropped', (t) => withPair(100, false, 150, async (p) => {
    t.ok(await p.c.waitFor(async () => p.ka.state() === 'MASTER' && (await p.c.stateOf(p.agent)) === 'BACKUP' && (await hasVip(h2)), converge, 100), 'converged', p.logs());
    t.equal(await steady(p, 'BACKUP', 'MASTER', h2), undefined, 'steady: one VIP holder', p.logs());
    const s = await instanceOf(p.c, p.agent);
    t.ok((s?.advertsReceived ?? 0) > 2, 'haagent counts keepalived\'s adverts', p.logs());
    t.same(s?.drops, {}, 'and drops none of them');
  }));

  t.test('unicast-ttl-check false: haagent 150 is MASTER, keepalived 100 BACKUP', (t) => withPair(150, false, 100, async (p) => {
    t.ok(await p.c.waitFor(async () => (await p.c.stateOf(p.agent)) === 'MASTER' && p.ka.state() === 'BACKUP' && (await hasVip(h1)), converge, 100), 'converged', p.logs());
    t.equal(await steady(p, 'MASTER', 'BACKUP', h1), undefined, 'steady: one VIP holder', p.logs());
  }));

  t.test('default (TTL checked): keepalived\'s hop-limit-64 adverts are dropped as bad-ttl, both MASTER', (t) => withPair(100, true, 150, async (p) => {
    t.ok(await p.c.waitFor(async () => ((await instanceOf(p.c, p.agent))?.drops['bad-ttl'] ?? 0) > 0 && (await p.c.stateOf(p.agent)) === 'MASTER' && p.ka.state() === 'MASTER', converge, 100), 'bad-ttl counted, both MASTER', p.logs());
  }));
}
