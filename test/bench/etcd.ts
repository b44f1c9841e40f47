/**
 * The benchmark's election-on-etcd part (`npm run bench -- --etcd`, root, etcd installed): in the
 * etcd lab (h1, h2, a witness; 3 tuned etcd members), the takeover time after the master's power
 * loss (its agent killed -9 and its host cut off from everyone) for `election: vrrp`,
 * `vrrp+etcd` and `etcd` at the same advert interval, each repeated N times: from the cut to
 * the first 10 ms sample from which the other host holds the VIP for good. The price of the
 * quorum is the lease: the key must expire in etcd before the other node may take it.
 * (That two holders never overlap is the namespace tests' job: test/integration/etcd-*.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdLabAgents } from '../../src/lab/etcd-agents.js';
import { EtcdMembers } from '../../src/lab/etcd-members.js';
import { ETCD_LAB_VIP, ETCD_LAB_VIP_CIDR, EtcdTopology } from '../../src/lab/etcd-topology.js';
import { servesFrom, VipSampler } from '../../src/lab/etcd-vip-sampler.js';
import { ip } from '../../src/lab/sh.js';

export type ElectionMode = 'vrrp' | 'vrrp+etcd' | 'etcd';

export interface EtcdBenchOptions {
  readonly runs: number;
  readonly advertIntervalMs: number;
  readonly leaseS: number;
}

export interface EtcdBenchRow {
  readonly mode: ElectionMode;
  /** Takeover times (ms) of the runs; null = no takeover within the bound. */
  readonly takeoverMs: ReadonlyArray<number | null>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    try { if (await cond()) return true; } catch { /* not yet */ }
    await sleep(25);
  }
  return false;
}

export async function runEtcdBench(o: EtcdBenchOptions, say: (l: string) => void): Promise<EtcdBenchRow[]> {
  const topo = new EtcdTopology(`habe${process.pid % 100000}`);
  const dir = mkdtempSync(join(tmpdir(), 'habe-'));
  const members = new EtcdMembers(topo.members, join(dir, 'etcd'), `habe-${process.pid}`);
  const h1 = topo.host('h1');
  const h2 = topo.host('h2');
  const rows: EtcdBenchRow[] = [];
  try {
    await topo.create();
    await members.start();
    for (const mode of ['vrrp', 'vrrp+etcd', 'etcd'] as const) {
      const takeoverMs: Array<number | null> = [];
      for (let run = 0; run < o.runs; run++) {
        const agents = new EtcdLabAgents(join(dir, `${mode}-${run}`));
        const sampler = new VipSampler(topo.hosts, ETCD_LAB_VIP, 10);
        try {
          const opts = { election: mode, lease: `${o.leaseS}s`, advertInterval: `${o.advertIntervalMs}ms` } as const;
          const a1 = agents.start(h1, { ...opts, priority: 150, endpoints: members.endpointsFor(h1) });
          await waitFor(async () => (await agents.state(a1)) === 'MASTER', 30_000);
          const a2 = agents.start(h2, { ...opts, priority: 100, endpoints: members.endpointsFor(h2) });
          await waitFor(async () => (await agents.state(a2)) === 'BACKUP', 30_000);
          await sleep(1500);
          sampler.start();
          await sleep(300);
          const cutAt = performance.now();
          await agents.kill(a1);
          await topo.isolate(h1);
          // The dead agent's VIP stays on h1 (nobody removes it), but h1 is cut off: only h2 counts.
          const ok = await waitFor(() => servesFrom(sampler.ticks, 'h2', cutAt) !== undefined, o.leaseS * 1000 + 15_000);
          await sleep(300);
          const at = servesFrom(sampler.ticks, 'h2', cutAt);
          takeoverMs.push(ok && at !== undefined ? Math.round(at - cutAt) : null);
        } finally {
          await sampler.stop();
          await agents.stopAll();
          await topo.heal();
          for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', ETCD_LAB_VIP_CIDR, 'dev', 'eth0').catch(() => undefined);
          for (const m of topo.members) members.restart(m);
          await waitFor(async () => (await Promise.all(topo.members.map((m) => members.healthy(m)))).every(Boolean), 20_000);
          await sleep(o.leaseS * 1000 + 500); // the dead agent's key expires before the next run
        }
        say(`  ${mode} run ${run + 1}: takeover ${takeoverMs[takeoverMs.length - 1] ?? 'none'} ms`);
      }
      rows.push({ mode, takeoverMs });
    }
  } finally {
    await members.stopAll();
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? null;
}

export function printEtcdBench(rows: readonly EtcdBenchRow[], o: EtcdBenchOptions, say: (l: string) => void): void {
  say(`election on etcd: takeover after the master's power loss, advert interval ${o.advertIntervalMs} ms, lease ${o.leaseS} s, ${o.runs} run(s)`);
  say('  mode        median ms   max ms   runs without takeover');
  const base = median(rows.find((r) => r.mode === 'vrrp')?.takeoverMs.filter((x): x is number => x !== null) ?? []);
  for (const r of rows) {
    const ok = r.takeoverMs.filter((x): x is number => x !== null);
    const m = median(ok);
    const ratio = m !== null && base !== null && base > 0 && r.mode !== 'vrrp' ? ` (x${(m / base).toFixed(1)} of vrrp)` : '';
    say(`  ${r.mode.padEnd(10)}  ${String(m ?? '-').padStart(9)}   ${String(ok.length > 0 ? Math.max(...ok) : '-').padStart(6)}   ${r.takeoverMs.length - ok.length}${ratio}`);
  }
}

export function etcdJson(rows: readonly EtcdBenchRow[], o: EtcdBenchOptions): Record<string, unknown> {
  return {
    advertIntervalMs: o.advertIntervalMs, leaseS: o.leaseS, runs: o.runs,
    modes: Object.fromEntries(rows.map((r) => [r.mode, { takeoverMs: r.takeoverMs, medianMs: median(r.takeoverMs.filter((x): x is number => x !== null)) }])),
  };
}
