/**
 * Attacks on the peer hellos, against the real agent on two hosts in namespaces (the lab
 * topology: h1 and h2 with VRRP on int0 and a hello path over ext0, the client namespace on the
 * ext0 network as the attacker):
 * - forged hellos (a MASTER one too) from a non-peer address on the same subnet: dropped and
 *   counted as hello-unknown-source, even with the right key; the master is not demoted. Sent
 *   with TTL 64 they do not even reach the agent (GTSM: the kernel drops them, nothing counted);
 * - replay: genuine MASTER hellos captured (tcpdump) and replayed from the master's address after
 *   the master is killed: the backup takes over within Master_Down_Interval plus a margin, and
 *   the replays are counted as hello-replay;
 * - flood: 10,000 hellos with random node names from a non-peer, 10,000 with bad MACs from the
 *   peer's address, and 10,000 correctly keyed ones with random node names from the peer's
 *   address: the backup's RSS stays within a generous bound, its peer table at the cap, VRRP
 *   adverts keep arriving and it stays BACKUP.
 * Time bounds are liveness limits, not speed claims.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import type { RunningAgent } from '../../src/lab/cluster.js';
import type { LabCluster } from '../../src/lab/cluster.js';
import { CLIENT_ADDRESS, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { encodeHello, type Hello } from '../../src/core/peer/hello.js';
import { DEFAULT_PEER_PORT } from '../../src/core/config/types.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';
import { JsonLineChild, moduleScript, runTsChild } from '../helpers/netns.js';

const KEY = 'hello-attacks-secret';
const PORT = DEFAULT_PEER_PORT;
const INTERVAL_MS = 100;
/** Backup (priority 100), VRRPv3: 3 x interval + Skew_Time. */
const MASTER_DOWN_MS = 3 * INTERVAL_MS + ((256 - 100) * INTERVAL_MS) / 256;
/** RSS growth allowed by the flood (it was +86 MB before the peer table was bounded). */
const RSS_BOUND_KB = 40 * 1024;

/**
 * Sends datagrams given on stdin ({ bind, target, port, ttl, batch, everyMs, loopForMs?,
 * payloads: base64[] }) from `bind` (port 0) with the TTL given; `batch` datagrams every
 * `everyMs`; once through the list, or again and again for `loopForMs`. Prints { sent }.
 */
const SENDER = `
  import { createSocket } from 'node:dgram';
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (c) => { input += c; }).on('end', () => {
    const cfg = JSON.parse(input);
    const payloads = cfg.payloads.map((b) => Buffer.from(b, 'base64'));
    const sock = createSocket(cfg.target.includes(':') ? 'udp6' : 'udp4');
    sock.bind(0, cfg.bind, async () => {
      sock.setTTL(cfg.ttl);
      const until = Date.now() + (cfg.loopForMs ?? 0);
      let sent = 0;
      let i = 0;
      for (;;) {
        for (let k = 0; k < cfg.batch; k++) {
          await new Promise((r) => sock.send(payloads[i % payloads.length], cfg.port, cfg.target, () => r()));
          sent++;
          i++;
          if (i >= payloads.length && Date.now() >= until) break;
        }
        if (i >= payloads.length && Date.now() >= until) break;
        await new Promise((r) => setTimeout(r, cfg.everyMs));
      }
      process.stdout.write(JSON.stringify({ sent }) + '\\n');
      sock.close();
    });
  });
`;

interface SendPlan {
  readonly bind: string;
  readonly target: string;
  readonly ttl: number;
  readonly batch: number;
  readonly everyMs: number;
  readonly loopForMs?: number;
  readonly payloads: readonly Uint8Array[];
}

/** Runs SENDER in `ns`; resolves with the number of datagrams sent. */
async function send(ns: string, plan: SendPlan): Promise<number> {
  const proc = runTsChild(ns, moduleScript(SENDER));
  const child = new JsonLineChild<{ sent?: number }>(proc, `sender in ${ns}`);
  const payloads = plan.payloads.map((p) => Buffer.from(p).toString('base64'));
  proc.stdin.end(JSON.stringify({ ...plan, port: PORT, payloads }));
  const line = await child.waitFor((l) => l.sent !== undefined, 120_000);
  await child.exited;
  return line.sent ?? 0;
}

const boot = (): string => randomBytes(8).toString('hex');

function hello(over: Partial<Hello>): Hello {
  return {
    v: 2, instance: 'web', vrid: 51, node: 'intruder', state: 'MASTER', priority: 255, vrrpAddress: CLIENT_ADDRESS,
    advertIntervalCs: INTERVAL_MS / 10, epoch: 0, fingerprint: '0123456789abcdef', boot: boot(), bootMs: Date.now(), seq: 1, ...over,
  };
}

/** The UDP payloads of an Ethernet/IPv4 pcap file (what tcpdump -w writes). */
function udpPayloads(pcap: Buffer): Uint8Array[] {
  const magic = pcap.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (at: number): number => (le ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const out: Uint8Array[] = [];
  for (let at = 24; at + 16 <= pcap.length;) {
    const caplen = u32(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const ihl = ((frame[14] ?? 0) & 0x0f) * 4;
    if (frame[14 + 9] !== 17) continue;
    out.push(Uint8Array.from(frame.subarray(14 + ihl + 8)));
  }
  return out;
}

/** User + system CPU time of `pid` so far, in ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function vmRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `hello attack tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, hasVip, withCluster } = labSuite(t, 'haha');

  function config(c: LabCluster, host: LabHost, priority: number): string {
    const peer = host === h1 ? h2 : h1;
    const file = `/tmp/${topo.prefix}-${host.name}-hello.yaml`;
    writeFileSync(file, `socket: ${c.socketPath(host)}
peer-key: ${KEY}
instances:
  - name: web
    vrid: 51
    interface: int0
    external: ext0
    vips: [${VIP_CIDR}]
    advert-interval: ${INTERVAL_MS}ms
    priority: ${priority}
    preempt: true
    paths:
      - { interface: ext0, peer: ${peer.extAddress} }
`);
    t.teardown(() => rmSync(file, { force: true }));
    return file;
  }

  async function pair(t: Test, c: LabCluster): Promise<{ a: RunningAgent; b: RunningAgent }> {
    const a = c.startAgent(h1, ['--config', config(c, h1, 150)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', config(c, h2, 100)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP' && ((await c.status(b)).instances[0]?.peers?.length ?? 0) > 0, 10_000),
      'h2 BACKUP and hearing h1 over the hello path', { logs: logsOf(b) });
    return { a, b };
  }

  const drops = async (c: LabCluster, agent: RunningAgent, reason: string): Promise<number> => (await c.status(agent)).helloDrops?.[reason] ?? 0;

  t.test('forged hellos from a non-peer address on the same subnet are dropped, counted, and do not demote the master', (t) => withCluster(async (c) => {
    const { a } = await pair(t, c);
    const forged = (n: number, key: string | undefined): Uint8Array[] =>
      Array.from({ length: n }, (_, i) => encodeHello(hello({ node: `intruder@${CLIENT_ADDRESS}`, seq: i + 1 }), key));
    const target = { bind: CLIENT_ADDRESS, target: h1.extAddress, batch: 10, everyMs: 10 };

    // TTL 64 (anything routed, or a careless sender): dropped by the kernel, never counted.
    const low = await send(topo.client, { ...target, ttl: 64, payloads: forged(100, KEY) });
    await new Promise((r) => setTimeout(r, 300));
    t.equal(await drops(c, a, 'hello-unknown-source'), 0, `${low} hellos with TTL 64 never reached the agent (GTSM)`);

    // TTL 255, a MASTER with priority 255, signed with the right key and unsigned: source refused.
    const keyed = await send(topo.client, { ...target, ttl: 255, payloads: forged(100, KEY) });
    const plain = await send(topo.client, { ...target, ttl: 255, payloads: forged(100, undefined) });
    t.ok(await c.waitFor(async () => (await drops(c, a, 'hello-unknown-source')) >= 0.9 * (keyed + plain), 3000), 'counted as hello-unknown-source',
      { helloDrops: (await c.status(a)).helloDrops });
    const st = await c.status(a);
    t.equal(st.instances[0]?.state, 'MASTER', 'h1 still MASTER');
    t.ok(await hasVip(h1), 'h1 still holds the VIP');
    t.notOk((st.instances[0]?.peers ?? []).some((p) => p.node.startsWith('intruder')), 'the intruder is not in the peer table');
    t.equal((st.instances[0]?.transitions ?? []).filter((x) => x.from === 'MASTER').length, 0, 'no transition out of MASTER');
    t.equal(st.helloDrops?.['hello-bad-mac'] ?? 0, 0, 'dropped on the source, before the MAC was even checked');
    t.comment(`h1 helloDrops: ${JSON.stringify(st.helloDrops)}`);
  }));

  t.test('genuine MASTER hellos replayed after the master is killed do not keep the backup from taking over', (t) => withCluster(async (c) => {
    const { a, b } = await pair(t, c);
    // Capture 30 genuine hellos from h1 to h2 (about 3 s of them) on h2's ext0.
    const pcap = `/tmp/${topo.prefix}-hellos.pcap`;
    t.teardown(() => rmSync(pcap, { force: true }));
    await new Promise<void>((resolve, reject) => {
      const dump = spawn('ip', ['netns', 'exec', h2.ns, 'tcpdump', '-i', 'ext0', '-U', '-w', pcap, '-c', '30',
        `udp and dst port ${PORT} and src host ${h1.extAddress}`], { stdio: 'ignore' });
      const timer = setTimeout(() => { dump.kill(); reject(new Error('tcpdump captured no 30 hellos in 15 s')); }, 15_000);
      dump.once('exit', () => { clearTimeout(timer); resolve(); });
    });
    const captured = udpPayloads(readFileSync(pcap));
    t.ok(captured.length >= 20, `${captured.length} hellos captured`);
    t.ok(captured.every((p) => new TextDecoder().decode(p).includes('"state":"MASTER"')), 'all of them from h1 as MASTER');

    // Kill the master, then replay the capture from its address (TTL 255, as a same-link
    // attacker can) every 10 ms for 4 s.
    const killedAt = performance.now();
    a.child.kill('SIGKILL');
    const replay = send(h1.ns, { bind: h1.extAddress, target: h2.extAddress, ttl: 255, batch: 1, everyMs: 10, loopForMs: 4000, payloads: captured });
    const bound = MASTER_DOWN_MS + 1500;
    const tookOver = await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', bound, 20);
    const tookMs = Math.round(performance.now() - killedAt);
    t.ok(tookOver, `h2 took over while the replay ran (${tookMs} ms after the kill; bound ${Math.round(bound)} ms)`, { logs: logsOf(b) });
    const sent = await replay;
    const st = await c.status(b);
    t.equal(st.instances[0]?.state, 'MASTER', `still MASTER after ${sent} replayed hellos`);
    t.ok((st.helloDrops?.['hello-replay'] ?? 0) >= 0.9 * sent, 'the replays were counted as hello-replay', { helloDrops: st.helloDrops, sent });
    t.comment(`takeover ${tookMs} ms after the kill with the replay running; h2 helloDrops: ${JSON.stringify(st.helloDrops)}`);
  }));

  t.test('a hello flood leaves the backup\'s memory bounded and VRRP flowing', (t) => withCluster(async (c) => {
    const { b } = await pair(t, c);
    const pid = b.child.pid ?? 0;
    await new Promise((r) => setTimeout(r, 1000)); // settle after start
    const rssBefore = vmRssKb(pid);
    const cpuBefore = cpuMs(pid);
    const floodStart = performance.now();
    const rxBefore = (await c.status(b)).instances[0]?.advertsReceived ?? 0;
    const transitionsBefore = (await c.status(b)).instances[0]?.transitionsTotal ?? -1;
    const states = new Set<string>();
    const flood = { running: true };
    const watching = (async () => {
      while (flood.running) {
        // A status request that times out on a loaded machine is no state: only answers count.
        const state = await c.stateOf(b).catch(() => undefined);
        if (state !== undefined) states.add(state);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const N = 10_000;
    const randomNodes = (key: string | undefined, mac?: 'bad'): Uint8Array[] => Array.from({ length: N }, (_, i) => {
      const h = hello({ node: `n-${randomBytes(12).toString('hex')}`, state: 'BACKUP', priority: 1, vrrpAddress: h1.extAddress, seq: i + 1 });
      const wire = encodeHello(h, key);
      if (mac === 'bad') wire.set(new TextEncoder().encode('0'.repeat(64)), wire.length - 64);
      return wire;
    });
    const pace = { ttl: 255, batch: 50, everyMs: 5 };
    const fromClient = await send(topo.client, { ...pace, bind: CLIENT_ADDRESS, target: h2.extAddress, payloads: randomNodes(KEY) });
    const badMac = await send(h1.ns, { ...pace, bind: h1.extAddress, target: h2.extAddress, payloads: randomNodes(KEY, 'bad') });
    const keyed = await send(h1.ns, { ...pace, bind: h1.extAddress, target: h2.extAddress, payloads: randomNodes(KEY) });
    const floodMs = Math.round(performance.now() - floodStart);
    const floodCpuMs = cpuMs(pid) - cpuBefore;
    // Right after the keyed flood, before its nodes expire (20 intervals of silence).
    const peersAtCap = (await c.status(b)).instances[0]?.peers?.length ?? 0;
    await new Promise((r) => setTimeout(r, 1000));
    flood.running = false;
    await watching;
    const rssAfter = vmRssKb(pid);
    const st = await c.status(b);
    const inst = st.instances[0];
    t.comment(`sent ${fromClient} from a non-peer, ${badMac} with bad MACs and ${keyed} keyed with random node names from the peer address; `
      + `in ${floodMs} ms, agent CPU ${floodCpuMs} ms (${Math.round((100 * floodCpuMs) / floodMs)}% of a core); VmRSS ${rssBefore} kB -> ${rssAfter} kB (+${rssAfter - rssBefore} kB); helloDrops ${JSON.stringify(st.helloDrops)}; peers ${peersAtCap} right after the keyed flood, ${inst?.peers?.length} 1 s later`);
    t.ok(rssAfter - rssBefore < RSS_BOUND_KB, `RSS grew by ${rssAfter - rssBefore} kB, less than ${RSS_BOUND_KB} kB`);
    t.same([...states], ['BACKUP'], 'h2 was BACKUP whenever asked during the flood');
    t.equal(inst?.transitionsTotal, transitionsBefore, 'and made no transition at all');
    t.equal(inst?.state, 'BACKUP');
    t.ok((inst?.advertsReceived ?? 0) > rxBefore, `VRRP adverts kept arriving (${rxBefore} -> ${inst?.advertsReceived})`);
    t.ok(peersAtCap > 1 && peersAtCap <= 16, `the peer table filled up to its cap of 16 and no further (${peersAtCap} nodes)`);
    t.ok((st.helloDrops?.['hello-unknown-source'] ?? 0) > 0 && (st.helloDrops?.['hello-bad-mac'] ?? 0) > 0 && (st.helloDrops?.['hello-table-full'] ?? 0) > 0,
      'each flood counted under its own reason');
  }));
}
