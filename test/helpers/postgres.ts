/**
 * Test side of the PostgreSQL pair (src/lab/postgres-pair.ts, src/lab/postgres-writer.ts): the
 * skip reason, the tests' short timings, and teardown that also kills anything left of a cluster
 * (its processes carry the data directory in their environment).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabHost } from '../../src/lab/topology.js';
import { PG_BIN, PgPair, type PgNode, type PgTimings } from '../../src/lab/postgres-pair.js';
import { killMarked } from './marked-processes.js';

export * from '../../src/lab/postgres-pair.js';
export * from '../../src/lab/postgres-writer.js';

/** Why the PostgreSQL tests cannot run here, or undefined. */
export function pgSkipReason(): string | undefined {
  if (!existsSync(join(PG_BIN, 'postgres'))) return `${PG_BIN}/postgres is missing (apt-get install --no-install-recommends postgresql)`;
  return undefined;
}

export const TEST_TIMINGS: PgTimings = { asyncAfterMs: 5000, freshWindowMs: 2500 };

/** A pair in a fresh temp dir with the tests' timings. */
export function testPair(hosts: readonly [LabHost, LabHost], tag: string): PgPair {
  return new PgPair(hosts, tag, TEST_TIMINGS);
}

/** Stops both servers, kills anything left of them, removes the files. */
export async function destroyPair(pair: PgPair): Promise<void> {
  await pair.stopServers();
  for (const n of pair.nodes) killMarked(n.data);
  pair.removeFiles();
}

/** Power loss of a node's database: every process of its cluster (and its hook scripts) SIGKILLed. */
export function killCluster(node: PgNode): void {
  killMarked(node.data);
}
