/**
 * The write gap of a PostgreSQL failover, measured and returned (never printed): a client writes
 * numbered rows through the VIP, a fault hits the primary's node (a power loss, or an operator
 * switchover), and the figures are the time from the fault to the first write the new primary
 * acknowledged, the writes acknowledged by each node and the acknowledged writes missing on the
 * new primary (must be none). Used by `haagent lab --postgres` (which prints them) and by the
 * benchmark (which repeats them).
 *
 * Also the steps both share: starting the two agents on a pair until the primary runs
 * synchronously, the power loss, and a switchover through the master's control socket.
 * Root only (network namespaces).
 */
import { writeFileSync } from 'node:fs';
import { parseConfigYaml } from '../core/config/yaml.js';
import { HaagentError } from '../core/errors.js';
import { request } from '../daemon/control-server.js';
import type { LabCluster, RunningAgent } from './cluster.js';
import { modeOn, pgAgentYaml, rowsOn, type PgNode } from './postgres-pair.js';
import { PgWriter } from './postgres-writer.js';
import { ip } from './sh.js';
import type { LabHost, LabTopology } from './topology.js';

export type PgFault = 'crash' | 'switchover';

export interface WriteGapFigures {
  readonly fault: PgFault;
  /** Host names (h1, h2) of the primary before and after the fault. */
  readonly from: string;
  readonly to: string;
  /** Fault -> first write acknowledged by the new primary (ms); null when none came in time. */
  readonly gapMs: number | null;
  readonly acknowledged: number;
  readonly ackedByOld: number;
  readonly ackedByNew: number;
  /** Write attempts not acknowledged (refused, timed out; they may still have committed). */
  readonly failedAttempts: number;
  /** Numbers of acknowledged writes missing on the new primary: must be empty. */
  readonly lost: readonly number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether this build accepts the takeover keys (guards, cold-start) the example config uses. */
export function takeoverSupported(node: PgNode): boolean {
  return parseConfigYaml(pgAgentYaml(node, { socket: '/run/haagent-lab/probe.sock', takeover: true })).ok;
}

/** Writes `node`'s agent config (the example's hooks, check and guard) and starts the agent. */
export function startPgAgent(cluster: LabCluster, node: PgNode, takeover: boolean): RunningAgent {
  const file = cluster.configPath(node.host);
  writeFileSync(file, pgAgentYaml(node, { socket: cluster.socketPath(node.host), takeover }), { mode: 0o600 });
  return cluster.startAgent(node.host, ['--config', file]);
}

/**
 * Starts the primary's agent (MASTER), then the standby's (BACKUP), and waits until the primary
 * replicates synchronously. Throws HA_ERR_LAB naming the step that did not happen in time.
 */
export async function startPgAgents(cluster: LabCluster, primary: PgNode, standby: PgNode, takeover: boolean): Promise<[RunningAgent, RunningAgent]> {
  const is = async (a: RunningAgent, s: string): Promise<boolean> => cluster.waitFor(async () => (await cluster.stateOf(a)) === s, 20_000);
  const a1 = startPgAgent(cluster, primary, takeover);
  if (!await is(a1, 'MASTER')) throw new HaagentError('HA_ERR_LAB', `${primary.host.name} did not become MASTER`);
  const a2 = startPgAgent(cluster, standby, takeover);
  if (!await is(a2, 'BACKUP')) throw new HaagentError('HA_ERR_LAB', `${standby.host.name} did not become BACKUP`);
  if (!await cluster.waitFor(async () => (await modeOn(primary)) === 'sync', 20_000, 200)) {
    throw new HaagentError('HA_ERR_LAB', 'the primary did not switch to synchronous replication');
  }
  return [a1, a2];
}

/** Every process in `host`'s namespace SIGKILLed (agent, postgres, hooks); returns how many. */
export async function killAllIn(host: LabHost): Promise<number> {
  const pids = (await ip('netns', 'pids', host.ns)).split('\n').map((l) => l.trim()).filter((l) => /^\d+$/.test(l)).map(Number);
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  return pids.length;
}

/** A power loss: every process in the namespace killed -9, then its links down. */
export async function powerLoss(topo: LabTopology, host: LabHost): Promise<number> {
  const killed = await killAllIn(host);
  await topo.linksDown(host);
  return killed;
}

/** `haagent switchover` on `master`'s control socket; throws when the agent refuses it. */
export async function switchover(master: RunningAgent): Promise<void> {
  const reply = await request(master.socket, { command: 'switchover' }, { timeoutMs: 10_000 });
  if (!reply.ok) throw new HaagentError('HA_ERR_LAB', `switchover refused by ${master.host.name}: ${reply.error.message}`);
}

export interface WriteGapRun {
  readonly cluster: LabCluster;
  /** The client namespace the writer runs in. */
  readonly clientNs: string;
  readonly fault: PgFault;
  readonly from: PgNode;
  readonly to: PgNode;
  /** The agent on `to`: it must become MASTER. */
  readonly toAgent: RunningAgent;
  /** Causes the fault; gets the writes acknowledged so far. */
  readonly cause: (acknowledgedBefore: number) => Promise<void>;
  /** Writing before the fault, after the first acknowledged write (default 3 s). */
  readonly settleMs?: number;
  /** Writing after the new primary's first acknowledged write (default 2 s). */
  readonly tailMs?: number;
}

/**
 * One fault under a running writer. Throws HA_ERR_LAB when nothing was written before the fault
 * or `to` is not MASTER 30 s after it; a new primary that acknowledges nothing within 20 s more
 * gives `gapMs: null` (the figures still count what was written and lost).
 */
export async function measureWriteGap(o: WriteGapRun): Promise<WriteGapFigures> {
  const w = new PgWriter(o.clientNs);
  let faultAt = 0;
  try {
    if (!await o.cluster.waitFor(() => w.acknowledged.length > 0, 10_000)) throw new HaagentError('HA_ERR_LAB', `no write acknowledged by ${o.from.host.name} within 10 s`);
    await sleep(o.settleMs ?? 3000);
    faultAt = w.nowMs();
    await o.cause(w.acknowledged.length);
    if (!await o.cluster.waitFor(async () => (await o.cluster.stateOf(o.toAgent)) === 'MASTER', 30_000, 20)) {
      throw new HaagentError('HA_ERR_LAB', `${o.to.host.name} did not take over within 30 s`);
    }
    await o.cluster.waitFor(() => w.ackedAfter(faultAt, o.to.name) !== undefined, 20_000, 20);
    await sleep(o.tailMs ?? 2000);
  } finally {
    await w.stop();
  }
  const acked = w.acknowledged;
  const rows = await rowsOn(o.to);
  const first = w.ackedAfter(faultAt, o.to.name);
  return {
    fault: o.fault, from: o.from.host.name, to: o.to.host.name,
    gapMs: first === undefined ? null : first.t - faultAt,
    acknowledged: acked.length,
    ackedByOld: acked.filter((r) => r.node === o.from.name).length,
    ackedByNew: acked.filter((r) => r.node === o.to.name).length,
    failedAttempts: w.results.length - acked.length,
    lost: acked.filter((r) => !rows.has(r.n)).map((r) => r.n),
  };
}

/** The figures as the lab prints them (two-space indented lines). */
export function formatWriteGap(f: WriteGapFigures): string[] {
  const what = f.fault === 'crash' ? 'power loss' : 'switchover';
  return [
    `  acknowledged writes: ${f.acknowledged} (${f.ackedByOld} by ${f.from}, ${f.ackedByNew} by ${f.to}), failed attempts: ${f.failedAttempts}`,
    `  writes lost (acknowledged, missing on ${f.to}): ${f.lost.length}${f.lost.length === 0 ? '' : ` (${f.lost.join(', ')})`}`,
    `  write gap (${what} -> first write acknowledged by ${f.to}): ${f.gapMs === null ? 'none yet' : `${f.gapMs} ms`}`,
  ];
}
