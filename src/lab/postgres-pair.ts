/**
 * A replicated PostgreSQL 15 pair in the lab's two host namespaces, driven by the scripts in
 * examples/postgresql/ (the lab and the tests run exactly what the example ships): one settings
 * file per node, clusters under one directory, each with its own unix socket directory (sockets
 * ignore network namespaces, so every local connection names its directory with -h).
 * Replication and the peers' superuser connections use ext0 (10.77.0.11/.12); VRRP uses int0,
 * so cutting a standby's ext0 stops replication while the agents still hear each other.
 *
 * Used by `haagent lab --postgres` and the PostgreSQL namespace tests. Root only.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../adapters/package-info.js';
import type { LabHost } from './topology.js';
import { VIP } from './topology.js';

export const PG_BIN = '/usr/lib/postgresql/15/bin';
export const SCRIPTS = join(packageRoot(), 'examples', 'postgresql');
/** The application role's password (database app, user app): the lab documents it. */
export const APP_PASSWORD = 'app';

export interface PgNode {
  readonly host: LabHost;
  readonly peer: LabHost;
  /** cluster_name, unique per run (the processes carry it in their titles). */
  readonly name: string;
  readonly dir: string;
  readonly env: string;
  readonly data: string;
  readonly socketDir: string;
  readonly stateDir: string;
  readonly log: string;
}

/** The example's defaults (examples/postgresql/host-a.env). */
export const EXAMPLE_TIMINGS: PgTimings = { asyncAfterMs: 8000, freshWindowMs: 3000 };

export interface PgTimings {
  /** The primary goes async after the standby stopped streaming this long. */
  readonly asyncAfterMs: number;
  /** The freshness guard's window. */
  readonly freshWindowMs: number;
}

/** Runs `cmd args` inside namespace `ns`; resolves { code, out } (stdout + stderr), never rejects. */
export function inNs(ns: string, cmd: string, args: readonly string[], timeoutMs = 60_000, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Runs one of the example scripts on `node` (its settings file as the argument); throws with its output on failure. */
export async function script(node: PgNode, name: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<string> {
  const r = await inNs(node.host.ns, join(SCRIPTS, name), [node.env], timeoutMs, env);
  if (r.code !== 0) throw new Error(`${name} on ${node.name} failed (${r.code}): ${r.out}`);
  return r.out;
}

/** One query on `node` through its own socket as postgres; the unaligned rows as lines. Throws on error. */
export async function query(node: PgNode, sql: string, db = 'app'): Promise<string[]> {
  const r = await inNs(node.host.ns, 'runuser', ['-u', 'postgres', '--', join(PG_BIN, 'psql'), '-h', node.socketDir, '-p', '5432', '-U', 'postgres',
    '-d', db, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], 15_000);
  if (r.code !== 0) throw new Error(`query on ${node.name} failed: ${sql}: ${r.out}`);
  return r.out.split('\n').filter((l) => l !== '');
}

/** query(), or undefined when the server does not answer. */
export async function tryQuery(node: PgNode, sql: string, db = 'app'): Promise<string[] | undefined> {
  try { return await query(node, sql, db); } catch { return undefined; }
}

export class PgPair {
  readonly root: string;
  readonly nodes: readonly [PgNode, PgNode];

  /**
   * Writes the settings and password files under `root` (a new temp dir when absent); nothing
   * runs yet. `tag` makes the cluster names unique.
   */
  constructor(hosts: readonly [LabHost, LabHost], tag: string, timings: PgTimings, root?: string) {
    this.root = root ?? mkdtempSync(join(tmpdir(), 'haagent-pg-'));
    mkdirSync(this.root, { recursive: true });
    chmodSync(this.root, 0o755);
    const passfile = join(this.root, 'pgpass');
    writeFileSync(passfile, ['postgres', 'repl', 'app'].map((u) => `*:*:*:${u}:${u === 'app' ? APP_PASSWORD : `${u}-secret`}\n`).join(''), { mode: 0o600 });
    chownSync(passfile, pgUid(), pgGid());
    const [a, b] = hosts;
    const make = (host: LabHost, peer: LabHost): PgNode => {
      const dir = join(this.root, host.name);
      const node: PgNode = {
        host, peer, name: `${host.name}_${tag}`, dir, env: join(this.root, `${host.name}.env`), data: join(dir, 'data'),
        socketDir: join(dir, 'sock'), stateDir: join(dir, 'state'), log: join(dir, 'postgres.log'),
      };
      writeFileSync(node.env, [
        `PG_BIN=${PG_BIN}`, `PGDATA=${node.data}`, 'PG_OS_USER=postgres', 'PG_PORT=5432', `PG_SOCKET_DIR=${node.socketDir}`,
        `PG_LISTEN='*'`, `PG_NODE_NAME=${node.name}`, `PG_PEER_HOST=${peer.extAddress}`, 'PG_REPL_USER=repl', `PG_PASSFILE=${passfile}`,
        'PG_APP_DB=app', 'PG_APP_USER=app', 'PG_REPL_NET=10.77.0.0/24', 'PG_CLIENT_NET=10.77.0.0/24', `PG_STATE_DIR=${node.stateDir}`,
        `PG_LOG_FILE=${node.log}`, `PG_ASYNC_AFTER_MS=${timings.asyncAfterMs}`, `PG_FRESH_WINDOW_MS=${timings.freshWindowMs}`,
        'PG_REJOIN_WAIT_S=30', '',
      ].join('\n'), { mode: 0o600 });
      mkdirSync(dir, { recursive: true });
      chownSync(dir, pgUid(), pgGid());
      return node;
    };
    this.nodes = [make(a, b), make(b, a)];
  }

  /** initdb + start on the first node (the primary), the writes table, a base backup and start on the second. */
  async create(): Promise<void> {
    const [p, s] = this.nodes;
    await script(p, 'init-primary');
    await query(p, 'CREATE TABLE writes (n int PRIMARY KEY, node text NOT NULL, epoch bigint, at timestamptz NOT NULL DEFAULT now()); ALTER TABLE writes OWNER TO app');
    await script(s, 'init-standby');
  }

  /** Stops both servers at once (immediate mode); safe when they are not running. */
  async stopServers(): Promise<void> {
    for (const n of this.nodes) {
      if (existsSync(join(n.data, 'postmaster.pid'))) {
        await inNs(n.host.ns, 'runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), 'stop', '-D', n.data, '-m', 'immediate', '-w', '-t', '10'], 15_000);
      }
    }
  }

  /** Removes the clusters and settings (the servers must be stopped). */
  removeFiles(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The postgres user's passwd fields (the package creates it). */
function pgIds(): [number, number] {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'))?.split(':') ?? [];
  return [Number(line[2]), Number(line[3])];
}
const pgUid = (): number => pgIds()[0];
const pgGid = (): number => pgIds()[1];

/** The rows of `writes` on `node`: n -> node name. */
export async function rowsOn(node: PgNode): Promise<Map<number, string>> {
  const lines = await query(node, 'SELECT n, node FROM writes ORDER BY n');
  return new Map(lines.map((l) => { const [n, who] = l.split('|'); return [Number(n), who ?? '']; }));
}

/**
 * haagent.epoch on `node`: the promotions recorded, as "EPOCH|NODE" (each agent counts its own
 * epochs, so an epoch number names a takeover only together with the node).
 */
export async function epochsOn(node: PgNode): Promise<Set<string>> {
  return new Set(await query(node, 'SELECT epoch, node FROM haagent.epoch WHERE epoch IS NOT NULL'));
}

/** The replication mode the primary last recorded, as `node` sees it. */
export async function modeOn(node: PgNode): Promise<string | undefined> {
  return (await tryQuery(node, 'SELECT mode FROM haagent.sync_state'))?.[0];
}

/**
 * The replication-mode record as `node` holds it ("sync 2026-...", mode and when it was set),
 * to tell whether a standby has replayed the primary's latest switch, not an older one.
 */
export async function modeRecordOn(node: PgNode): Promise<string | undefined> {
  return (await tryQuery(node, "SELECT mode || ' ' || since FROM haagent.sync_state"))?.[0];
}

/** Whether `node` is a standby whose WAL receiver streams. */
export async function streams(node: PgNode): Promise<boolean> {
  return (await tryQuery(node, "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'"))?.[0] === '1';
}

/** 't' standby, 'f' primary, undefined when down. */
export async function inRecovery(node: PgNode): Promise<string | undefined> {
  return (await tryQuery(node, 'SELECT pg_is_in_recovery()', 'postgres'))?.[0];
}

export interface PgAgentOptions {
  readonly socket: string;
  /** Add the takeover keys (guards, guard-retry, cold-start). */
  readonly takeover: boolean;
  readonly coldStartTimeout?: string;
}

/** The haagent config of a database node: the VIP on ext0, heartbeats on int0, the example's hooks, check and guard. */
export function pgAgentYaml(node: PgNode, o: PgAgentOptions): string {
  const cmd = (name: string): string => `["${join(SCRIPTS, name)}", "${node.env}"]`;
  return `socket: ${o.socket}
instances:
  - name: db
    vrid: 61
    interface: int0
    external: ext0
    vips: ["${VIP}/24"]
    advert-interval: 300ms
    checks:
      - { name: postgres, type: exec, command: ${cmd('check')}, interval: 1s, timeout: 900ms, rise: 1, fall: 3 }
    hooks:
      before-master: { command: ${cmd('promote')}, timeout: 40s }
      backup: { command: ${cmd('demote')}, timeout: 60s }
      fault: { command: ${cmd('demote')}, timeout: 60s }
      stop: { command: ${cmd('demote')}, timeout: 30s }
` + (o.takeover ? `    guards:
      - { command: ${cmd('guard-fresh')}, timeout: 5s, name: fresh }
    guard-retry: 1s
    promotion-backoff: 3s
    cold-start: { wait-for-peer: true, timeout: ${o.coldStartTimeout ?? '5s'} }
` : '');
}
