/**
 * `haagent lab --postgres`: a PostgreSQL 15 primary (h1) and synchronous standby (h2) run by
 * haagent with the hooks, check and guard of examples/postgresql/, a client writing numbered
 * rows through the VIP, then a power loss of the master (every process in its namespace killed
 * -9, links down). Prints the acknowledged writes, the writes lost (acknowledged but missing on
 * the new primary; must be 0), the write gap (power loss -> first write acknowledged by the new
 * primary), and the old primary rejoining as a standby (pg_rewind) once the power is back.
 *
 * `--keep` leaves it running (database app, user app, password app, VIP:5432); `haagent lab
 * --down` removes it, clusters included (they live in the lab's namespaces and directory).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseConfigYaml } from '../core/config/yaml.js';
import { HaagentError } from '../core/errors.js';
import { LabCluster, type RunningAgent } from './cluster.js';
import { EXAMPLE_TIMINGS, PgPair, modeOn, pgAgentYaml, query, rowsOn, script, streams, type PgNode } from './postgres-pair.js';
import { PgWriter } from './postgres-writer.js';
import { ip } from './sh.js';
import { LabTopology, VIP, type LabHost } from './topology.js';

export interface PostgresLabOptions {
  readonly keep: boolean;
  /** Where the clusters and their settings go (the postgres user must be able to reach it). */
  readonly dir: string;
  readonly say: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether this build accepts the takeover keys (guards, cold-start) the example config uses. */
function takeoverSupported(node: PgNode): boolean {
  return parseConfigYaml(pgAgentYaml(node, { socket: '/run/haagent-lab/probe.sock', takeover: true })).ok;
}

/** Every process in `host`'s namespace SIGKILLed (agent, postgres, hooks), then its links down. */
async function powerLoss(topo: LabTopology, host: LabHost): Promise<number> {
  const pids = (await ip('netns', 'pids', host.ns)).split('\n').map((l) => l.trim()).filter((l) => /^\d+$/.test(l)).map(Number);
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  await topo.linksDown(host);
  return pids.length;
}

export async function runPostgresLab(topo: LabTopology, cluster: LabCluster, o: PostgresLabOptions): Promise<void> {
  const say = o.say;
  mkdirSync(dirname(o.dir), { recursive: true, mode: 0o755 });
  const pair = new PgPair(topo.hosts, 'lab', EXAMPLE_TIMINGS, o.dir);
  const [n1, n2] = pair.nodes;
  const takeover = takeoverSupported(n1);
  const startAgent = (node: PgNode): RunningAgent => {
    const file = cluster.configPath(node.host);
    writeFileSync(file, pgAgentYaml(node, { socket: cluster.socketPath(node.host), takeover }), { mode: 0o600 });
    return cluster.startAgent(node.host, ['--config', file]);
  };
  const state = (a: RunningAgent): Promise<string | undefined> => cluster.stateOf(a);
  let kept = false;
  try {
    say(`PostgreSQL 15: initdb on h1, base backup to h2 (clusters in ${pair.root})`);
    await pair.create();
    const a1 = startAgent(n1);
    if (!await cluster.waitFor(async () => (await state(a1)) === 'MASTER', 20_000)) throw new HaagentError('HA_ERR_LAB', 'h1 did not become MASTER');
    const a2 = startAgent(n2);
    if (!await cluster.waitFor(async () => (await state(a2)) === 'BACKUP', 20_000)) throw new HaagentError('HA_ERR_LAB', 'h2 did not become BACKUP');
    if (!await cluster.waitFor(async () => (await modeOn(n1)) === 'sync', 20_000, 200)) throw new HaagentError('HA_ERR_LAB', 'the primary did not switch to synchronous replication');
    say(`h1: primary, MASTER of ${VIP}; h2: synchronous standby, BACKUP${takeover ? ', guarded by guard-fresh' : ' (this build has no takeover guards: the standby takes over unguarded)'}`);

    const w = new PgWriter(topo.client);
    let faultAt = 0;
    try {
      await cluster.waitFor(() => w.acknowledged.length > 0, 10_000);
      await sleep(3000);
      faultAt = w.nowMs();
      const killed = await powerLoss(topo, n1.host);
      say(`power loss on h1 after ${w.acknowledged.length} acknowledged writes: ${killed} processes killed -9 (haagent, postgres), int0 and ext0 down`);
      if (!await cluster.waitFor(async () => (await state(a2)) === 'MASTER', 30_000, 20)) throw new HaagentError('HA_ERR_LAB', 'h2 did not take over within 30 s');
      await cluster.waitFor(() => w.ackedAfter(faultAt, n2.name) !== undefined, 20_000, 20);
      await sleep(2000);
    } finally {
      await w.stop();
    }
    const acked = w.acknowledged;
    const rows = await rowsOn(n2);
    const lost = acked.filter((r) => !rows.has(r.n));
    const first = w.ackedAfter(faultAt, n2.name);
    say(`h2 promoted (pg_ctl promote in before-master) and MASTER; client writes through ${VIP}:5432:`);
    say(`  acknowledged writes: ${acked.length} (${acked.filter((r) => r.node === n1.name).length} by h1, ${acked.filter((r) => r.node === n2.name).length} by h2), failed attempts: ${w.results.length - acked.length}`);
    say(`  writes lost (acknowledged, missing on h2): ${lost.length}${lost.length === 0 ? '' : ` (${lost.map((r) => r.n).join(', ')})`}`);
    say(`  write gap (power loss -> first write acknowledged by h2): ${first === undefined ? 'none yet' : `${first.t - faultAt} ms`}`);

    await topo.linksUp(n1.host);
    await script(n1, 'start');
    const b1 = startAgent(n1);
    say('power back on h1: its server started as a standby, haagent started; the backup hook rewinds it onto h2');
    if (!await cluster.waitFor(() => streams(n1), 60_000, 300)) throw new HaagentError('HA_ERR_LAB', `h1 did not rejoin as a standby; see ${n1.log}`);
    await cluster.waitFor(async () => (await modeOn(n1)) === 'sync', 20_000, 200);
    const [r1, r2] = [await rowsOn(n1), await rowsOn(n2)];
    say(`h1 rejoined as a streaming standby of h2 (pg_rewind); h2 replicates synchronously again; rows: h1 ${r1.size}, h2 ${r2.size}`);
    say(`haagent states: h1 ${String(await state(b1))}, h2 ${String(await state(a2))}; promotions: ${(await query(n2, 'SELECT epoch, node FROM haagent.epoch ORDER BY seq')).join(', ')}`);
    if (o.keep) {
      cluster.detach();
      kept = true;
      say(`kept running. From the client: ip netns exec ${topo.client} psql "host=${VIP} port=5432 user=app dbname=app" (password app)`);
      say(`  settings: ${n1.env}, ${n2.env}; server logs ${n1.log}, ${n2.log}; scripts examples/postgresql/`);
      say(`  try a switchover: haagent switchover --socket ${cluster.socketPath(n2.host)}`);
      say('  remove it all: haagent lab --down');
    }
  } finally {
    if (!kept) {
      await cluster.stopAll();
      await pair.stopServers();
      pair.removeFiles();
    }
  }
}
