/**
 * `haagent lab --postgres`: a PostgreSQL 15 primary (h1) and synchronous standby (h2) run by
 * haagent with the hooks, check and guard of examples/postgresql/, a client writing numbered
 * rows through the VIP, then a power loss of the master (every process in its namespace killed
 * -9, links down). Measures (postgres-gap.ts), prints through `say` and returns the
 * acknowledged writes, the writes lost (acknowledged but missing on the new primary; must be 0),
 * the write gap (power loss -> first write acknowledged by the new primary), and the old primary
 * rejoining as a standby (pg_rewind) once the power is back.
 *
 * `--keep` leaves it running (database app, user app, password app, VIP:5432); `haagent lab
 * --down` removes it, clusters included (they live in the lab's namespaces and directory).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HaagentError } from '../core/errors.js';
import type { LabCluster, RunningAgent } from './cluster.js';
import { formatWriteGap, measureWriteGap, powerLoss, startPgAgent, startPgAgents, takeoverSupported, type WriteGapFigures } from './postgres-gap.js';
import { EXAMPLE_TIMINGS, PgPair, modeOn, query, rowsOn, script, streams } from './postgres-pair.js';
import { VIP, type LabTopology } from './topology.js';

export interface PostgresLabOptions {
  readonly keep: boolean;
  /** Where the clusters and their settings go (the postgres user must be able to reach it). */
  readonly dir: string;
  /** Progress and figures, one line at a time. */
  readonly say: (line: string) => void;
}

/** What the lab measured (also printed through `say`). */
export interface PostgresLabReport {
  readonly crash: WriteGapFigures;
  /** After the power came back: rows on the old and the new primary (equal when it rejoined whole). */
  readonly rejoinRows: { readonly old: number; readonly new: number };
}

export async function runPostgresLab(topo: LabTopology, cluster: LabCluster, o: PostgresLabOptions): Promise<PostgresLabReport> {
  const say = o.say;
  mkdirSync(dirname(o.dir), { recursive: true, mode: 0o755 });
  const pair = new PgPair(topo.hosts, 'lab', EXAMPLE_TIMINGS, o.dir);
  const [n1, n2] = pair.nodes;
  const takeover = takeoverSupported(n1);
  const state = (a: RunningAgent): Promise<string | undefined> => cluster.stateOf(a);
  let kept = false;
  try {
    say(`PostgreSQL 15: initdb on h1, base backup to h2 (clusters in ${pair.root})`);
    await pair.create();
    const [, a2] = await startPgAgents(cluster, n1, n2, takeover);
    say(`h1: primary, MASTER of ${VIP}; h2: synchronous standby, BACKUP${takeover ? ', guarded by guard-fresh' : ' (this build has no takeover guards: the standby takes over unguarded)'}`);

    const crash = await measureWriteGap({
      cluster, clientNs: topo.client, fault: 'crash', from: n1, to: n2, toAgent: a2,
      cause: async (acked) => {
        const killed = await powerLoss(topo, n1.host);
        say(`power loss on h1 after ${acked} acknowledged writes: ${killed} processes killed -9 (haagent, postgres), int0 and ext0 down`);
      },
    });
    say(`h2 promoted (pg_ctl promote in before-master) and MASTER; client writes through ${VIP}:5432:`);
    for (const line of formatWriteGap(crash)) say(line);

    await topo.linksUp(n1.host);
    await script(n1, 'start');
    const b1 = startPgAgent(cluster, n1, takeover);
    say('power back on h1: its server started as a standby, haagent started; the backup hook rewinds it onto h2');
    if (!await cluster.waitFor(() => streams(n1), 60_000, 300)) throw new HaagentError('HA_ERR_LAB', `h1 did not rejoin as a standby; see ${n1.log}`);
    await cluster.waitFor(async () => (await modeOn(n1)) === 'sync', 20_000, 200);
    // Streaming is not replayed: give h1 the time to replay what h2 holds (no client writes now);
    // rows that still differ after that are reported as they are.
    const r2 = await rowsOn(n2);
    await cluster.waitFor(async () => (await rowsOn(n1)).size >= r2.size, 20_000, 200);
    const r1 = await rowsOn(n1);
    say(`h1 rejoined as a streaming standby of h2 (pg_rewind); h2 replicates synchronously again; rows: h1 ${r1.size}, h2 ${r2.size}`);
    const report: PostgresLabReport = { crash, rejoinRows: { old: r1.size, new: r2.size } };
    say(`haagent states: h1 ${String(await state(b1))}, h2 ${String(await state(a2))}; promotions: ${(await query(n2, 'SELECT epoch, node FROM haagent.epoch ORDER BY seq')).join(', ')}`);
    if (o.keep) {
      cluster.detach();
      kept = true;
      say(`kept running. From the client: ip netns exec ${topo.client} psql "host=${VIP} port=5432 user=app dbname=app" (password app)`);
      say(`  settings: ${n1.env}, ${n2.env}; server logs ${n1.log}, ${n2.log}; scripts examples/postgresql/`);
      say(`  try a switchover: haagent switchover --socket ${cluster.socketPath(n2.host)}`);
      say('  remove it all: haagent lab --down');
    }
    return report;
  } finally {
    if (!kept) {
      await cluster.stopAll();
      await pair.stopServers();
      pair.removeFiles();
    }
  }
}
