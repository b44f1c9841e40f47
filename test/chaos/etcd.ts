/**
 * `npm run chaos -- --set etcd` (root, etcd installed): the failures that split VRRP, against a
 * converged pair in the etcd lab (h1 master, h2 backup, a 3-member etcd on h1, h2 and the
 * witness; lease 2 s, advert interval 200 ms), once with `election: vrrp` and once with
 * `election: vrrp+etcd` (and for the etcd outage also with `etcd-unreachable: keep`). The VIP is
 * sampled every 10 ms on both hosts; for each run: how long both held it, how long nobody did,
 * and who holds it at the end. Prints a table and `CHAOS_JSON {...}`.
 *
 * Scenarios: kill9 (master agent SIGKILL; its VIP stays until its kernel lifetime ends), sigstop
 * (master agent frozen 4 s, then SIGCONT), silent (master cut off, carrier up), cut (h1-h2 cut,
 * both reach the witness), etcddown (all etcd members killed for 5 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdLabAgents, type EtcdLabAgent } from '../../src/lab/etcd-agents.js';
import { EtcdMembers } from '../../src/lab/etcd-members.js';
import { ETCD_LAB_VIP, ETCD_LAB_VIP_CIDR, EtcdTopology } from '../../src/lab/etcd-topology.js';
import { VipSampler, type VipTick } from '../../src/lab/etcd-vip-sampler.js';
import { ip } from '../../src/lab/sh.js';
import { waitFor } from '../../src/lab/etcd-lab.js';

type Mode = 'vrrp' | 'vrrp+etcd' | 'vrrp+etcd keep';

interface Ctx {
  readonly topo: EtcdTopology;
  readonly members: EtcdMembers;
  readonly master: EtcdLabAgent;
}

interface EtcdScenario {
  readonly id: string;
  readonly label: string;
  readonly modes: readonly Mode[];
  /** Injects the fault; resolves when it is healed (or left as is). */
  run(ctx: Ctx): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const HOLD_MS = 5000;

export const ETCD_SCENARIOS: readonly EtcdScenario[] = [
  { id: 'kill9', label: 'master agent kill -9', modes: ['vrrp', 'vrrp+etcd'], run: async (c) => { c.master.child.kill('SIGKILL'); await sleep(HOLD_MS); } },
  {
    id: 'sigstop', label: 'master agent frozen 4 s', modes: ['vrrp', 'vrrp+etcd'],
    run: async (c) => { c.master.child.kill('SIGSTOP'); await sleep(4000); c.master.child.kill('SIGCONT'); await sleep(2000); },
  },
  {
    id: 'silent', label: 'master cut off (carrier up)', modes: ['vrrp', 'vrrp+etcd'],
    run: async (c) => { await c.topo.isolate(c.topo.host('h1')); await sleep(HOLD_MS); await c.topo.heal(); await sleep(2000); },
  },
  {
    id: 'cut', label: 'h1-h2 cut, both reach the witness', modes: ['vrrp', 'vrrp+etcd'],
    run: async (c) => { await c.topo.cutBetween(c.topo.host('h1'), c.topo.host('h2')); await sleep(HOLD_MS); await c.topo.heal(); await sleep(2000); },
  },
  {
    id: 'etcddown', label: 'all etcd members down 5 s', modes: ['vrrp+etcd', 'vrrp+etcd keep'],
    run: async (c) => {
      await c.members.stopAll();
      await sleep(HOLD_MS);
      for (const m of c.topo.members) c.members.restart(m);
      await sleep(4000);
    },
  },
];

export interface EtcdChaosRow {
  readonly scenario: string;
  readonly mode: Mode;
  /** ms during which both hosts held the VIP (sum of sample gaps). */
  readonly bothMs: number;
  /** ms during which neither did. */
  readonly noneMs: number;
  readonly holderAtEnd: string;
}

function durations(ticks: readonly VipTick[]): { bothMs: number; noneMs: number } {
  let bothMs = 0;
  let noneMs = 0;
  for (let i = 1; i < ticks.length; i++) {
    const prev = ticks[i - 1];
    const k = ticks[i];
    if (prev === undefined || k === undefined) continue;
    const dt = k.t - prev.t;
    const held = Object.values(prev.held).filter((h) => h === true).length;
    if (held > 1) bothMs += dt;
    else if (held === 0 && Object.values(prev.held).every((h) => h === false)) noneMs += dt;
  }
  return { bothMs: Math.round(bothMs), noneMs: Math.round(noneMs) };
}


export async function runEtcdChaos(only: readonly string[] | undefined, out: (l: string) => void): Promise<EtcdChaosRow[]> {
  const topo = new EtcdTopology(`hace${process.pid % 100000}`);
  const dir = mkdtempSync(join(tmpdir(), 'hace-'));
  const members = new EtcdMembers(topo.members, join(dir, 'etcd'), `hace-${process.pid}`);
  const rows: EtcdChaosRow[] = [];
  const h1 = topo.host('h1');
  const h2 = topo.host('h2');
  let n = 0;
  try {
    await topo.create();
    await members.start();
    for (const s of ETCD_SCENARIOS.filter((x) => only === undefined || only.includes(x.id))) {
      for (const mode of s.modes) {
        const agents = new EtcdLabAgents(join(dir, `a${++n}`));
        const sampler = new VipSampler(topo.hosts, ETCD_LAB_VIP, 10);
        try {
          const base = { election: mode === 'vrrp' ? 'vrrp' : 'vrrp+etcd', lease: '2s', advertInterval: '200ms', unreachable: mode === 'vrrp+etcd keep' ? 'keep' : 'release' } as const;
          const a1 = agents.start(h1, { ...base, priority: 150, endpoints: members.endpointsFor(h1) });
          await waitFor(async () => (await agents.state(a1)) === 'MASTER', 30_000);
          const a2 = agents.start(h2, { ...base, priority: 100, endpoints: members.endpointsFor(h2) });
          await waitFor(async () => (await agents.state(a2)) === 'BACKUP', 30_000);
          await sleep(1000);
          sampler.start();
          await sleep(300);
          await s.run({ topo, members, master: a1 });
          await sleep(500);
          await sampler.stop();
          const last = sampler.ticks[sampler.ticks.length - 1];
          const holderAtEnd = last === undefined ? '?' : Object.entries(last.held).filter(([, h]) => h === true).map(([k]) => k).join('+') || 'none';
          const row = { scenario: s.id, mode, ...durations(sampler.ticks), holderAtEnd };
          rows.push(row);
          out(`[chaos] ${s.label} (${mode}): both held ${row.bothMs} ms, nobody ${row.noneMs} ms, holder at the end ${holderAtEnd}`);
        } finally {
          await sampler.stop();
          if (agents.agents.size > 0) for (const a of agents.agents.values()) a.child.kill('SIGCONT');
          await agents.stopAll();
          await topo.heal();
          for (const m of topo.members) members.restart(m);
          for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', ETCD_LAB_VIP_CIDR, 'dev', 'eth0').catch(() => undefined);
          await waitFor(async () => (await Promise.all(topo.members.map((m) => members.healthy(m)))).every(Boolean), 30_000);
          await sleep(2500); // a dead agent's key expires before the next run
        }
      }
    }
  } finally {
    await members.stopAll();
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  out('');
  out('scenario   mode              both held   nobody   holder at end');
  for (const r of rows) out(`${r.scenario.padEnd(10)} ${r.mode.padEnd(16)} ${`${r.bothMs} ms`.padStart(10)} ${`${r.noneMs} ms`.padStart(8)}   ${r.holderAtEnd}`);
  out(`CHAOS_JSON ${JSON.stringify({ etcd: rows })}`);
  return rows;
}
