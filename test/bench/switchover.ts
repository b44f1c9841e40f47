/**
 * The benchmark's "planned switchover" measurement (haagent only): with the probe running, run
 * `haagent switchover --socket <master's socket>` from the root namespace (the control socket is
 * on the shared filesystem), wait until the peer is MASTER and holds the VIP alone, and measure
 * the client-visible outage over that window. When requests fail, `describe()` gives the probe
 * results around the switch next to the CLI call, the VIP add/delete events on both hosts and the
 * agents' transitions, all on the probe's clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { distPath, type LabCluster } from '../../src/lab/cluster.js';
import { measureOutage, type ProbeResult } from '../../src/lab/outage.js';
import { VIP, VIP_CIDR, type LabHost, type LabTopology } from '../../src/lab/topology.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** performance.now() -> probe clock (ms since the probe started), learnt from result arrivals. */
class ProbeClock {
  private offset = Infinity;
  private seen: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly results: readonly ProbeResult[]) {
    this.seen = results.length;
    this.timer = setInterval(() => this.poll(), 1);
  }

  private poll(): void {
    const now = performance.now();
    for (; this.seen < this.results.length; this.seen++) {
      const r = this.results[this.seen];
      // A result's t is taken when the request ends, and it arrives here a little later.
      if (r !== undefined) this.offset = Math.min(this.offset, now - r.t);
    }
  }

  toProbe(perfMs: number): number {
    return Math.round(perfMs - (Number.isFinite(this.offset) ? this.offset : 0));
  }

  stop(): void {
    this.poll();
    clearInterval(this.timer);
  }
}

interface AddrEvent { readonly host: string; readonly kind: 'add' | 'del'; readonly at: number }

/** `ip monitor address` on the hosts' ext0: every VIP add/delete with its performance.now(). */
class AddrWatch {
  readonly events: AddrEvent[] = [];
  private readonly children: ChildProcess[] = [];

  constructor(hosts: readonly LabHost[]) {
    for (const h of hosts) {
      const child = spawn('ip', ['-n', h.ns, 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
      this.children.push(child);
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line.includes(' ext0') && line.includes(`inet ${VIP}/`)) {
          this.events.push({ host: h.name, kind: line.startsWith('Deleted') ? 'del' : 'add', at: performance.now() });
        }
      });
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
      const t = setTimeout(() => c.kill('SIGKILL'), 1000);
      c.once('exit', () => { clearTimeout(t); resolve(); });
      c.kill('SIGTERM');
    })));
  }
}

interface CliRun { readonly code: number | null; readonly out: string; readonly startedAt: number; readonly endedAt: number }

function runCli(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const child = spawn(process.execPath, [distPath('cli', 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => { out += c; });
    const kill = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.once('error', (e) => { clearTimeout(kill); resolve({ code: -1, out: e.message, startedAt, endedAt: performance.now() }); });
    child.once('exit', (code) => { clearTimeout(kill); resolve({ code, out: out.trim(), startedAt, endedAt: performance.now() }); });
  });
}

/** What the switchover measurement needs from the running haagent pair. */
export interface SwitchoverTarget {
  readonly cluster: LabCluster;
  readonly topo: LabTopology;
  /** VRRP state of the agent on `host` (control socket). */
  state(host: LabHost): Promise<string | undefined>;
  /** Agent log lines (JSON) on `host` so far. */
  logs(host: LabHost): ReadonlyArray<Record<string, unknown>>;
}

export interface SwitchoverRun {
  readonly from: string;
  readonly to: string;
  readonly outageMs: number;
  readonly failedRequests: number;
  /** CLI start -> VIP added on the new master's ext0 (ip monitor). */
  readonly vipAddedMs: number | undefined;
  /** CLI start -> VIP deleted from the old master's ext0 (ip monitor). */
  readonly vipRemovedMs: number | undefined;
  /** CLI start -> CLI exit. */
  readonly cliMs: number;
  /** Probe results, VIP events and transitions around the switch (probe clock), for a report. */
  readonly detail: string[];
}

function logSummary(l: Record<string, unknown>): string {
  const pick = ['msg', 'from', 'to', 'reason'].flatMap((k) => (l[k] === undefined ? [] : [`${k}=${JSON.stringify(l[k])}`]));
  return pick.join(' ');
}

/** Date.now() - performance.now(): maps the agents' log `time` (ISO 8601, ms) onto performance.now(). */
const wallMinusPerf = (): number => Date.now() - performance.now();

/**
 * Switches mastership from `from` to `to` (`haagent switchover` on `from`'s socket), waits for `to`
 * MASTER holding the VIP alone and answering the probe, then measures the outage since the call.
 */
export async function measureSwitchover(t: SwitchoverTarget, from: LabHost, to: LabHost): Promise<SwitchoverRun> {
  const { cluster, topo } = t;
  const watch = new AddrWatch([from, to]);
  const clock = new ProbeClock(cluster.probeResults);
  const logMark = new Map([from, to].map((h) => [h.name, t.logs(h).length]));
  try {
    await sleep(150); // let `ip monitor` subscribe, and the clock learn its offset
    const since = cluster.probeNowMs();
    const cli = await runCli(['switchover', '--socket', cluster.socketPath(from)]);
    if (cli.code !== 0) throw new Error(`switchover on ${from.name} exited ${String(cli.code)}: ${cli.out}`);
    const done = await cluster.waitFor(async () => {
      if ((await t.state(to)) !== 'MASTER' || (await t.state(from)) !== 'BACKUP') return false;
      const [f, n] = await Promise.all([topo.extAddresses(from), topo.extAddresses(to)]);
      if (f.includes(VIP_CIDR) || !n.includes(VIP_CIDR)) return false;
      return cluster.probeResults.some((r) => r.t > since && r.ok && r.host === to.name);
    }, 20_000, 10);
    if (!done) throw new Error(`switchover ${from.name} -> ${to.name}: ${to.name} not MASTER with the VIP alone within 20 s (CLI: ${cli.out})`);
    await sleep(300);
    clock.stop();
    await watch.stop();
    const results = cluster.probeResults.slice();
    const o = measureOutage(results, since);
    const evAfter = (host: string, kind: 'add' | 'del'): number | undefined => {
      const e = watch.events.find((x) => x.host === host && x.kind === kind && x.at >= cli.startedAt);
      return e === undefined ? undefined : Math.round(e.at - cli.startedAt);
    };
    // Timeline (probe clock) around the failures, or around the switch when none failed.
    const failed = results.filter((r) => r.t >= since && !r.ok);
    const vipEvents = watch.events.filter((e) => e.at >= cli.startedAt).map((e) => ({ t: clock.toProbe(e.at), what: `VIP ${e.kind === 'add' ? 'added on' : 'deleted from'} ${e.host}` }));
    const lo = Math.min(...failed.map((r) => r.t), ...vipEvents.map((e) => e.t), clock.toProbe(cli.startedAt)) - 40;
    const hi = Math.max(...failed.map((r) => r.t), ...vipEvents.map((e) => e.t)) + 40;
    const lines: Array<{ t: number; what: string }> = [
      { t: clock.toProbe(cli.startedAt), what: `CLI switchover on ${from.name} started` },
      { t: clock.toProbe(cli.endedAt), what: `CLI exited ${String(cli.code)} (${cli.out.split('\n')[0] ?? ''})` },
      ...vipEvents,
      ...results.filter((r) => r.t >= lo && r.t <= hi).map((r) => ({ t: r.t, what: r.ok ? `probe ok  ${r.host ?? '?'}` : `probe FAIL ${r.error ?? '?'}` })),
    ];
    const shift = wallMinusPerf();
    for (const h of [from, to]) {
      for (const l of t.logs(h).slice(logMark.get(h.name) ?? 0)) {
        const at = typeof l['time'] === 'string' ? clock.toProbe(Date.parse(l['time']) - shift) : hi;
        lines.push({ t: at, what: `${h.name} log: ${logSummary(l)}` });
      }
    }
    lines.sort((a, b) => a.t - b.t);
    const detail = lines.map((l) => `t=${l.t} ${l.what}`);
    return {
      from: from.name,
      to: to.name,
      outageMs: o.outageMs,
      failedRequests: o.failedRequests,
      vipAddedMs: evAfter(to.name, 'add'),
      vipRemovedMs: evAfter(from.name, 'del'),
      cliMs: Math.round(cli.endedAt - cli.startedAt),
      detail,
    };
  } finally {
    clock.stop();
    await watch.stop();
  }
}
