/**
 * HMAC interop with a real keepalived 2.4.2 or later (`auth_hmac`), haagent on h1, keepalived on
 * h2, as test/interop/keepalived.test.ts does it. Debian's keepalived (2.2.7) has no auth_hmac,
 * so this runs only when HAAGENT_KEEPALIVED_HMAC names a 2.4.2+ binary (built from source):
 *
 *   HAAGENT_KEEPALIVED_HMAC=/path/to/keepalived npx tap test/interop/keepalived-hmac.test.ts
 *
 * For VRRPv2 and VRRPv3 over multicast, VRRPv3 over unicast and VRRPv3 over IPv6 (multicast),
 * both enforcing one key:
 *   1. haagent 150 vs keepalived 100: keepalived stays BACKUP (it verifies our signed adverts)
 *      and logs no authentication error;
 *   2. keepalived 150 vs haagent 100: haagent BACKUP, dropping none of keepalived's adverts;
 * and once (VRRPv3 multicast): a wrong key (both drop, both MASTER; keepalived logs an invalid
 * HMAC, haagent counts auth-bad-hmac); rotation (haagent signs with key 2, keepalived holds keys
 * 1 and 2 and signs with 1: both accept); the migration modes mixed (keepalived receive-only
 * sends unsigned: a permissive haagent accepts it, an enforcing one drops it as auth-missing).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { LabTopology, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { ip } from '../../src/lab/sh.js';
import type { InstanceStatus } from '../../src/core/control/types.js';
import { skipReason } from '../helpers/root.js';
import { Keepalived, killAllKeepalived, steadyPair } from '../helpers/keepalived.js';

const K1 = `hex:${'5a'.repeat(32)}`;
const K2 = `hex:${'6b'.repeat(48)}`;
const KX = `hex:${'7c'.repeat(32)}`;

/** Why this cannot run, or undefined: root, the lab, and a keepalived with auth_hmac (2.4.2+). */
function hmacSkip(): string | undefined {
  const base = skipReason({ needsDist: true });
  if (base !== undefined) return base;
  const bin = process.env['HAAGENT_KEEPALIVED_HMAC'];
  if (bin === undefined || bin === '') return 'set HAAGENT_KEEPALIVED_HMAC to a keepalived 2.4.2+ binary (Debian\'s 2.2.7 has no auth_hmac)';
  // keepalived prints its version on stderr.
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  const m = /Keepalived v(\d+)\.(\d+)\.(\d+)/.exec(version);
  const n = m === null ? 0 : Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]);
  return n >= 20402 ? undefined : `${bin} is not keepalived 2.4.2 or later (${version.split('\n')[0] ?? '?'})`;
}

const skip = hmacSkip();
if (skip !== undefined) {
  t.plan(0, `keepalived auth_hmac interop skipped: ${skip}`);
} else {
  const binary = process.env['HAAGENT_KEEPALIVED_HMAC'] ?? 'keepalived';
  const prefix = `hakh${process.pid % 100000}`;
  const topo = new LabTopology(prefix);
  const [h1, h2] = topo.hosts;
  const VIP6_CIDR = 'fd00:77::100/64';
  let vipNow = VIP_CIDR;
  const hasVip = async (host: LabHost): Promise<boolean> => (await topo.extAddresses(host)).includes(vipNow);
  const tmpFiles: string[] = [];
  let seq = 0;

  t.before(async () => { await topo.create(); });
  t.teardown(async () => {
    await killAllKeepalived();
    await topo.destroy();
    for (const f of tmpFiles) rmSync(f, { force: true });
  });

  interface Variant { readonly version: 2 | 3; readonly unicast: boolean; readonly family?: 6 }
  const tag = (v: Variant): string => `VRRPv${v.version} ${v.family === 6 ? 'IPv6 ' : ''}${v.unicast ? 'unicast' : 'multicast'}`;
  const vipOf = (v: Variant): string => (v.family === 6 ? VIP6_CIDR : VIP_CIDR);

  interface Side { readonly keys: Readonly<Record<number, string>>; readonly active: number; readonly mode?: string }
  const ENFORCE: Side = { keys: { 1: K1 }, active: 1 };

  function agentConfig(v: Variant, priority: number, side: Side): string {
    const f = `/tmp/${prefix}-${++seq}.yaml`;
    tmpFiles.push(f);
    const keys = Object.entries(side.keys).map(([id, k]) => `${id}: "${k}"`).join(', ');
    writeFileSync(f, `instances:\n  - name: vi1\n    vrid: 51\n    interface: int0\n    external: ext0\n    vips: ["${vipOf(v)}"]\n`
      + `    priority: ${priority}\n    preempt: true\n    advert-interval: 1s\n    vrrp-version: ${v.version}\n`
      + (v.unicast ? `    peers: [${h2.intAddress}]\n` : '')
      + `    auth: { type: hmac, keys: { ${keys} }, active-key: ${side.active}, mode: ${side.mode ?? 'enforce'} }\n`);
    return f;
  }

  function kaLines(v: Variant, side: Side): string[] {
    return [
      ...(v.unicast ? [`  unicast_src_ip ${h2.intAddress}`, '  unicast_peer {', `    ${h1.intAddress}`, '  }'] : []),
      '  auth_hmac {',
      ...Object.entries(side.keys).map(([id, k]) => `    key ${id} ${k}`),
      `    active_key ${side.active}`,
      `    mode ${side.mode ?? 'enforce'}`,
      '  }',
    ];
  }

  interface Pair { c: LabCluster; agent: RunningAgent; ka: Keepalived; logs(): Record<string, unknown> }

  async function withPair(v: Variant, agentPriority: number, agentSide: Side, kaPriority: number, kaSide: Side, fn: (p: Pair) => Promise<void>): Promise<void> {
    const c = new LabCluster(topo);
    vipNow = vipOf(v);
    const agent = c.startAgent(h1, ['--config', agentConfig(v, agentPriority, agentSide), '--log-level', 'debug']);
    const ka = new Keepalived(h2, `${prefix}-ka${++seq}`, { version: v.version, priority: kaPriority, advertInt: 1, vips: [vipNow], instanceLines: kaLines(v, kaSide), binary });
    const p: Pair = {
      c, agent, ka,
      logs: () => ({ haagent: agent.logs.slice(-15).map((l) => JSON.stringify(l)), keepalived: ka.tail(25) }),
    };
    try {
      await fn(p);
    } finally {
      await killAllKeepalived();
      await c.stopAll();
      for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', vipNow, 'dev', 'ext0').catch(() => undefined);
    }
  }

  const instanceOf = async (c: LabCluster, a: RunningAgent): Promise<InstanceStatus | undefined> => (await c.status(a)).instances[0];
  const AUTH_ERROR = /authentication|auth_hmac|HMAC/i;

  /** The expected states hold and exactly `holder` has the VIP for `ms`; the first violation, or undefined. */
  const steady = (p: Pair, agentState: string, kaState: string, holder: LabHost, ms?: number): Promise<string | undefined> =>
    steadyPair({ agentState: () => p.c.stateOf(p.agent), keepalivedState: () => p.ka.state(), hasVip }, [h1, h2], agentState, kaState, holder, ms);

  const converge = 20_000;
  for (const v of [{ version: 2, unicast: false }, { version: 3, unicast: false }, { version: 3, unicast: true }, { version: 3, unicast: false, family: 6 }] as const) {
    t.test(`${tag(v)}: haagent 150 signs, keepalived 100 verifies and stays BACKUP`, (t) => withPair(v, 150, ENFORCE, 100, ENFORCE, async (p) => {
      t.ok(await p.c.waitFor(async () => (await p.c.stateOf(p.agent)) === 'MASTER' && p.ka.state() === 'BACKUP' && (await hasVip(h1)), converge, 100), 'converged', p.logs());
      t.equal(await steady(p, 'MASTER', 'BACKUP', h1), undefined, 'steady: keepalived accepts our signed adverts', p.logs());
      t.notOk(p.ka.logged(AUTH_ERROR), 'keepalived logged no authentication problem', p.logs());
      t.same((await instanceOf(p.c, p.agent))?.drops, {}, 'haagent dropped nothing');
    }));

    t.test(`${tag(v)}: keepalived 150 signs, haagent 100 verifies and stays BACKUP`, (t) => withPair(v, 100, ENFORCE, 150, ENFORCE, async (p) => {
      t.ok(await p.c.waitFor(async () => p.ka.state() === 'MASTER' && (await p.c.stateOf(p.agent)) === 'BACKUP' && (await hasVip(h2)), converge, 100), 'converged', p.logs());
      t.equal(await steady(p, 'BACKUP', 'MASTER', h2), undefined, 'steady: haagent accepts keepalived\'s signed adverts', p.logs());
      const s = await instanceOf(p.c, p.agent);
      t.ok((s?.advertsReceived ?? 0) > 2, 'haagent counts keepalived\'s adverts');
      t.same(s?.drops, {}, 'haagent dropped none of them', p.logs());
    }));
  }

  const v3: Variant = { version: 3, unicast: false };
  t.test('wrong key: both drop the other\'s adverts, both MASTER', (t) => withPair(v3, 150, ENFORCE, 100, { keys: { 1: KX }, active: 1 }, async (p) => {
    t.ok(await p.c.waitFor(async () => (await p.c.stateOf(p.agent)) === 'MASTER' && p.ka.state() === 'MASTER', converge, 100), 'both MASTER', p.logs());
    t.ok(await p.c.waitFor(async () => ((await instanceOf(p.c, p.agent))?.drops['auth-bad-hmac'] ?? 0) > 0, 5000), 'haagent counts auth-bad-hmac');
    t.ok(await p.c.waitFor(() => p.ka.logged(/invalid authentication HMAC/), 5000), 'keepalived logs an invalid HMAC', p.logs());
  }));

  t.test('rotation: haagent signs with key 2, keepalived holds 1 and 2 and signs with 1', (t) => withPair(v3, 150, { keys: { 1: K1, 2: K2 }, active: 2 }, 100, { keys: { 1: K1, 2: K2 }, active: 1 }, async (p) => {
    t.ok(await p.c.waitFor(async () => (await p.c.stateOf(p.agent)) === 'MASTER' && p.ka.state() === 'BACKUP', converge, 100), 'converged', p.logs());
    t.equal(await steady(p, 'MASTER', 'BACKUP', h1), undefined, 'keepalived accepts key 2', p.logs());
    t.notOk(p.ka.logged(AUTH_ERROR), 'no authentication problem logged', p.logs());
  }));

  t.test('mixed modes: keepalived receive-only (unsigned) vs haagent permissive, then enforce', async (t) => {
    await t.test('haagent permissive accepts keepalived\'s unsigned adverts', (t) => withPair(v3, 100, { ...ENFORCE, mode: 'permissive' }, 150, { ...ENFORCE, mode: 'receive-only' }, async (p) => {
      t.ok(await p.c.waitFor(async () => p.ka.state() === 'MASTER' && (await p.c.stateOf(p.agent)) === 'BACKUP', converge, 100), 'converged', p.logs());
      t.equal(await steady(p, 'BACKUP', 'MASTER', h2), undefined, 'steady', p.logs());
      t.same((await instanceOf(p.c, p.agent))?.drops, {}, 'nothing dropped');
    }));
    await t.test('haagent enforce drops them as auth-missing and takes over', (t) => withPair(v3, 100, ENFORCE, 150, { ...ENFORCE, mode: 'receive-only' }, async (p) => {
      t.ok(await p.c.waitFor(async () => ((await instanceOf(p.c, p.agent))?.drops['auth-missing'] ?? 0) > 0 && (await p.c.stateOf(p.agent)) === 'MASTER', converge, 100), 'auth-missing, haagent MASTER', p.logs());
    }));
  });
}
