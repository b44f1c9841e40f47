/**
 * The contract of the PostgreSQL example scripts that holds without a database: each prints a
 * usage line without its settings file, names a missing setting, and refuses a settings file
 * that others could write (it is sourced as shell). Needs only sh; no root, no PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SCRIPTS } from '../helpers/postgres.js';

const scripts = ['init-primary', 'init-standby', 'start', 'check', 'guard-fresh', 'promote', 'demote', 'rejoin'];
const dir = mkdtempSync(join(tmpdir(), 'haagent-pg-scripts-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const run = (name: string, ...args: string[]): { code: number | null; err: string } => {
  const r = spawnSync(join(SCRIPTS, name), args, { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, err: r.stderr };
};

const full = ['PG_BIN=/usr/lib/postgresql/15/bin', 'PGDATA=/nonexistent/data', 'PG_SOCKET_DIR=/nonexistent/sock', 'PG_NODE_NAME=a',
  'PG_PEER_HOST=192.0.2.2', 'PG_PASSFILE=/nonexistent/pgpass', 'PG_REPL_NET=192.0.2.0/24', 'PG_STATE_DIR=/nonexistent/state',
  'PG_LOG_FILE=/nonexistent/log'];

for (const name of scripts) {
  t.test(name, async (t) => {
    const usage = run(name);
    t.equal(usage.code, 2, 'no settings file: exit 2');
    t.match(usage.err, new RegExp(`^usage: ${name} SETTINGS-FILE`), 'a usage line');
    const missing = join(dir, `${name}-missing.env`);
    writeFileSync(missing, full.filter((l) => !l.startsWith('PG_PEER_HOST=')).join('\n'), { mode: 0o600 });
    const m = run(name, missing);
    t.equal(m.code, 1, 'a missing setting: exit 1');
    t.match(m.err, `${name}: PG_PEER_HOST is not set in ${missing}`, 'the missing setting is named');
    const open = join(dir, `${name}-open.env`);
    writeFileSync(open, full.join('\n'));
    chmodSync(open, 0o666);
    const o = run(name, open);
    t.equal(o.code, 1, 'a world-writable settings file: exit 1');
    t.match(o.err, /writable by group or others: refusing to source it/);
    t.match(run(name, join(dir, 'absent.env')).err, /does not exist/);
  });
}
