/**
 * The benchmark's load-balancer part: requests per second and p50/p99 latency
 * of HTTP requests from the client namespace to VIP:80, in one lab (namespaces `habenchlb-*`),
 * for each way of balancing VIP:80 round-robin over the web servers of both hosts (h1 and h2, on
 * the internal network, port 8080: see WEB_PORT):
 *   - haagent, nftables mode: the agent on both hosts (h1 MASTER), the master's kernel DNATs;
 *   - HAProxy (Debian package), `mode tcp` (the layer-4 equivalent) and `mode http`: run in h1's
 *     namespace with the VIP added by hand on h1's ext0, no agent;
 *   - haagent, proxy mode (`mode: proxy`: the agent's userspace TCP proxy), when the agent's
 *     config accepts it.
 * The same load generator for every mode: `wrk` when installed (keep-alive off: `Connection:
 * close`, the lab's web server closes anyway), else test/bench/loadgen.ts; a warm-up second,
 * then a fixed duration; every mode `rounds` times, the order rotated each round (the host's load
 * drifts), and the table shows the medians. Before each measurement a split check (200 requests) verifies both
 * servers answer through the VIP. Target: nftables mode req/s >= HAProxy's (the better of its
 * two modes). Everything (agents, haproxy, web servers, namespaces, /tmp files) is removed by
 * `cleanup()`, which the runner also calls on Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster, distPath, type RunningAgent } from '../../src/lab/cluster.js';
import { labAgentYaml } from '../../src/lab/agent-config.js';
import { ip, run } from '../../src/lab/sh.js';
import { LabTopology, VIP, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import type { LoadgenResult } from './loadgen.js';

export interface LbOptions {
  /** Measured seconds per mode (after a one-second warm-up). */
  readonly durationS: number;
  /** Concurrent connections (wrk -c) / workers (loadgen). */
  readonly connections: number;
  /** wrk threads. */
  readonly threads: number;
  /** Every mode is measured this many times, in rotated order; the table shows medians. */
  readonly rounds: number;
}

export type LbModeKey = 'nftables' | 'haproxyTcp' | 'haproxyHttp' | 'proxy';

export interface LbMeasured {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  /** Answers per web server in the split check before the measurement. */
  readonly split: Record<string, number>;
}

/** Medians over the rounds (errors and requests: sums); `rounds`: req/s of each round. */
export type LbModeResult = ({ readonly ok: true; readonly rounds: readonly number[]; readonly failedRounds: number } & LbMeasured)
  | { readonly ok: false; readonly reason: string };

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

function aggregate(rs: readonly LbModeResult[]): LbModeResult {
  const ok = rs.filter((r): r is Extract<LbModeResult, { ok: true }> => r.ok);
  if (ok.length === 0) return rs[0] ?? { ok: false, reason: 'not run' };
  const split: Record<string, number> = {};
  for (const r of ok) for (const [k, v] of Object.entries(r.split)) split[k] = (split[k] ?? 0) + v;
  return {
    ok: true,
    rps: median(ok.map((r) => r.rps)),
    p50Ms: median(ok.map((r) => r.p50Ms)),
    p99Ms: median(ok.map((r) => r.p99Ms)),
    requests: ok.reduce((a, r) => a + r.requests, 0),
    errors: ok.reduce((a, r) => a + r.errors, 0),
    split,
    rounds: ok.map((r) => Math.round(r.rps)),
    failedRounds: rs.length - ok.length,
  };
}

export interface LbReport {
  readonly generator: string;
  readonly haproxy: string | undefined;
  readonly opts: LbOptions;
  readonly modes: Readonly<Record<LbModeKey, LbModeResult>>;
  readonly runtimeS: number;
}

/**
 * The web servers listen on this port (0.0.0.0), not on 80: a userspace balancer (HAProxy, the
 * proxy mode) on h1 binds VIP:80, which a web server on 0.0.0.0:80 in the same namespace would
 * hold (EADDRINUSE). The kernel mode DNATs VIP:80 to it just the same.
 */
export const WEB_PORT = 8080;
/** The client's second address, for the split checks only. */
const SPLIT_CLIENT = '10.77.0.51';

export const LB_LABELS: Readonly<Record<LbModeKey, string>> = {
  nftables: 'haagent nftables',
  haproxyTcp: 'HAProxy mode tcp',
  haproxyHttp: 'HAProxy mode http',
  proxy: 'haagent proxy',
};

function waitExit(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

function commOf(pid: number): string | undefined {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return undefined; }
}

/** Pids in namespace `ns` whose comm is `comm`. */
async function nsPids(ns: string, comm: string): Promise<number[]> {
  const out = await ip('netns', 'pids', ns).catch(() => '');
  return out.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number).filter((p) => commOf(p) === comm);
}

function installed(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error !== undefined) return undefined;
  return `${r.stdout}${r.stderr}`.split('\n')[0]?.trim() ?? cmd;
}

/** "1.23ms", "512.00us", "1.02s", "1.50m" -> ms. */
function wrkTimeMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (m === null) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

/** The figures of one `wrk --latency` run. */
export function parseWrk(text: string): { rps: number; p50Ms: number; p99Ms: number; requests: number; errors: number } {
  const num = (re: RegExp): number => { const m = re.exec(text); return m?.[1] === undefined ? NaN : Number(m[1]); };
  const pct = (p: string): number => { const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(text); return m?.[1] === undefined ? NaN : wrkTimeMs(m[1]); };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const sockErrors = sock === null ? 0 : [1, 2, 3, 4].reduce((s, i) => s + Number(sock[i]), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    requests: num(/(\d+) requests in/),
    errors: sockErrors + (non2xx === null ? 0 : Number(non2xx[1])),
  };
}

export class LbBench {
  readonly topo = new LabTopology('habenchlb');
  readonly cluster = new LabCluster(this.topo);
  readonly tmp = mkdtempSync('/tmp/habenchlb-');
  private haproxy: ChildProcess | undefined;
  private agents: RunningAgent[] = [];
  private readonly webs: ChildProcess[] = [];
  private cleaning: Promise<void> | undefined;
  readonly wrk = installed('wrk', ['--version']);
  readonly haproxyVersion = installed('haproxy', ['-v']);

  constructor(readonly opts: LbOptions, private readonly say: (l: string) => void) {}

  private get h1(): LabHost { return this.topo.hosts[0]; }
  private get h2(): LabHost { return this.topo.hosts[1]; }

  /** Runs `args` in the client namespace with the lab's Node (the load generator). */
  private async loadgen(ns: string, url: string, concurrency: number, durationMs: number, max?: number, localAddress?: string): Promise<LoadgenResult> {
    const args = ['netns', 'exec', ns, process.execPath, join(distPath('..', 'test', 'bench'), 'loadgen.js'), url, String(concurrency), String(durationMs)];
    if (max !== undefined) args.push(String(max));
    if (localAddress !== undefined) args.push(localAddress);
    return JSON.parse(await run('ip', args, durationMs + 30_000)) as LoadgenResult;
  }

  async setup(): Promise<void> {
    await this.topo.create();
    // Thousands of new connections per second from one client (and, through SNAT, from the
    // balancer) exhaust the ephemeral ports in TIME_WAIT after the first round: every later
    // round then measured ~300 req/s for every mode. Widen the range and reuse TIME_WAIT.
    for (const ns of [this.topo.client, ...this.topo.hosts.map((h) => h.ns)]) {
      await ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=1024 65535');
      await ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1');
    }
    // The split checks come from a second client address: the measured load reuses ports
    // (tw_reuse), and a reused 4-tuple can meet its old conntrack entry and its old DNAT.
    await ip('-n', this.topo.client, 'addr', 'add', `${SPLIT_CLIENT}/24`, 'dev', 'eth0');
    for (const h of this.topo.hosts) {
      await ip('netns', 'exec', h.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      const web = spawn('ip', ['netns', 'exec', h.ns, process.execPath, distPath('lab', 'web-server.js'), h.name, String(WEB_PORT)], { stdio: 'ignore' });
      this.webs.push(web);
    }
    // Each web server answers on the internal network (seen from the other host).
    for (const [from, to] of [[this.h1, this.h2], [this.h2, this.h1]] as const) {
      const ok = await this.cluster.waitFor(async () => (await this.loadgen(from.ns, `http://${to.intAddress}:${WEB_PORT}/`, 1, 1000, 1)).bodies[to.name] === 1, 10_000, 100);
      if (!ok) throw new Error(`web server of ${to.name} does not answer on ${to.intAddress}:${WEB_PORT}`);
    }
  }

  private agentConfig(host: LabHost, priority: number, mode: 'nftables' | 'proxy'): string {
    const file = join(this.tmp, `${host.name}-${mode}.yaml`);
    const check = '{ type: tcp, interval: 200ms, timeout: 100ms, rise: 1, fall: 2 }';
    writeFileSync(file, labAgentYaml({
      socket: this.cluster.socketPath(host), vrid: 61, advertInterval: '100ms', priority,
      services: [{ port: 80, mode, scheduler: 'round-robin', servers: [this.h1, this.h2].map((h) => ({ address: h.intAddress, port: WEB_PORT, check })) }],
    }));
    return file;
  }

  /** Whether this build's config accepts `mode: proxy` (`haagent check-config`). */
  proxyModeSupport(): { ok: true } | { ok: false; reason: string } {
    const file = this.agentConfig(this.h1, 150, 'proxy');
    const r = spawnSync(process.execPath, [distPath('cli', 'main.js'), 'check-config', file], { encoding: 'utf8' });
    if (r.status === 0 && /mode: proxy/.test(r.stdout)) return { ok: true };
    return { ok: false, reason: `${r.stdout}${r.stderr}`.trim().split('\n').slice(0, 3).join(' ') || `exit ${String(r.status)}` };
  }

  /** 200 requests through the VIP: both servers must answer, none fail. */
  private async splitCheck(): Promise<Record<string, number> | undefined> {
    let split: Record<string, number> | undefined;
    const ok = await this.cluster.waitFor(async () => {
      const r = await this.loadgen(this.topo.client, `http://${VIP}/`, 4, 10_000, 200, SPLIT_CLIENT);
      split = { ...r.bodies, ...(r.errors > 0 ? { failed: r.errors } : {}) };
      return r.errors === 0 && (r.bodies[this.h1.name] ?? 0) > 0 && (r.bodies[this.h2.name] ?? 0) > 0;
    }, 15_000, 300);
    return ok ? split : undefined;
  }

  /** Warm-up, then the measurement, with the same generator for every mode. */
  private async measure(): Promise<Omit<LbMeasured, 'split'>> {
    const { durationS, connections, threads } = this.opts;
    const url = `http://${VIP}/`;
    if (this.wrk !== undefined) {
      const wrk = (s: number): Promise<string> => run('ip', ['netns', 'exec', this.topo.client, 'wrk', '-t', String(threads), '-c', String(connections),
        '-d', `${s}s`, '--timeout', '2s', '--latency', '-H', 'Connection: close', url], (s + 30) * 1000);
      await wrk(1);
      const text = await wrk(durationS);
      const r = parseWrk(text);
      if (!Number.isFinite(r.rps)) throw new Error(`cannot read wrk's output:\n${text}`);
      return r;
    }
    await this.loadgen(this.topo.client, url, connections, 1000);
    const r = await this.loadgen(this.topo.client, url, connections, durationS * 1000);
    return { rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: r.requests, errors: r.errors };
  }

  private async vipOnH1Only(): Promise<boolean> {
    const [a, b] = await Promise.all([this.topo.extAddresses(this.h1), this.topo.extAddresses(this.h2)]);
    return a.includes(VIP_CIDR) && !b.includes(VIP_CIDR);
  }

  private async stopAgents(): Promise<void> {
    const agents = this.agents;
    this.agents = [];
    for (const a of agents) a.child.kill('SIGTERM');
    await Promise.all(agents.map((a) => waitExit(a.child, 3000)));
    for (const h of this.topo.hosts) {
      if ((await this.topo.extAddresses(h)).includes(VIP_CIDR)) await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0').catch(() => '');
      await run('ip', ['netns', 'exec', h.ns, 'nft', 'delete', 'table', 'inet', 'haagent']).catch(() => '');
    }
  }

  private async agentMode(mode: 'nftables' | 'proxy'): Promise<LbMeasured> {
    const a = this.cluster.startAgent(this.h1, ['--config', this.agentConfig(this.h1, 150, mode)]);
    this.agents.push(a);
    const tail = (): string => a.logs.slice(-6).map((l) => JSON.stringify(l)).join('\n    ');
    if (!(await this.cluster.waitFor(async () => (await this.cluster.stateOf(a)) === 'MASTER' && (await this.vipOnH1Only()), 10_000))) {
      throw new Error(`h1 not MASTER with the VIP within 10 s\n    ${tail()}`);
    }
    const b = this.cluster.startAgent(this.h2, ['--config', this.agentConfig(this.h2, 100, mode)]);
    this.agents.push(b);
    if (!(await this.cluster.waitFor(async () => (await this.cluster.stateOf(b)) === 'BACKUP', 10_000))) {
      throw new Error(`h2 not BACKUP within 10 s\n    ${b.logs.slice(-6).map((l) => JSON.stringify(l)).join('\n    ')}`);
    }
    if (mode === 'nftables') {
      const tables = (): Promise<string> => run('ip', ['netns', 'exec', this.h1.ns, 'nft', 'list', 'tables']);
      if (!(await this.cluster.waitFor(async () => (await tables()).includes('table inet haagent'), 5000))) throw new Error(`no nftables table on the master\n    ${tail()}`);
    } else if (!(await this.cluster.waitFor(() => a.logs.some((l) => l['msg'] === 'proxy listening'), 5000))) {
      throw new Error(`the master's proxy is not listening\n    ${tail()}`);
    }
    const split = await this.splitCheck();
    if (split === undefined) throw new Error(`requests through the VIP do not reach both servers\n    ${tail()}`);
    const m = await this.measure();
    if (!(await this.vipOnH1Only())) throw new Error('the VIP moved during the measurement');
    return { ...m, split };
  }

  private haproxyConfig(mode: 'tcp' | 'http'): string {
    const file = join(this.tmp, `haproxy-${mode}.cfg`);
    writeFileSync(file, `global
  maxconn 4096
  log stderr format raw local0 err

defaults
  mode ${mode}
  timeout connect 2s
  timeout client 30s
  timeout server 30s

frontend vip
  bind ${VIP}:80
  default_backend web

backend web
  balance roundrobin
  server h1 ${this.h1.intAddress}:${WEB_PORT}
  server h2 ${this.h2.intAddress}:${WEB_PORT}
`);
    return file;
  }

  private async haproxyMode(mode: 'tcp' | 'http'): Promise<LbMeasured> {
    await ip('-n', this.h1.ns, 'addr', 'add', VIP_CIDR, 'dev', 'ext0');
    const child = spawn('ip', ['netns', 'exec', this.h1.ns, 'haproxy', '-f', this.haproxyConfig(mode), '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.haproxy = child;
    let log = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => { log += c; });
    child.stderr?.setEncoding('utf8').on('data', (c: string) => { log += c; });
    try {
      const split = await this.splitCheck();
      if (split === undefined) throw new Error(`requests through haproxy do not reach both servers\n    ${log.trim().split('\n').slice(-6).join('\n    ')}`);
      const m = await this.measure();
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`haproxy exited during the measurement\n    ${log.trim()}`);
      return { ...m, split };
    } finally {
      await this.stopHaproxy();
    }
  }

  private async stopHaproxy(): Promise<void> {
    const c = this.haproxy;
    this.haproxy = undefined;
    if (c !== undefined) {
      c.kill('SIGTERM');
      await waitExit(c, 2000);
    }
    for (const p of await nsPids(this.h1.ns, 'haproxy')) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    if ((await this.topo.extAddresses(this.h1).catch((): string[] => [])).includes(VIP_CIDR)) await ip('-n', this.h1.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0').catch(() => '');
  }

  /** One mode; a failure is reported in its column and the other modes still run. */
  private async one(key: LbModeKey, f: () => Promise<LbMeasured>, round: number): Promise<LbModeResult> {
    this.say(`lb: round ${round + 1}/${this.opts.rounds}: ${LB_LABELS[key]}: measuring (${this.opts.durationS} s, ${this.opts.connections} connections)`);
    try {
      const r = await f();
      this.say(`lb: ${LB_LABELS[key]}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.errors} errors (split ${JSON.stringify(r.split)})`);
      return { ok: true, ...r, rounds: [r.rps], failedRounds: 0 };
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.say(`lb: ${LB_LABELS[key]}: FAILED: ${reason}`);
      return { ok: false, reason };
    }
  }

  async run(): Promise<LbReport> {
    const t0 = performance.now();
    const generator = this.wrk !== undefined ? `${this.wrk.replace(/ Copyright.*$/, '')} -t ${this.opts.threads} -c ${this.opts.connections}` : `test/bench/loadgen.js (Node), ${this.opts.connections} workers (wrk not installed: apt-get install wrk)`;
    this.say(`lb: building namespaces ${this.topo.namespaces.join(', ')}; generator: ${generator}`);
    await this.setup();
    const skipHaproxy = { ok: false, reason: 'haproxy not installed (apt-get install haproxy)' } as const;
    if (this.haproxyVersion === undefined) this.say('lb: haproxy not installed, skipped (apt-get install haproxy)');
    const support = this.proxyModeSupport();
    if (!support.ok) this.say('proxy mode: not available yet');
    const runners: Partial<Record<LbModeKey, () => Promise<LbMeasured>>> = {
      nftables: async () => { try { return await this.agentMode('nftables'); } finally { await this.stopAgents(); } },
      ...(this.haproxyVersion === undefined ? {} : {
        haproxyTcp: () => this.haproxyMode('tcp'),
        haproxyHttp: () => this.haproxyMode('http'),
      }),
      ...(support.ok ? { proxy: async () => { try { return await this.agentMode('proxy'); } finally { await this.stopAgents(); } } } : {}),
    };
    const keys = (['nftables', 'haproxyTcp', 'haproxyHttp', 'proxy'] as const).filter((k) => runners[k] !== undefined);
    const rounds = new Map<LbModeKey, LbModeResult[]>(keys.map((k) => [k, []]));
    // Rounds with the order rotated, so that no mode always runs first or last (the host's load drifts).
    for (let r = 0; r < this.opts.rounds; r++) {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[(i + r) % keys.length] as LbModeKey;
        const f = runners[key] as () => Promise<LbMeasured>;
        rounds.get(key)?.push(await this.one(key, f, r));
      }
    }
    const agg = (k: LbModeKey, otherwise: LbModeResult): LbModeResult => { const rs = rounds.get(k); return rs === undefined ? otherwise : aggregate(rs); };
    const modes: Record<LbModeKey, LbModeResult> = {
      nftables: agg('nftables', { ok: false, reason: 'not run' }),
      haproxyTcp: agg('haproxyTcp', skipHaproxy),
      haproxyHttp: agg('haproxyHttp', skipHaproxy),
      proxy: agg('proxy', { ok: false, reason: `proxy mode: not available yet (${support.ok ? '' : support.reason})` }),
    };
    return {
      generator,
      haproxy: this.haproxyVersion,
      opts: this.opts,
      modes,
      runtimeS: Math.round((performance.now() - t0) / 1000),
    };
  }

  /** Idempotent; every caller waits for the same cleanup. */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      await this.stopHaproxy().catch(() => undefined);
      await this.stopAgents().catch(() => undefined);
      await this.cluster.stopAll().catch(() => undefined);
      for (const w of this.webs) w.kill('SIGTERM');
      await Promise.all(this.webs.map((w) => waitExit(w, 2000)));
      await this.topo.destroy().catch(() => undefined);
      rmSync(this.tmp, { recursive: true, force: true });
    })();
    return this.cleaning;
  }
}

// ---------------------------------------------------------------- report

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The better HAProxy figure (the target's reference). */
function bestHaproxy(r: LbReport): { key: LbModeKey; rps: number } | undefined {
  let best: { key: LbModeKey; rps: number } | undefined;
  for (const key of ['haproxyTcp', 'haproxyHttp'] as const) {
    const m = r.modes[key];
    if (m.ok && (best === undefined || m.rps > best.rps)) best = { key, rps: m.rps };
  }
  return best;
}

function ratioOf(a: LbModeResult, b: LbModeResult): number | undefined {
  return a.ok && b.ok && b.rps > 0 ? a.rps / b.rps : undefined;
}

export function printLb(r: LbReport, out: (l: string) => void): void {
  out('');
  out(`load balancer on ${VIP}:80, round-robin over the web servers of h1 and h2 (internal network, port ${WEB_PORT}); client -> VIP, new connection per request`);
  out(`generator: ${r.generator}; per mode and round: 1 s warm-up, then ${r.opts.durationS} s; ${r.opts.rounds} round(s), order rotated; medians over the rounds; ${r.haproxy ?? 'haproxy not installed'}`);
  const W = [20, 12, 11, 11, 16, 12, 12, 0];
  const row = (cells: string[]): void => out(cells.map((c, i) => pad(c, W[i] ?? 0)).join(' ').trimEnd());
  row(['', 'req/s', 'p50', 'p99', 'errors/requests', 'vs HAProxy', 'vs HAProxy', 'req/s per round; split checks (200 requests each)']);
  row(['', '', '', '', '', 'tcp', 'http', '']);
  const fmt = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));
  for (const key of ['nftables', 'haproxyTcp', 'haproxyHttp', 'proxy'] as const) {
    const m = r.modes[key];
    if (!m.ok) {
      row([LB_LABELS[key], m.reason.split('\n')[0] ?? '']);
      continue;
    }
    row([LB_LABELS[key], m.rps.toFixed(0), `${m.p50Ms.toFixed(2)} ms`, `${m.p99Ms.toFixed(2)} ms`, `${m.errors}/${m.requests}`,
      fmt(ratioOf(m, r.modes.haproxyTcp)), fmt(ratioOf(m, r.modes.haproxyHttp)),
      `${m.rounds.join(' ')}${m.failedRounds > 0 ? ` (+${m.failedRounds} failed)` : ''}; ${Object.entries(m.split).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`]);
  }
  const best = bestHaproxy(r);
  const n = r.modes.nftables;
  if (best === undefined || !n.ok) out('target nftables req/s >= HAProxy req/s: - (a mode did not run)');
  else out(`target nftables req/s >= HAProxy req/s (best: ${LB_LABELS[best.key]}): ${n.rps >= best.rps ? 'PASS' : 'MISS'} (${n.rps.toFixed(0)} vs ${best.rps.toFixed(0)}, ratio ${(n.rps / best.rps).toFixed(2)})`);
}

export function lbJson(r: LbReport): Record<string, unknown> {
  const mode = (m: LbModeResult): Record<string, unknown> => (m.ok
    ? { rps: Math.round(m.rps * 10) / 10, p50Ms: r3(m.p50Ms), p99Ms: r3(m.p99Ms), requests: m.requests, errors: m.errors, split: m.split, roundsRps: m.rounds, failedRounds: m.failedRounds }
    : { skipped: m.reason.split('\n')[0] ?? '' });
  const best = bestHaproxy(r);
  const n = r.modes.nftables;
  const ratio = (a: LbModeResult, b: LbModeResult): number | null => { const x = ratioOf(a, b); return x === undefined ? null : r3(x); };
  return {
    generator: r.generator,
    haproxy: r.haproxy ?? null,
    durationS: r.opts.durationS,
    connections: r.opts.connections,
    rounds: r.opts.rounds,
    runtimeS: r.runtimeS,
    nftables: mode(n),
    haproxyTcp: mode(r.modes.haproxyTcp),
    haproxyHttp: mode(r.modes.haproxyHttp),
    proxy: mode(r.modes.proxy),
    ratios: {
      nftablesVsHaproxyTcp: ratio(n, r.modes.haproxyTcp),
      nftablesVsHaproxyHttp: ratio(n, r.modes.haproxyHttp),
      proxyVsHaproxyTcp: ratio(r.modes.proxy, r.modes.haproxyTcp),
      proxyVsHaproxyHttp: ratio(r.modes.proxy, r.modes.haproxyHttp),
      nftablesVsProxy: ratio(n, r.modes.proxy),
    },
    target: best === undefined || !n.ok ? null : (n.rps >= best.rps ? 'PASS' : 'MISS'),
  };
}
