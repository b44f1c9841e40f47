/**
 * Bench part (`npm run bench -- --fence`): the self-fence against no fence, at 100 ms adverts,
 * in its own lab (namespaces `habfence-*`). The fenced mode (`self-fence: auto`) runs with
 * `self-fence-backup-priority: 100` (true here: the backup has priority 100), so its fence
 * expires 20 ms before that backup's Master_Down_Interval (340 ms), not before the fastest
 * possible backup's (280 ms); `--fence-backup-priority auto` measures the latter, and with
 * `--fence-paths` the agents also hello over ext0, so `auto` learns the backup's priority from
 * them (each run waits until the master has). The timeout each run used is read from the
 * master's status. For each mode
 * (fenced and `self-fence: off`) and
 * fault (kill -9, SIGSTOP of the master; links stay up, so the dead master's kernel still
 * answers unless fenced), N runs:
 *   - ARP as the client sees it (broadcast who-has VIP every 20 ms, replies captured by tcpdump
 *     in the client namespace, see test/chaos/arp-watch.ts): ms during which the old master
 *     still answered after the backup had (dual), request periods answered by both MACs, the
 *     gap with nobody answering (dark), and when the backup first answered (ARP takeover);
 *   - the client-visible HTTP outage (probe every 10 ms, 30 ms timeout): the fence must not
 *     make it longer.
 * Then the CPU cost of the kernel-side refresh and of the drop rules on the fenced NIC:
 * sender CPU time (user+sys, a Python loop of sendto) per packet with and without the fence
 * table, for VRRP adverts (each one an element update) and for UDP from the VIP (each one two
 * set lookups), alternated over rounds, medians.
 * The HTTP figures need reading with care: only the agent is killed or frozen, the old master's
 * web server stays up, so without the fence the client is still served by the old node through
 * its stale VIP (two nodes serving one address: what the fence exists to prevent) and sees
 * almost no failure; with it, requests fail from the fence's expiry (just before
 * Master_Down_Interval ends) until the client follows the backup's gratuitous ARP.
 * Figures only, no targets: they go in BENCH_JSON under "fence".
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { measureOutage } from '../../src/lab/outage.js';
import { ip } from '../../src/lab/sh.js';
import { CLIENT_ADDRESS, LabTopology, VIP, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { fenceScript } from '../../src/core/fence/self-fence.js';
import { arpHandover, ArpWatch, type ArpHandover } from '../chaos/arp-watch.js';

export interface FenceBenchOptions {
  readonly runs: number;
  /** Packets per CPU-cost round. */
  readonly packets: number;
  /** self-fence-backup-priority of the fenced mode. */
  readonly backupPriority: 'auto' | number;
  /** The agents hello over ext0 (paths): `auto` learns the backup's priority. */
  readonly paths: boolean;
}

type Mode = 'auto' | 'off';
type Fault = 'SIGKILL' | 'SIGSTOP';

interface FenceRun extends ArpHandover {
  /** ms from the fault to the backup's first ARP reply. */
  readonly arpTakeoverMs?: number;
  readonly outageMs: number;
  readonly failedRequests: number;
  /** The fenced master's element timeout (its status) when it was faulted. */
  readonly timeoutMs?: number;
}

export interface FenceReport {
  readonly runs: Record<`${Mode} ${Fault}`, FenceRun[]>;
  /** ns of sender CPU per packet: [without fence, with fence], medians over rounds. */
  readonly cpu: { readonly advertNs: [number, number]; readonly vipUdpNs: [number, number]; readonly packets: number; readonly rounds: number } | undefined;
  /** The fenced mode's self-fence-backup-priority (and whether paths let auto learn it). */
  readonly backupPriority: 'auto' | number;
  readonly paths: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const INTERVAL_MS = 100;

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function macOf(ns: string, dev: string): Promise<string> {
  return (JSON.parse(await ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as Array<{ address: string }>)[0]?.address ?? '';
}

export class FenceBench {
  readonly topo = new LabTopology('habfence');
  private readonly base = new LabCluster(this.topo);

  constructor(private readonly opts: FenceBenchOptions, private readonly say: (l: string) => void) {}

  /** `backupPriority`: the fenced mode's self-fence-backup-priority on this host (the master's is the option). */
  private config(c: LabCluster, host: LabHost, priority: number, mode: Mode, backupPriority: 'auto' | number): string {
    const file = `/tmp/${this.topo.prefix}-${host.name}.yaml`;
    const peer = this.topo.hosts.find((h) => h !== host) as LabHost;
    const paths = this.opts.paths && mode !== 'off';
    writeFileSync(file, `socket: ${c.socketPath(host)}
${paths ? 'peer-key: bench-secret\n' : ''}instances:
  - name: web
    vrid: 51
    interface: int0
    external: ext0
    vips: ["${VIP_CIDR}"]
    advert-interval: ${INTERVAL_MS}ms
    priority: ${priority}
    preempt: ${priority > 100}
    self-fence: ${mode}
${mode === 'off' ? '' : `    self-fence-backup-priority: ${backupPriority}\n`}${paths ? `    paths: [{ interface: ext0, peer: ${peer.extAddress} }]\n` : ''}`);
    return file;
  }

  private async once(mode: Mode, fault: Fault): Promise<FenceRun> {
    const [h1, h2] = this.topo.hosts;
    for (const h of this.topo.hosts) await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0').catch(() => '');
    const c = new LabCluster(this.topo);
    let a: RunningAgent | undefined;
    try {
      c.startProbe(VIP, 10, 30);
      // h1 (150) is the master, its backup h2 runs with 100; h2's own backup would be h1 (150).
      a = c.startAgent(h1, ['--config', this.config(c, h1, 150, mode, this.opts.backupPriority)]);
      const b = c.startAgent(h2, ['--config', this.config(c, h2, 100, mode, this.opts.backupPriority === 'auto' ? 'auto' : 150)]);
      const since = c.probeNowMs();
      const ok = await c.waitFor(async () => (await c.stateOf(a as RunningAgent)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP'
        && c.probeResults.slice(-5).every((r) => r.t > since && r.ok && r.host === 'h1'), 20_000);
      if (!ok) throw new Error(`fence ${mode} ${fault}: the pair did not converge`);
      const fence = async (): Promise<{ timeoutMs: number; backupPriorityFrom: string } | undefined> => (await c.status(a as RunningAgent)).instances[0]?.selfFence;
      if (mode !== 'off' && this.opts.paths && !(await c.waitFor(async () => (await fence())?.backupPriorityFrom === 'peers', 10_000))) {
        throw new Error(`fence ${mode} ${fault}: the master did not learn the backup's priority from its hellos`);
      }
      const timeoutMs = mode === 'off' ? undefined : (await fence())?.timeoutMs;
      const watch = new ArpWatch(this.topo.client, 'eth0', CLIENT_ADDRESS, VIP);
      await watch.start();
      await sleep(300 + Math.random() * INTERVAL_MS);
      const at = Date.now();
      const probeAt = c.probeNowMs();
      const pid = a.child.pid ?? 0;
      process.kill(pid, fault);
      try {
        await c.waitFor(() => c.probeResults.some((r) => r.t > probeAt && r.ok && r.host === 'h2'), 10_000, 10);
        await sleep(2500); // the VIP lease (1 s + kernel slack) of an unfenced master runs out
      } finally {
        if (fault === 'SIGSTOP') process.kill(pid, 'SIGCONT');
      }
      const events = await watch.stop();
      const h = arpHandover(events, await macOf(h1.ns, 'ext0'), await macOf(h2.ns, 'ext0'), at);
      const o = measureOutage(c.probeResults, probeAt);
      return {
        ...h, ...(h.firstNewT === undefined ? {} : { arpTakeoverMs: Math.round(h.firstNewT - at) }), outageMs: o.outageMs, failedRequests: o.failedRequests,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      };
    } finally {
      c.stopProbe();
      await c.stopAll();
    }
  }

  /**
   * Sender CPU per packet (ns) through h1's int0 (adverts) or ext0 (UDP from the VIP), with and
   * without a fence table armed for VRID 51 and the VIP, alternated over `rounds`.
   */
  private cpuCost(rounds: number): NonNullable<FenceReport['cpu']> {
    const [h1] = this.topo.hosts;
    const ns = h1.ns;
    spawnSync('ip', ['-n', ns, 'addr', 'add', VIP_CIDR, 'dev', 'ext0']);
    const py = `
import socket, sys, time
kind, n = sys.argv[1], int(sys.argv[2])
if kind == "advert":
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    s.setsockopt(socket.SOL_SOCKET, 25, b"int0\\0")
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    pkt = bytes([0x31, 51, 150, 1, 0, 10, 0, 0]) + socket.inet_aton("${VIP}")
    dst = ("224.0.0.18", 0)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("${VIP}", 0))
    pkt = b"x" * 32
    dst = ("${CLIENT_ADDRESS}", 9)
t0 = time.process_time_ns()
for i in range(n):
    try:
        s.sendto(pkt, dst)
    except OSError:
        pass
print(time.process_time_ns() - t0)
`;
    const measure = (kind: string): number => {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'python3', '-c', py, kind, String(this.opts.packets)], { encoding: 'utf8' });
      const ns0 = Number(r.stdout.trim());
      if (r.status !== 0 || !Number.isFinite(ns0)) throw new Error(`cpu cost sender failed: ${r.stderr}`);
      return ns0 / this.opts.packets;
    };
    const nft = (script: string): void => {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`nft: ${r.stderr}`);
    };
    // A long element timeout: the UDP rounds must measure the pass path (VIP alive), not drops
    // (nothing refreshes the element while UDP is sent); an update costs the same either way.
    const armed = fenceScript([{ vrid: 51, family: 4, interface: 'int0', external: 'ext0', addresses: [VIP], timeoutMs: 3_600_000 }]);
    const off: Record<string, number[]> = { advert: [], udp: [] };
    const on: Record<string, number[]> = { advert: [], udp: [] };
    try {
      for (let r = 0; r < rounds; r++) {
        for (const kind of ['advert', 'udp'] as const) {
          nft(fenceScript([]));
          (off[kind] as number[]).push(measure(kind));
          nft(armed);
          (on[kind] as number[]).push(measure(kind));
        }
      }
    } finally {
      nft(fenceScript([]));
      spawnSync('ip', ['-n', ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0']);
    }
    const m = (xs: number[] | undefined): number => Math.round(median(xs ?? []));
    return { advertNs: [m(off['advert']), m(on['advert'])], vipUdpNs: [m(off['udp']), m(on['udp'])], packets: this.opts.packets, rounds };
  }

  async run(): Promise<FenceReport> {
    this.say(`fence: building namespaces ${this.topo.namespaces.join(', ')}; fenced mode: self-fence-backup-priority ${this.opts.backupPriority}${this.opts.paths ? ' with hellos over ext0 (paths)' : ''}`);
    await this.topo.create();
    for (const h of this.topo.hosts) this.base.startWeb(h);
    const runs = { 'auto SIGKILL': [], 'auto SIGSTOP': [], 'off SIGKILL': [], 'off SIGSTOP': [] } as FenceReport['runs'];
    for (let i = 0; i < this.opts.runs; i++) {
      for (const mode of ['auto', 'off'] as const) {
        for (const fault of ['SIGKILL', 'SIGSTOP'] as const) {
          const r = await this.once(mode, fault);
          runs[`${mode} ${fault}`].push(r);
          this.say(`fence ${mode} ${fault} #${i + 1}:${r.timeoutMs === undefined ? '' : ` timeout ${r.timeoutMs} ms,`} old master answered ${Math.round(r.dualMs)} ms after the backup (${r.oldAfterNew} replies, ${r.dualPeriods} periods with two MACs), dark ${r.darkMs === undefined ? '?' : Math.round(r.darkMs)} ms, backup's first ARP reply after ${r.arpTakeoverMs ?? '?'} ms; HTTP outage ${r.outageMs} ms (${r.failedRequests} failed)`);
        }
      }
    }
    let cpu: FenceReport['cpu'];
    try {
      cpu = this.cpuCost(5);
      this.say(`fence CPU: advert ${cpu.advertNs[0]} -> ${cpu.advertNs[1]} ns/packet, UDP from the VIP ${cpu.vipUdpNs[0]} -> ${cpu.vipUdpNs[1]} ns/packet (sender user+sys, ${cpu.packets} packets x ${cpu.rounds} rounds, medians)`);
    } catch (e) {
      this.say(`fence CPU: not measured (${e instanceof Error ? e.message : String(e)})`);
    }
    return { runs, cpu, backupPriority: this.opts.backupPriority, paths: this.opts.paths };
  }

  async cleanup(): Promise<void> {
    await this.base.stopAll().catch(() => undefined);
    await this.topo.destroy().catch(() => undefined);
  }
}

const stat = (xs: readonly number[]): { median: number; max: number; runs: number[] } => ({ median: median(xs), max: xs.length === 0 ? NaN : Math.max(...xs), runs: [...xs] });
const defined = (xs: ReadonlyArray<number | undefined>): number[] => xs.flatMap((x) => (x === undefined ? [] : [x]));

/** The distinct element timeouts the fenced runs used (from the masters' status). */
function timeoutsOf(r: FenceReport): number[] {
  return [...new Set(Object.values(r.runs).flat().flatMap((x) => (x.timeoutMs === undefined ? [] : [x.timeoutMs])))].sort((a, b) => a - b);
}

export function fenceJson(r: FenceReport): Record<string, unknown> {
  const part = (xs: readonly FenceRun[]): Record<string, unknown> => ({
    oldAnsweredAfterBackupMs: stat(xs.map((x) => x.dualMs)),
    oldRepliesAfterBackup: xs.reduce((n, x) => n + x.oldAfterNew, 0),
    dualMacPeriods: xs.reduce((n, x) => n + x.dualPeriods, 0),
    arpDarkMs: stat(defined(xs.map((x) => x.darkMs))),
    arpTakeoverMs: stat(defined(xs.map((x) => x.arpTakeoverMs))),
    httpOutageMs: stat(xs.map((x) => x.outageMs)),
    failedRequests: xs.reduce((n, x) => n + x.failedRequests, 0),
  });
  return {
    intervalMs: INTERVAL_MS,
    backupPriority: r.backupPriority,
    paths: r.paths,
    timeoutsMs: timeoutsOf(r),
    modes: Object.fromEntries(Object.entries(r.runs).map(([k, xs]) => [k, part(xs)])),
    cpu: r.cpu ?? null,
  };
}

export function printFence(r: FenceReport, out: (l: string) => void): void {
  out('');
  out(`self-fence at ${INTERVAL_MS} ms adverts (self-fence-backup-priority ${r.backupPriority}${r.paths ? ' learned over paths' : ''}: timeout ${timeoutsOf(r).join(', ')} ms), links up: the client's ARP view and HTTP outage, median / max over runs`);
  out('mode / fault          old MAC after backup   2-MAC periods   ARP dark     backup ARP after   HTTP outage');
  const mm = (xs: readonly number[]): string => (xs.length === 0 ? '-' : `${Math.round(median(xs))} / ${Math.round(Math.max(...xs))} ms`);
  for (const [k, xs] of Object.entries(r.runs)) {
    const cols = [k, mm(xs.map((x) => x.dualMs)), String(xs.reduce((n, x) => n + x.dualPeriods, 0)), mm(defined(xs.map((x) => x.darkMs))), mm(defined(xs.map((x) => x.arpTakeoverMs))), mm(xs.map((x) => x.outageMs))];
    out(cols.map((c, i) => c.padEnd([22, 23, 16, 13, 19, 14][i] ?? 12)).join(''));
  }
  if (r.cpu !== undefined) {
    out(`CPU (sender user+sys per packet, ${r.cpu.packets} packets x ${r.cpu.rounds} rounds, medians): VRRP advert ${r.cpu.advertNs[0]} ns without, ${r.cpu.advertNs[1]} ns with the fence;`
      + ` UDP from the VIP ${r.cpu.vipUdpNs[0]} ns without, ${r.cpu.vipUdpNs[1]} ns with. The agent itself does nothing per advert for the fence.`);
  }
}
