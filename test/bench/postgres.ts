/**
 * The benchmark's PostgreSQL section: the write gap of haagent's PostgreSQL example (a primary
 * and a synchronous standby, examples/postgresql/ hooks, check and guard) for a crash (power
 * loss of the primary's node: every process killed -9, links down) and for a planned switchover
 * (`switchover` on the master's control socket), each over `runs` runs on a fresh pair, with
 * the client writing numbered rows through the VIP. Write gap = fault -> first write acknowledged
 * by the new primary (postgres-gap.ts, the code `haagent lab --postgres` uses). Also reported:
 * acknowledged writes and writes lost (acknowledged, missing on the new primary; the target is 0).
 *
 * Its own namespaces (`habpg-*`) and a temp dir per run; everything is removed after each run, at
 * the end, on error and on Ctrl-C (cleanup()). Needs root and PostgreSQL 15 (`skipReason`).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster } from '../../src/lab/cluster.js';
import { killAllIn, measureWriteGap, powerLoss, startPgAgents, switchover, takeoverSupported, type PgFault, type WriteGapFigures } from '../../src/lab/postgres-gap.js';
import { PG_BIN, PgPair, type PgTimings } from '../../src/lab/postgres-pair.js';
import { LabTopology } from '../../src/lab/topology.js';

export interface PgBenchOptions {
  /** Runs per fault (crash, switchover). */
  readonly runs: number;
}

export interface PgBenchReport {
  readonly runs: number;
  /** Whether the agents ran with the example's takeover guard (guard-fresh). */
  readonly guarded: boolean;
  readonly crash: readonly WriteGapFigures[];
  readonly switchover: readonly WriteGapFigures[];
}

/** The example's timings (examples/postgresql/host-a.env), as the lab uses them. */
const TIMINGS: PgTimings = { asyncAfterMs: 8000, freshWindowMs: 3000 };
const PREFIX = 'habpg';
const LAB_DIR = '/run/haagent-lab';

/** Why the section cannot run here, or undefined. */
export function pgBenchSkipReason(): string | undefined {
  if (!existsSync(join(PG_BIN, 'postgres'))) return `${PG_BIN}/postgres is missing (apt-get install --no-install-recommends postgresql)`;
  return undefined;
}

export class PgBench {
  readonly topo = new LabTopology(PREFIX);
  private cluster: LabCluster | undefined;
  private pair: PgPair | undefined;

  constructor(private readonly opts: PgBenchOptions, private readonly say: (l: string) => void) {}

  async run(): Promise<PgBenchReport> {
    this.say(`postgres: building namespaces ${this.topo.namespaces.join(', ')}`);
    await this.topo.destroy(); // leftovers of an interrupted run
    await this.topo.create();
    const crash: WriteGapFigures[] = [];
    const sw: WriteGapFigures[] = [];
    let guarded = false;
    for (const fault of ['crash', 'switchover'] as const) {
      for (let i = 0; i < this.opts.runs; i++) {
        const r = await this.once(fault, i);
        guarded = r.guarded;
        (fault === 'crash' ? crash : sw).push(r.figures);
        const f = r.figures;
        this.say(`postgres ${fault} #${i + 1}: write gap ${f.gapMs ?? 'none'} ms, ${f.acknowledged} acknowledged (${f.ackedByOld} by ${f.from}, ${f.ackedByNew} by ${f.to}), ${f.failedAttempts} failed attempts, lost ${f.lost.length}`);
      }
    }
    return { runs: this.opts.runs, guarded, crash, switchover: sw };
  }

  /** One fault on a fresh pair (h1 primary, h2 standby); everything of it removed afterwards. */
  private async once(fault: PgFault, i: number): Promise<{ figures: WriteGapFigures; guarded: boolean }> {
    const cluster = new LabCluster(this.topo);
    this.cluster = cluster;
    const pair = new PgPair(this.topo.hosts, `bench${i}`, TIMINGS);
    this.pair = pair;
    const [n1, n2] = pair.nodes;
    try {
      await pair.create();
      const guarded = takeoverSupported(n1);
      const [a1, a2] = await startPgAgents(cluster, n1, n2, guarded);
      const figures = await measureWriteGap({
        cluster, clientNs: this.topo.client, fault, from: n1, to: n2, toAgent: a2,
        cause: fault === 'crash' ? async () => { await powerLoss(this.topo, n1.host); } : () => switchover(a1),
      });
      return { figures, guarded };
    } finally {
      await this.endRun();
    }
  }

  /** Agents stopped, every process in the hosts' namespaces killed, links up, files removed. */
  private async endRun(): Promise<void> {
    await this.cluster?.stopAll();
    for (const h of this.topo.hosts) await killAllIn(h).catch(() => 0);
    for (const h of this.topo.hosts) await this.topo.linksUp(h).catch(() => undefined);
    this.pair?.removeFiles();
    for (const h of this.topo.hosts) {
      rmSync(join(LAB_DIR, `${h.ns}.yaml`), { force: true });
      rmSync(join(LAB_DIR, `${h.ns}.sock`), { force: true });
    }
    this.cluster = undefined;
    this.pair = undefined;
  }

  async cleanup(): Promise<void> {
    await this.endRun();
    await this.topo.destroy();
    let files: string[] = [];
    try { files = readdirSync(LAB_DIR); } catch { /* none */ }
    for (const f of files) if (f.startsWith(`${PREFIX}-`)) rmSync(join(LAB_DIR, f), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

interface Stat { readonly median: number | null; readonly max: number | null; readonly runs: number }

function stat(xs: ReadonlyArray<number | null>): Stat {
  const v = xs.flatMap((x) => (x === null ? [] : [x])).sort((a, b) => a - b);
  if (v.length === 0) return { median: null, max: null, runs: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? (v[mid] as number) : Math.round(((v[mid - 1] as number) + (v[mid] as number)) / 2);
  return { median, max: v[v.length - 1] as number, runs: v.length };
}

function summary(runs: readonly WriteGapFigures[]): Record<string, unknown> {
  const sum = (f: (r: WriteGapFigures) => number): number => runs.reduce((a, r) => a + f(r), 0);
  return {
    writeGapMs: stat(runs.map((r) => r.gapMs)),
    noNewPrimaryWrite: runs.filter((r) => r.gapMs === null).length,
    acknowledgedWrites: sum((r) => r.acknowledged),
    writesLost: sum((r) => r.lost.length),
    failedAttempts: sum((r) => r.failedAttempts),
  };
}

/** The section's part of BENCH_JSON. */
export function pgJson(r: PgBenchReport): Record<string, unknown> {
  return {
    runs: r.runs, guarded: r.guarded,
    crash: summary(r.crash), switchover: summary(r.switchover),
    targets: { noWriteLost: [...r.crash, ...r.switchover].every((x) => x.lost.length === 0) ? 'PASS' : 'MISS' },
  };
}

export function printPg(r: PgBenchReport, out: (l: string) => void): void {
  const ms = (x: number | null): string => (x === null ? '-' : `${x} ms`);
  out('');
  out(`PostgreSQL 15 primary + synchronous standby (examples/postgresql${r.guarded ? ', guard-fresh' : ', no takeover guard in this build'}), VRRP advert 300 ms, client writing rows through the VIP;`);
  out(`write gap = fault -> first write acknowledged by the new primary, over ${r.runs} run(s) per fault on a fresh pair: median / max;`);
  out('crash = every process of the primary\'s node killed -9 + links down; switchover = `switchover` on the master; lost = acknowledged writes missing on the new primary (target 0)');
  out(`${'fault'.padEnd(12)}${'write gap median'.padStart(18)}${'max'.padStart(10)}${'acknowledged'.padStart(14)}${'lost'.padStart(6)}${'failed attempts'.padStart(17)}`);
  for (const [name, runs] of [['crash', r.crash], ['switchover', r.switchover]] as const) {
    const s = stat(runs.map((x) => x.gapMs));
    const lost = runs.reduce((a, x) => a + x.lost.length, 0);
    out(`${name.padEnd(12)}${ms(s.median).padStart(18)}${ms(s.max).padStart(10)}${String(runs.reduce((a, x) => a + x.acknowledged, 0)).padStart(14)}${String(lost).padStart(6)}${String(runs.reduce((a, x) => a + x.failedAttempts, 0)).padStart(17)}`);
  }
  const lost = [...r.crash, ...r.switchover].reduce((a, x) => a + x.lost.length, 0);
  out(`writes lost: ${lost} -> ${lost === 0 ? 'PASS' : 'MISS'} (target 0)`);
}
