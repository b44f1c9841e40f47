/**
 * Interop with a real keepalived (2.2.x) in the lab topology: haagent on h1, keepalived on h2,
 * same VRID, same VIP (keepalived checks the advertised address list), heartbeats on int0, the
 * VIP on ext0. For VRRPv2 (1 s), VRRPv3 (1 s) and VRRPv3 (100 ms):
 *   1. haagent 150 vs keepalived 100: haagent MASTER, keepalived stays BACKUP (it hears us)
 *   2. keepalived 150 vs haagent 100: keepalived MASTER, haagent BACKUP and names it as master
 *   3. haagent master crashes (kill -9 + links down): keepalived takes the VIP
 *   4. keepalived master crashes: haagent takes over; keepalived stopped cleanly (priority 0):
 *      haagent takes over on the priority-0 advert
 *   5. (v2) simple-password authentication: same password interoperates; a wrong password is
 *      dropped by both sides (haagent counts `auth-mismatch`) and both become master.
 * keepalived's state comes from its log ("Entering MASTER STATE"); who holds the VIP from ext0.
 * Time bounds are generous liveness limits, never speed claims.
 */
import t from 'tap';
import { writeFileSync, rmSync } from 'node:fs';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { LabTopology, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { ip } from '../../src/lab/sh.js';
import type { InstanceStatus } from '../../src/core/control/types.js';
import { skipReason } from '../helpers/root.js';
import { Keepalived, killAllKeepalived, type KeepalivedOptions } from '../helpers/keepalived.js';

const skip = skipReason({ needsDist: true, needs: ['keepalived'] });
if (skip !== undefined) {
  t.plan(0, `keepalived interop tests skipped: ${skip}`);
} else {
  const prefix = `haik${process.pid % 100000}`;
  const topo = new LabTopology(prefix);
  const [h1, h2] = topo.hosts; // haagent on h1 (10.66.0.11), keepalived on h2 (10.66.0.12)
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const hasVip = async (host: LabHost): Promise<boolean> => (await topo.extAddresses(host)).includes(VIP_CIDR);
  const tmpFiles: string[] = [];

  t.before(async () => { await topo.create(); });
  t.teardown(async () => {
    await killAllKeepalived();
    await topo.destroy();
    for (const f of tmpFiles) rmSync(f, { force: true });
  });

  interface Variant {
    readonly version: 2 | 3;
    readonly interval: string;
    /** keepalived's advert_int, seconds. */
    readonly kaInt: number;
    readonly ms: number;
  }
  const variants: readonly Variant[] = [
    { version: 2, interval: '1s', kaInt: 1, ms: 1000 },
    { version: 3, interval: '1s', kaInt: 1, ms: 1000 },
    { version: 3, interval: '100ms', kaInt: 0.1, ms: 100 },
  ];

  let kaSeq = 0;
  interface Pair {
    readonly c: LabCluster;
    startKa(o: Omit<KeepalivedOptions, 'vips'>): Keepalived;
    /** Diagnostics: last log lines of both sides. */
    logs(): Record<string, unknown>;
    agent?: RunningAgent;
    ka?: Keepalived;
  }

  async function withPair(fn: (p: Pair) => Promise<void>): Promise<void> {
    const c = new LabCluster(topo);
    const p: Pair = {
      c,
      startKa(o) {
        const ka = new Keepalived(h2, `${prefix}-ka${++kaSeq}`, { ...o, vips: [VIP_CIDR] });
        p.ka = ka;
        return ka;
      },
      logs() {
        return {
          haagent: (p.agent?.logs ?? []).slice(-20).map((l) => JSON.stringify(l)),
          keepalived: p.ka?.tail(25) ?? [],
        };
      },
    };
    try {
      await fn(p);
    } finally {
      await killAllKeepalived();
      await c.stopAll();
      await topo.linksUp(h1);
      await topo.linksUp(h2);
      for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0').catch(() => undefined);
    }
  }

  const instanceOf = async (c: LabCluster, a: RunningAgent): Promise<InstanceStatus | undefined> => (await c.status(a)).instances[0];

  /**
   * Samples for `ms`: the expected states hold on both sides and exactly `holder` has the VIP.
   * Returns the first violation, or undefined.
   */
  async function steady(p: Pair, agentState: string, kaState: string, holder: LabHost, ms = 3000): Promise<string | undefined> {
    const other = holder === h1 ? h2 : h1;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const s = p.agent ? await p.c.stateOf(p.agent) : undefined;
      const k = p.ka?.state();
      const [hv, ov] = [await hasVip(holder), await hasVip(other)];
      if (s !== agentState || k !== kaState || !hv || ov) {
        return `haagent ${s}, keepalived ${k}, VIP on ${holder.name}: ${hv}, VIP on ${other.name}: ${ov}`;
      }
      await sleep(200);
    }
    return undefined;
  }

  const agentArgs = (v: Variant, extra: readonly string[]): string[] => [
    '--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR, '--vrid', '51',
    '--advert-interval', v.interval, '--vrrp-version', String(v.version), '--log-level', 'debug', ...extra,
  ];
  // Liveness limits: start-up + Master_Down_Interval (3 intervals + skew) several times over.
  const converge = (v: Variant): number => Math.max(15_000, 12 * v.ms);
  const failover = (v: Variant): number => Math.max(10_000, 8 * v.ms);

  for (const v of variants) {
    const tag = `VRRPv${v.version} ${v.interval}`;

    t.test(`${tag}: haagent 150 vs keepalived 100`, (t) => withPair(async (p) => {
      const { c } = p;
      const agent = c.startAgent(h1, agentArgs(v, ['--role', 'master', '--priority', '150']));
      p.agent = agent;
      const ka = p.startKa({ version: v.version, priority: 100, advertInt: v.kaInt });

      await t.test('1. haagent MASTER, keepalived BACKUP, one VIP holder', async (t) => {
        const ok = await c.waitFor(async () => (await c.stateOf(agent)) === 'MASTER' && ka.state() === 'BACKUP'
          && (await hasVip(h1)) && !(await hasVip(h2)), converge(v), 100);
        t.ok(ok, 'converged: haagent MASTER with the VIP, keepalived BACKUP without', p.logs());
        if (!ok) return;
        const mark = ka.lines.length;
        const bad = await steady(p, 'MASTER', 'BACKUP', h1);
        t.equal(bad, undefined, 'steady for 3 s (> keepalived Master_Down_Interval): keepalived hears our adverts', p.logs());
        t.notOk(ka.logged(/Entering MASTER STATE/, mark), 'keepalived did not try to take over', p.logs());
        const s = await instanceOf(c, agent);
        t.match(s, { state: 'MASTER', vrrpVersion: v.version, priority: 150, master: { self: true, address: h1.intAddress, priority: 150 } });
        t.ok((s?.advertsSent ?? 0) > 0, 'haagent sent adverts');
        t.same(s?.drops, {}, 'haagent dropped nothing', p.logs());
        t.same((await c.status(agent)).interfaceDrops, {}, 'no interface-level drops');
      });

      await t.test('3. haagent crashes (kill -9, links down): keepalived takes the VIP', async (t) => {
        const mark = ka.lines.length;
        agent.child.kill('SIGKILL');
        await agent.exited;
        await topo.linksDown(h1);
        t.ok(await c.waitFor(() => ka.state(mark) === 'MASTER', failover(v), 50), 'keepalived entered MASTER', p.logs());
        t.ok(await c.waitFor(() => hasVip(h2), 5000), 'VIP on keepalived\'s ext0', p.logs());
      });
    }));

    t.test(`${tag}: keepalived 150 vs haagent 100`, (t) => withPair(async (p) => {
      const { c } = p;
      const agent = c.startAgent(h1, agentArgs(v, ['--role', 'backup', '--priority', '100']));
      p.agent = agent;
      const ka = p.startKa({ version: v.version, priority: 150, advertInt: v.kaInt });

      await t.test('2. keepalived MASTER, haagent BACKUP naming it, one VIP holder', async (t) => {
        const ok = await c.waitFor(async () => ka.state() === 'MASTER' && (await instanceOf(c, agent))?.master?.address === h2.intAddress
          && (await c.stateOf(agent)) === 'BACKUP' && (await hasVip(h2)) && !(await hasVip(h1)), converge(v), 100);
        t.ok(ok, 'converged: keepalived MASTER with the VIP, haagent BACKUP without', p.logs());
        if (!ok) return;
        const bad = await steady(p, 'BACKUP', 'MASTER', h2);
        t.equal(bad, undefined, 'steady for 3 s: haagent accepts keepalived\'s adverts', p.logs());
        const s = await instanceOf(c, agent);
        t.match(s, { state: 'BACKUP', vrrpVersion: v.version, priority: 100, master: { address: h2.intAddress, priority: 150, self: false } });
        t.ok((s?.advertsReceived ?? 0) > 0, 'haagent counts keepalived\'s adverts');
        t.same(s?.drops, {}, 'haagent dropped none of keepalived\'s adverts (checksum, interval, addresses all accepted)', p.logs());
        t.same((await c.status(agent)).interfaceDrops, {}, 'no interface-level drops');
      });

      await t.test('4a. keepalived crashes (kill -9, links down): haagent takes over', async (t) => {
        t.ok(ka.vrrpPid() !== undefined, 'keepalived VRRP child pid known');
        ka.killHard();
        await topo.linksDown(h2);
        await ka.exited;
        t.ok(await c.waitFor(async () => (await c.stateOf(agent)) === 'MASTER', failover(v), 50), 'haagent MASTER', p.logs());
        t.ok(await c.waitFor(() => hasVip(h1), 5000), 'VIP on haagent\'s ext0', p.logs());
        const last = (await instanceOf(c, agent))?.transitions.slice(-1)[0];
        t.match(last, { from: 'BACKUP', to: 'MASTER', reason: /master-down/ }, 'takeover by the master-down timer', p.logs());
      });
    }));

    t.test(`${tag}: 4b. keepalived stops cleanly (SIGTERM, priority 0): haagent takes over`, (t) => withPair(async (p) => {
      const { c } = p;
      const agent = c.startAgent(h1, agentArgs(v, ['--role', 'backup', '--priority', '100']));
      p.agent = agent;
      const ka = p.startKa({ version: v.version, priority: 150, advertInt: v.kaInt });
      const ok = await c.waitFor(async () => ka.state() === 'MASTER' && (await instanceOf(c, agent))?.master?.address === h2.intAddress
        && (await hasVip(h2)), converge(v), 100);
      t.ok(ok, 'converged: keepalived MASTER, haagent BACKUP', p.logs());
      if (!ok) return;
      const mark = ka.lines.length;
      const code = await ka.stop();
      t.equal(code, 0, 'keepalived exits 0 on SIGTERM', p.logs());
      t.notOk(await hasVip(h2), 'keepalived removed the VIP on stop');
      t.ok(await c.waitFor(async () => (await c.stateOf(agent)) === 'MASTER', failover(v), 20), 'haagent MASTER', p.logs());
      t.ok(await c.waitFor(() => hasVip(h1), 5000), 'VIP on haagent\'s ext0', p.logs());
      const last = (await instanceOf(c, agent))?.transitions.slice(-1)[0];
      t.match(last, { from: 'BACKUP', to: 'MASTER', reason: /priority 0/ }, 'takeover triggered by keepalived\'s priority-0 advert, not the master-down timer',
        { ...p.logs(), keepaliveStop: ka.lines.slice(mark) });
    }));
  }

  // 5. VRRPv2 simple password. haagent has no auth flag: a YAML config file.
  const v2: Variant = { version: 2, interval: '1s', kaInt: 1, ms: 1000 };
  const writeAuthConfig = (password: string): string => {
    const f = `/tmp/${prefix}-auth-${password}.yaml`;
    tmpFiles.push(f);
    writeFileSync(f, `instances:
  - name: vi1
    vrid: 51
    role: master
    interface: int0
    external: ext0
    vips: [${VIP_CIDR}]
    priority: 150
    preempt: true
    advert-interval: 1s
    vrrp-version: 2
    auth: { type: pass, password: ${password} }
`);
    return f;
  };

  t.test('5. VRRPv2 simple password (auth_type PASS)', async (t) => {
    await t.test('same password: they interoperate', (t) => withPair(async (p) => {
      const { c } = p;
      const agent = c.startAgent(h1, ['--config', writeAuthConfig('secret'), '--log-level', 'debug']);
      p.agent = agent;
      const ka = p.startKa({ version: 2, priority: 100, advertInt: 1, authPass: 'secret' });
      const ok = await c.waitFor(async () => (await c.stateOf(agent)) === 'MASTER' && ka.state() === 'BACKUP'
        && (await hasVip(h1)) && !(await hasVip(h2)), converge(v2), 100);
      t.ok(ok, 'converged: haagent MASTER, keepalived BACKUP', p.logs());
      if (!ok) return;
      const bad = await steady(p, 'MASTER', 'BACKUP', h1);
      t.equal(bad, undefined, 'steady for 3 s: keepalived accepts our password', p.logs());
      const s = await instanceOf(c, agent);
      t.same(s?.drops, {}, 'haagent dropped nothing', p.logs());
      t.notOk(ka.logged(/invalid passwd/), 'keepalived found nothing wrong with our password', p.logs());
    }));

    await t.test('wrong password: both sides drop the other\'s adverts and both become master', (t) => withPair(async (p) => {
      const { c } = p;
      const agent = c.startAgent(h1, ['--config', writeAuthConfig('secret'), '--log-level', 'debug']);
      p.agent = agent;
      const ka = p.startKa({ version: 2, priority: 100, advertInt: 1, authPass: 'wrong' });
      const ok = await c.waitFor(async () => (await c.stateOf(agent)) === 'MASTER' && ka.state() === 'MASTER'
        && (await hasVip(h1)) && (await hasVip(h2)), converge(v2), 100);
      t.ok(ok, 'split brain: both MASTER, both hold the VIP (expected: the password check works)', p.logs());
      t.ok(await c.waitFor(async () => ((await instanceOf(c, agent))?.drops['auth-mismatch'] ?? 0) > 0, 5000),
        'haagent counts auth-mismatch drops', { drops: (await instanceOf(c, agent).catch(() => undefined))?.drops, ...p.logs() });
      t.equal((await instanceOf(c, agent))?.advertsReceived, 0, 'haagent accepted none of keepalived\'s adverts');
      t.ok(ka.logged(/invalid passwd/), 'keepalived logs that our password is wrong ("received an invalid passwd!")', p.logs());
    }));
  });

  // 6. RFC 9568 §6.4.2: a v3 backup adopts the master's advertised interval (Active_Adver_Interval).
  t.test('6. VRRPv3 interval mismatch: keepalived master at 1 s, haagent backup configured 100 ms', (t) => withPair(async (p) => {
    const { c } = p;
    const v: Variant = { version: 3, interval: '100ms', kaInt: 1, ms: 1000 }; // keepalived's 1 s sets the liveness limits
    const agent = c.startAgent(h1, agentArgs(v, ['--role', 'backup', '--priority', '100']));
    p.agent = agent;
    const ka = p.startKa({ version: 3, priority: 150, advertInt: 1 });
    const ok = await c.waitFor(async () => ka.state() === 'MASTER' && (await instanceOf(c, agent))?.master?.address === h2.intAddress
      && (await c.stateOf(agent)) === 'BACKUP' && (await hasVip(h2)) && !(await hasVip(h1)), converge(v), 100);
    t.ok(ok, 'converged: keepalived MASTER, haagent BACKUP', p.logs());
    if (!ok) return;
    // Before the first advert arrives haagent may become master (its own 100 ms timer, as the RFC
    // says; keepalived then preempts it). What matters is what happens after it has heard one.
    const seen = (await instanceOf(c, agent))?.transitions.length ?? 0;
    const bad = await steady(p, 'BACKUP', 'MASTER', h2);
    t.equal(bad, undefined, 'haagent stays BACKUP for 3 s although its own Master_Down_Interval would be ~0.4 s', p.logs());
    const s = await instanceOf(c, agent);
    t.same(s?.drops, {}, 'haagent accepts adverts with a different v3 interval', p.logs());
    t.same(s?.transitions.slice(seen), [], 'no transition once keepalived was heard', p.logs());
  }));
}
