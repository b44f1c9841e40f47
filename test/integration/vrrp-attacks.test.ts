/**
 * Forged VRRP adverts from a third host on the heartbeat segment, against the real agent in the
 * lab topology (two hosts, VRRPv3 at 100 ms). The attacker is one more namespace plugged into
 * the internal bridge (10.66.0.66), running a child that sends whatever advert the test encodes
 * through our RawVrrpSocket adapter (kernel-built IPv4 header, TTL 255: a valid-looking packet).
 *
 * 1. Unicast peers: adverts from a non-peer source are dropped and counted 'unknown-source'; a
 *    priority-255 forgery changes nothing. The same over IPv6, where the peers are link-local
 *    addresses (the attacker forges from its own link-local address).
 * 2. Multicast (no peers), the forged long interval: the master is killed and ONE forged advert
 *    (priority above the backup's, interval 40.95 s) reaches the backup before its
 *    Master_Down_Timer fires. Adopted literally, that holds the takeover back by
 *    3 x 40.95 s + Skew_Time (about 148 s); clamped to max-advert-interval it is bounded by
 *    3 x max + Skew_Time. A control run configured with max-advert-interval: 40.95s (the literal
 *    RFC behaviour) shows the backup still waiting, so the bound is what makes the difference.
 * 3. Multicast, a forged priority-255 advert with a 40.95 s interval and no crash: without
 *    authentication it legitimately demotes the master (the documented residual risk), but the
 *    VIP has a holder again within 3 x max + Skew_Time, not minutes later.
 * Time bounds are generous liveness limits; the measured times are printed as comments.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { LabCluster, RunningAgent } from '../../src/lab/cluster.js';
import type { LabHost } from '../../src/lab/topology.js';
import { VIP, VIP_CIDR } from '../../src/lab/topology.js';
import { encodeAdvertisement } from '../../src/core/packet/encode.js';
import { defaultMaxAdvertIntervalCs } from '../../src/core/fsm/adopted-interval.js';
import { masterDownIntervalMs } from '../../src/core/fsm/timers.js';
import { createNamespaces, ip, JsonLineChild, linkLocal, moduleScript, runTsChild } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

const ATTACKER = '10.66.0.66';
const VRID = 51;
const INTERVAL_CS = 10; // 100 ms
const FORGED_INTERVAL_CS = 4095; // 40.95 s, the largest the 12-bit field holds
const H1_PRIORITY = 200;
const H2_PRIORITY = 100;

const adapterUrl = new URL('../../src/adapters/vrrp-socket.ts', import.meta.url).href;
const adapter6Url = new URL('../../src/adapters/vrrp6-socket.ts', import.meta.url).href;
const VIP6_CIDR = 'fd00:77::100/64';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Line = { ready?: boolean; id?: number; ok?: boolean; error?: string };

/** `{ id, family, hex, dst }` lines in, `{ id, ok }` lines out: one forged advert each. */

class Attacker extends JsonLineChild<Line> {
  #nextId = 1;

  constructor(child: ConstructorParameters<typeof JsonLineChild<Line>>[0], readonly linkLocal: string) {
    super(child, 'attacker');
  }

  static async start(ns: string): Promise<Attacker> {
    const script = `
      import { createInterface } from 'node:readline';
      const [url4, url6, ifname, ifindex, ll] = process.argv.slice(1);
      const { RawVrrpSocket } = await import(url4);
      const { Vrrp6Socket } = await import(url6);
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      const onError = (err) => out({ error: String(err) });
      const socks = { 4: RawVrrpSocket.open(ifname, Number(ifindex), () => {}, onError), 6: Vrrp6Socket.open(ifname, ll, () => {}, onError) };
      out({ ready: true });
      const rl = createInterface({ input: process.stdin });
      rl.on('line', (line) => {
        const c = JSON.parse(line);
        socks[c.family].send(Buffer.from(c.hex, 'hex'), c.dst).then(() => out({ id: c.id, ok: true }), (e) => out({ id: c.id, ok: false, error: String(e) }));
      });
      rl.on('close', () => { socks[4].close(); socks[6].close(); process.exit(0); });
    `;
    const links = JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'dev', 'eth0')) as { ifindex: number }[];
    const ll = await linkLocal(ns, 'eth0');
    const child = new Attacker(runTsChild(ns, moduleScript(script, adapterUrl, adapter6Url, 'eth0', String(links[0]?.ifindex ?? 0), ll)), ll);
    await child.firstLine((l) => l.ready === true, 'attacker');
    return child;
  }

  /** Sends one forged v3 advert for `vip` (default the lab VIP) to `dst` and waits until it has left. */
  async forge(dst: string, priority: number, intervalCs: number, vip = VIP): Promise<void> {
    const family = dst.includes(':') ? 6 : 4;
    const msg = encodeAdvertisement(
      { version: 3, family, vrid: VRID, priority, maxAdvertIntervalCs: intervalCs, addresses: [vip] },
      { src: family === 4 ? ATTACKER : this.linkLocal, dst },
    );
    const id = this.#nextId++;
    this.command({ id, family, hex: Buffer.from(msg).toString('hex'), dst });
    const ack = await this.waitFor((l) => l.id === id, 5000);
    if (ack.ok !== true) throw new Error(`forged advert not sent: ${ack.error ?? '?'}`);
  }
}

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `VRRP attack tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, withCluster } = labSuite(t, 'havatk');
  const attackerNs = `${topo.prefix}-at`;
  const dir = mkdtempSync(join(tmpdir(), 'haagent-vrrp-attacks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let attacker: Attacker | undefined;

  t.before(async () => {
    // After the lab exists (labSuite's before ran first): a third host on the internal bridge.
    createNamespaces(t, [attackerNs], { loopbackUp: true });
    ip('link', 'add', 'atk', 'netns', topo.sw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', attackerNs);
    ip('-n', topo.sw, 'link', 'set', 'atk', 'master', 'brint');
    ip('-n', topo.sw, 'link', 'set', 'atk', 'up');
    ip('-n', attackerNs, 'addr', 'add', `${ATTACKER}/24`, 'dev', 'eth0');
    ip('-n', attackerNs, 'link', 'set', 'eth0', 'up');
    attacker = await Attacker.start(attackerNs);
  });
  t.teardown(async () => { await attacker?.stop(); });

  const forger = (): Attacker => {
    if (attacker === undefined) throw new Error('attacker not started');
    return attacker;
  };

  interface PairOptions {
    /** Unicast peers: each host lists the other's address (IPv4) or link-local address (IPv6). */
    readonly peers?: boolean;
    readonly maxAdvertInterval?: string;
    readonly family?: 4 | 6;
  }

  /** Writes `host`'s config: one v3 instance at 100 ms, priority, optional peers and bound. */
  function config(host: LabHost, extra: { vip: string; peers?: readonly string[]; maxAdvertInterval?: string }): string {
    const priority = host === h1 ? H1_PRIORITY : H2_PRIORITY;
    const keys = [
      `name: vrid${VRID}`, `vrid: ${VRID}`, 'interface: int0', 'external: ext0', `vips: ["${extra.vip}"]`,
      'advert-interval: 100ms', `priority: ${priority}`, 'preempt: true',
      ...(extra.peers === undefined ? [] : [`peers: [${extra.peers.map((p) => `"${p}"`).join(', ')}]`]),
      ...(extra.maxAdvertInterval === undefined ? [] : [`max-advert-interval: ${extra.maxAdvertInterval}`]),
    ];
    const file = join(dir, `${host.name}-${Math.random().toString(16).slice(2)}.yaml`);
    writeFileSync(file, `instances:\n  - {${keys.join(', ')}}\n`);
    return file;
  }

  /** Starts h1 (priority 200) and h2 (priority 100); resolves once h2 is BACKUP hearing h1. */
  async function pair(t: Test, c: LabCluster, extra: PairOptions = {}): Promise<[RunningAgent, RunningAgent, string]> {
    const family = extra.family ?? 4;
    const addressOf = async (h: LabHost): Promise<string> => (family === 4 ? h.intAddress : linkLocal(h.ns, 'int0'));
    const [h1Address, h2Address] = [await addressOf(h1), await addressOf(h2)];
    const opts = (peer: string): { vip: string; peers?: readonly string[]; maxAdvertInterval?: string } => ({
      vip: family === 4 ? VIP_CIDR : VIP6_CIDR,
      ...(extra.peers === true ? { peers: [peer] } : {}),
      ...(extra.maxAdvertInterval === undefined ? {} : { maxAdvertInterval: extra.maxAdvertInterval }),
    });
    const a = c.startAgent(h1, ['--config', config(h1, opts(h2Address)), '--log-level', 'debug']);
    const b = c.startAgent(h2, ['--config', config(h2, opts(h1Address)), '--log-level', 'debug']);
    const converged = await c.waitFor(async () => {
      const sb = await c.status(b);
      return (await c.stateOf(a)) === 'MASTER' && sb.instances[0]?.state === 'BACKUP' && sb.instances[0].master?.address === h1Address;
    }, 15_000);
    t.ok(converged, `h1 MASTER, h2 BACKUP hearing h1 (${h1Address})`, { logs: [logsOf(a), logsOf(b)] });
    return [a, b, h1Address];
  }

  /** ms until `agent` reports MASTER (polled every 20 ms), or undefined after `boundMs`. */
  async function msUntilMaster(c: LabCluster, agent: RunningAgent, startMs: number, boundMs: number): Promise<number | undefined> {
    const ok = await c.waitFor(async () => (await c.stateOf(agent)) === 'MASTER', boundMs, 20);
    return ok ? performance.now() - startMs : undefined;
  }

  t.test('unicast peers: a forged priority-255 advert from a non-peer is dropped as unknown-source', (t) => withCluster(async (c) => {
    const [a, b] = await pair(t, c, { peers: true });
    const before = await Promise.all([c.status(a), c.status(b)]);
    const sends = 10;
    for (let i = 0; i < sends; i++) {
      for (const dst of [h1.intAddress, h2.intAddress, '224.0.0.18']) await forger().forge(dst, 255, INTERVAL_CS);
      await sleep(30);
    }
    await sleep(300); // longer than the Master_Down_Interval a demoted master would wait
    const [sa, sb] = await Promise.all([c.status(a), c.status(b)]);
    t.equal(sa.instances[0]?.state, 'MASTER', 'h1 is still MASTER', { logs: logsOf(a) });
    t.equal(sb.instances[0]?.state, 'BACKUP', 'h2 is still BACKUP');
    t.equal(sa.instances[0]?.transitionsTotal, before[0].instances[0]?.transitionsTotal, 'no transition on h1');
    t.equal(sb.instances[0]?.transitionsTotal, before[1].instances[0]?.transitionsTotal, 'no transition on h2');
    t.match(sb.instances[0]?.master, { address: h1.intAddress }, 'h2 still follows h1, not the attacker');
    for (const [name, s] of [['h1', sa], ['h2', sb]] as const) {
      const dropped = s.instances[0]?.drops['unknown-source'] ?? 0;
      // Each host gets the unicast copy addressed to it and the multicast one.
      t.ok(dropped >= 2 * sends, `${name} counted ${dropped} unknown-source drops (>= ${2 * sends})`, { drops: s.instances[0]?.drops });
    }
    t.ok((sb.instances[0]?.advertsReceived ?? 0) > (before[1].instances[0]?.advertsReceived ?? 0), 'h2 still accepts its peer\'s adverts');
  }));

  t.test('IPv6 unicast peers (link-local): the peer is heard, a forgery from another link-local address is not', (t) => withCluster(async (c) => {
    t.teardown(() => {
      for (const h of [h1, h2]) {
        try { ip('-n', h.ns, 'addr', 'del', VIP6_CIDR, 'dev', 'ext0'); } catch { /* not there: released as it should be */ }
      }
    });
    const [a, b, h1Address] = await pair(t, c, { peers: true, family: 6 });
    const before = await Promise.all([c.status(a), c.status(b)]);
    t.same(before[1].instances[0]?.drops, {}, 'none of the peer\'s adverts dropped (source = its link-local address, as configured)');
    const h2Address = await linkLocal(h2.ns, 'int0');
    for (let i = 0; i < 10; i++) {
      for (const dst of [h1Address, h2Address, 'ff02::12']) await forger().forge(dst, 255, INTERVAL_CS, VIP6_CIDR.split('/')[0]);
      await sleep(30);
    }
    await sleep(300);
    const [sa, sb] = await Promise.all([c.status(a), c.status(b)]);
    t.equal(sa.instances[0]?.state, 'MASTER', 'h1 is still MASTER', { logs: logsOf(a) });
    t.equal(sb.instances[0]?.transitionsTotal, before[1].instances[0]?.transitionsTotal, 'no transition on h2');
    t.match(sb.instances[0]?.master, { address: h1Address }, 'h2 still follows h1, not the attacker');
    for (const [name, s] of [['h1', sa], ['h2', sb]] as const) {
      const dropped = s.instances[0]?.drops['unknown-source'] ?? 0;
      t.ok(dropped >= 20, `${name} counted ${dropped} unknown-source drops (>= 20)`, { drops: s.instances[0]?.drops });
    }
  }));

  // The bound with the default max-advert-interval for 100 ms adverts (1 s).
  const maxCs = defaultMaxAdvertIntervalCs(3, INTERVAL_CS);
  const boundedMs = masterDownIntervalMs(H2_PRIORITY, maxCs, 3);
  const literalMs = masterDownIntervalMs(H2_PRIORITY, FORGED_INTERVAL_CS, 3);

  t.test('forged 40.95 s interval, then the master dies: the backup takes over within 3 x max + Skew_Time', (t) => withCluster(async (c) => {
    const [a, b] = await pair(t, c);
    a.child.kill('SIGKILL');
    await a.exited;
    const start = performance.now();
    await forger().forge('224.0.0.18', 150, FORGED_INTERVAL_CS);
    // Generous: the bound plus 3 s for process and polling latency; far below the literal 148 s.
    const took = await msUntilMaster(c, b, start, boundedMs + 3000);
    t.comment(`takeover ${took === undefined ? 'did not happen' : `${Math.round(took)} ms`} after the forged advert; bounded Master_Down_Interval ${boundedMs} ms, literal adoption ${literalMs} ms`);
    t.not(took, undefined, `h2 took over within ${boundedMs + 3000} ms`, { logs: logsOf(b, 30) });
    t.ok(b.logs.some((l) => typeof l['msg'] === 'string' && l['msg'].includes('above max-advert-interval') && l['from'] === ATTACKER),
      'the forged advert was received (and clamped), not ignored');
  }));

  t.test('control: with max-advert-interval 40.95s (literal adoption) the same attack holds the backup back', (t) => withCluster(async (c) => {
    const [a, b] = await pair(t, c, { maxAdvertInterval: '40.95s' });
    a.child.kill('SIGKILL');
    await a.exited;
    const start = performance.now();
    await forger().forge('224.0.0.18', 150, FORGED_INTERVAL_CS);
    const took = await msUntilMaster(c, b, start, boundedMs + 3000);
    t.equal(took, undefined, `h2 is still BACKUP ${boundedMs + 3000} ms after the forged advert (it would wait ${literalMs} ms)`);
    t.match((await c.status(b)).instances[0]?.master, { address: ATTACKER }, 'following the forged master');
  }));

  t.test('forged priority 255 with a 40.95 s interval demotes the master, but only for 3 x max + Skew_Time', (t) => withCluster(async (c) => {
    const [a, b] = await pair(t, c);
    const start = performance.now();
    await forger().forge('224.0.0.18', 255, FORGED_INTERVAL_CS);
    const demoted = await c.waitFor(async () => (await c.stateOf(a)) === 'BACKUP', 2000, 10);
    t.ok(demoted, 'without authentication a priority-255 advert demotes the master (residual risk)', { logs: logsOf(a) });
    const h1Bound = masterDownIntervalMs(H1_PRIORITY, maxCs, 3);
    const took = await msUntilMaster(c, a, start, h1Bound + 3000);
    t.comment(`h1 MASTER again ${took === undefined ? 'never' : `${Math.round(took)} ms`} after the forged advert; bounded ${h1Bound} ms, literal ${masterDownIntervalMs(H1_PRIORITY, FORGED_INTERVAL_CS, 3)} ms`);
    t.not(took, undefined, `h1 is MASTER again within ${h1Bound + 3000} ms`, { logs: [logsOf(a), logsOf(b)] });
    t.ok(await c.waitFor(async () => (await topo.extAddresses(h1)).includes(VIP_CIDR), 3000), 'and holds the VIP');
    t.equal(await c.stateOf(b), 'BACKUP', 'h2 stayed BACKUP');
  }));
}
