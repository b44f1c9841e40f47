/**
 * Bench part (`npm run bench -- --soak [--soak-duration S]`): timers under CPU saturation.
 * Three healthy pairs side by side, each in its own lab (namespaces `habsr-*`, `habsp-*`,
 * `habsk-*`), all at 10 ms adverts, VRRPv3, master priority 150 (preempt), backup 100:
 *   - haagent with `--realtime-priority 10 --lock-memory` (what the systemd unit runs),
 *   - haagent without them,
 *   - keepalived (Debian 2.2.7 in CI; skipped when not installed or --no-keepalived).
 * Load for the whole duration (default 10 min): N busy loops (default 2 per CPU, every CPU
 * saturated), and on every haagent agent its own allocations: status polled every 10 ms and an
 * events subscriber taking every event (adverts included). The masters are never touched, so
 * every transition of a backup to MASTER is a needless takeover: counted from the backups'
 * event streams (haagent) and logs (keepalived, "Entering MASTER STATE"). Figures only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { request, requestStatus } from '../../src/daemon/control-server.js';
import { ALL_EVENT_TYPES } from '../../src/core/control/events.js';
import { LabTopology, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { Keepalived, killAllKeepalived } from '../helpers/keepalived.js';

export interface SoakOptions {
  readonly durationS: number;
  readonly busy: number;
  readonly intervalMs: number;
  readonly keepalived: boolean;
}

type Impl = 'haagent-rt' | 'haagent' | 'keepalived';

export interface SoakResult {
  readonly impl: Impl;
  /** Backup -> MASTER transitions while the master was healthy. */
  readonly needlessTakeovers: number;
  /** Master transitions away from MASTER. */
  readonly masterLosses: number;
  /** haagent: status polls answered / failed, slowest answer (ms). */
  readonly polls?: { readonly ok: number; readonly failed: number; readonly maxMs: number };
  /** haagent: events received by the subscribers. */
  readonly events?: number;
}

export interface SoakReport {
  readonly durationS: number;
  readonly busy: number;
  readonly cpus: number;
  readonly intervalMs: number;
  readonly results: SoakResult[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Running {
  readonly impl: Impl;
  readonly topo: LabTopology;
  readonly result: () => SoakResult;
  stop(): Promise<void>;
}

export class SoakBench {
  private readonly labs: LabTopology[] = [];
  private readonly busy: ChildProcess[] = [];
  private readonly clusters: LabCluster[] = [];

  constructor(private readonly opts: SoakOptions, private readonly say: (l: string) => void) {}

  private haagentConfig(c: LabCluster, topo: LabTopology, host: LabHost, priority: number, rt: boolean): string {
    const file = `/tmp/${topo.prefix}-${host.name}-soak.yaml`;
    writeFileSync(file, `socket: ${c.socketPath(host)}
${rt ? 'realtime: { priority: 10 }\nlock-memory: true\n' : ''}instances:
  - name: web
    vrid: 51
    interface: int0
    external: ext0
    vips: ["${VIP_CIDR}"]
    advert-interval: ${this.opts.intervalMs}ms
    priority: ${priority}
    preempt: ${priority > 100}
`);
    return file;
  }

  private async startHaagent(prefix: string, rt: boolean): Promise<Running> {
    const topo = new LabTopology(prefix);
    this.labs.push(topo);
    await topo.create();
    const c = new LabCluster(topo);
    this.clusters.push(c);
    const [h1, h2] = topo.hosts;
    const a = c.startAgent(h1, ['--config', this.haagentConfig(c, topo, h1, 150, rt)]);
    if (!(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 15_000))) throw new Error(`${prefix}: h1 not MASTER`);
    const b = c.startAgent(h2, ['--config', this.haagentConfig(c, topo, h2, 100, rt)]);
    if (!(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 15_000))) throw new Error(`${prefix}: h2 not BACKUP`);
    let takeovers = 0;
    let losses = 0;
    let events = 0;
    const polls = { ok: 0, failed: 0, maxMs: 0 };
    const abort = new AbortController();
    const subscribe = (agent: RunningAgent, onTransition: (to: string) => void): void => {
      void request(agent.socket, { command: 'events', types: ALL_EVENT_TYPES }, {
        timeoutMs: 5000, signal: abort.signal,
        onEvent: (ev) => {
          events++;
          if (ev.type === 'transition') onTransition(ev.to);
        },
      }).catch(() => undefined);
    };
    subscribe(a, (to) => { if (to !== 'MASTER') losses++; });
    subscribe(b, (to) => { if (to === 'MASTER') takeovers++; });
    let polling = true;
    const poll = async (agent: RunningAgent): Promise<void> => {
      while (polling) {
        const t0 = performance.now();
        try {
          await requestStatus(agent.socket, 1000);
          polls.ok++;
        } catch {
          polls.failed++;
        }
        const took = performance.now() - t0;
        polls.maxMs = Math.max(polls.maxMs, took);
        if (took < 10) await sleep(10 - took);
      }
    };
    const loops = [poll(a), poll(b)];
    const impl: Impl = rt ? 'haagent-rt' : 'haagent';
    return {
      impl, topo,
      result: () => ({ impl, needlessTakeovers: takeovers, masterLosses: losses, polls: { ...polls, maxMs: Math.round(polls.maxMs) }, events }),
      async stop() {
        polling = false;
        await Promise.all(loops);
        abort.abort();
        await c.stopAll();
      },
    };
  }

  private async startKeepalived(prefix: string): Promise<Running> {
    const topo = new LabTopology(prefix);
    this.labs.push(topo);
    await topo.create();
    const [h1, h2] = topo.hosts;
    const common = { version: 3 as const, advertInt: this.opts.intervalMs / 1000, vips: [VIP_CIDR] };
    const m = new Keepalived(h1, `${prefix}-h1`, { ...common, priority: 150 });
    const deadline = performance.now() + 15_000;
    while (!m.lines.some((l) => l.includes('Entering MASTER STATE')) && performance.now() < deadline) await sleep(50);
    const b = new Keepalived(h2, `${prefix}-h2`, { ...common, priority: 100, nopreempt: true });
    while (!b.lines.some((l) => l.includes('Entering BACKUP STATE')) && performance.now() < deadline + 15_000) await sleep(50);
    const mFrom = m.lines.length;
    const bFrom = b.lines.length;
    const count = (k: Keepalived, from: number, re: RegExp): number => k.lines.slice(from).filter((l) => re.test(l)).length;
    return {
      impl: 'keepalived', topo,
      result: () => ({ impl: 'keepalived', needlessTakeovers: count(b, bFrom, /Entering MASTER STATE/), masterLosses: count(m, mFrom, /Entering (BACKUP|FAULT) STATE/) }),
      async stop() { await killAllKeepalived(); },
    };
  }

  async run(): Promise<SoakReport> {
    const n = cpus().length;
    this.say(`soak: ${this.opts.intervalMs} ms adverts, ${this.opts.busy} busy loops on ${n} CPU(s), status every 10 ms + an events subscriber per haagent agent, ${this.opts.durationS} s`);
    const running: Running[] = [await this.startHaagent('habsr', true), await this.startHaagent('habsp', false)];
    if (this.opts.keepalived) running.push(await this.startKeepalived('habsk'));
    for (let i = 0; i < this.opts.busy; i++) {
      this.busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    }
    const started = performance.now();
    const endAt = started + this.opts.durationS * 1000;
    while (performance.now() < endAt) {
      await sleep(Math.min(60_000, endAt - performance.now()));
      const line = running.map((r) => { const x = r.result(); return `${x.impl} ${x.needlessTakeovers} takeover(s)`; }).join(', ');
      this.say(`soak +${Math.round((performance.now() - started) / 1000)} s: ${line}`);
    }
    for (const p of this.busy) p.kill('SIGKILL');
    const results = running.map((r) => r.result());
    for (const r of running) await r.stop();
    return { durationS: this.opts.durationS, busy: this.opts.busy, cpus: n, intervalMs: this.opts.intervalMs, results };
  }

  async cleanup(): Promise<void> {
    for (const p of this.busy) p.kill('SIGKILL');
    for (const c of this.clusters) await c.stopAll().catch(() => undefined);
    await killAllKeepalived().catch(() => undefined);
    for (const t of this.labs) await t.destroy().catch(() => undefined);
  }
}

export function soakJson(r: SoakReport): Record<string, unknown> {
  return { durationS: r.durationS, busyLoops: r.busy, cpus: r.cpus, intervalMs: r.intervalMs, results: r.results };
}

export function printSoak(r: SoakReport, out: (l: string) => void): void {
  out('');
  out(`timer soak: ${r.intervalMs} ms adverts, ${r.busy} busy loops on ${r.cpus} CPU(s), ${r.durationS} s, healthy masters (every backup takeover is needless)`);
  out('implementation   needless takeovers   master lost MASTER   status polls ok/failed (slowest)   events');
  for (const x of r.results) {
    out([x.impl.padEnd(17), String(x.needlessTakeovers).padEnd(21), String(x.masterLosses).padEnd(21),
      (x.polls === undefined ? '-' : `${x.polls.ok}/${x.polls.failed} (${x.polls.maxMs} ms)`).padEnd(35), x.events === undefined ? '-' : String(x.events)].join(''));
  }
}
