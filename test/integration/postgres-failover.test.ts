/**
 * A real PostgreSQL 15 primary and synchronous standby behind the VIP, run by haagent with the
 * hooks, check and guard of examples/postgresql/, and a client writing numbered rows through the
 * VIP. Every case asserts, on the node that serves afterwards: no acknowledged write is missing
 * (except where the case says which ones may be, and why), every acknowledged write was taken by
 * the node that held the epoch it carries (so by a MASTER), and after a rejoin both nodes hold
 * the same rows.
 *
 * The lagging-standby and cold-start cases need the takeover interface (guards, cold-start,
 * `haagent promote --force`); without it they fail at their first assertion, saying so.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import type { Test } from 'tap';
import { distPath, type LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { ip } from '../../src/lab/sh.js';
import type { LabHost } from '../../src/lab/topology.js';
import { labSuite, logsOf } from '../helpers/lab.js';
import {
  PgWriter, destroyPair, inNs, SCRIPTS, epochsOn, inRecovery, killCluster, modeOn, modeRecordOn, pgAgentYaml, pgSkipReason, rowsOn, script, streams, testPair,
  type PgNode, type WriteResult,
} from '../helpers/postgres.js';
import { skipReason } from '../helpers/root.js';
import { sleep } from '../helpers/wait.js';

const skip = skipReason({ needsDist: true }) ?? pgSkipReason();
if (skip !== undefined) {
  t.plan(0, `PostgreSQL failover tests skipped: ${skip}`);
} else {
  const suite = labSuite(t, 'hapg');
  const { topo, h1, h2 } = suite;
  const tag = String(process.pid);
  mkdirSync('/run/haagent-lab', { recursive: true, mode: 0o700 });
  t.teardown(() => {
    for (const f of readdirSync('/run/haagent-lab')) if (f.startsWith(`${topo.prefix}-`)) rmSync(join('/run/haagent-lab', f), { recursive: true, force: true });
  });

  const cli = (...args: string[]): { code: number | null; out: string } => {
    const r = spawnSync(process.execPath, [distPath('cli', 'main.js'), ...args], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };

  /** Whether this build accepts the takeover keys (guards, cold-start): check-config on a config that has them. */
  const takeoverSupported = ((): boolean => {
    const file = `/run/haagent-lab/hapg-${tag}-probe.yaml`;
    const fake = { host: h1, peer: h2, name: 'probe', dir: '/', env: '/nonexistent.env', data: '/', socketDir: '/', stateDir: '/', log: '/' } satisfies PgNode;
    writeFileSync(file, pgAgentYaml(fake, { socket: '/run/haagent-lab/probe.sock', takeover: true }));
    const ok = cli('check-config', file).code === 0;
    spawnSync('rm', ['-f', file]);
    return ok;
  })();
  const NEEDS_TAKEOVER = 'the agent accepts guards, cold-start and `promote --force` (the takeover interface; not in this build)';

  interface Db {
    readonly c: LabCluster;
    readonly pair: ReturnType<typeof testPair>;
    readonly n1: PgNode;
    readonly n2: PgNode;
    agents: Map<LabHost, RunningAgent>;
  }

  const startAgent = (db: Db, node: PgNode, takeover: boolean): RunningAgent => {
    const file = db.c.configPath(node.host);
    writeFileSync(file, pgAgentYaml(node, { socket: db.c.socketPath(node.host), takeover }));
    const a = db.c.startAgent(node.host, ['--config', file]);
    db.agents.set(node.host, a);
    return a;
  };

  const stateIs = (db: Db, a: RunningAgent, s: string, ms = 20_000): Promise<boolean> =>
    db.c.waitFor(async () => (await db.c.stateOf(a)) === s, ms, 100);

  /** h1's agent first (it becomes MASTER on the primary), then h2's; waits until the primary runs synchronously. */
  const checksOf = async (db: Db, a: RunningAgent): Promise<string> =>
    JSON.stringify((await db.c.status(a).catch(() => undefined))?.instances[0]?.checks.map((c) => c.lastResult?.detail));

  async function startPair(t: Test, db: Db, takeover: boolean): Promise<[RunningAgent, RunningAgent]> {
    const a1 = startAgent(db, db.n1, takeover);
    t.ok(await stateIs(db, a1, 'MASTER'), 'h1 (the primary) becomes MASTER', { logs: logsOf(a1) });
    const a2 = startAgent(db, db.n2, takeover);
    t.ok(await stateIs(db, a2, 'BACKUP'), 'h2 (the standby) is BACKUP', { logs: logsOf(a2) });
    t.ok(await db.c.waitFor(async () => (await modeOn(db.n1)) === 'sync' && (await modeOn(db.n2)) === 'sync', 15_000, 200),
      'the primary switched to synchronous replication, and the standby has that record', { logs: logsOf(a1, 30), checks: await checksOf(db, a1) });
    return [a1, a2];
  }

  async function withDb(fn: (db: Db) => Promise<void>): Promise<void> {
    await suite.withCluster(async (c) => {
      const pair = testPair([h1, h2], tag);
      try {
        // A test before may have cut a link while the nodes talked: a neighbour entry left
        // FAILED makes the next connection fail at once with "No route to host" (seen in CI:
        // pg_basebackup right after a test that took h2's ext0 down and up). Start clean.
        for (const h of [h1, h2]) await ip('-n', h.ns, 'neigh', 'flush', 'all');
        await pair.create();
        const [n1, n2] = pair.nodes;
        await fn({ c, pair, n1, n2, agents: new Map() });
      } finally {
        await c.stopAll();
        await destroyPair(pair);
      }
    });
  }

  /** The agent killed -9, every process of its database killed, both links down. */
  async function powerLoss(db: Db, node: PgNode): Promise<void> {
    db.agents.get(node.host)?.child.kill('SIGKILL');
    killCluster(node);
    await topo.linksDown(node.host);
  }

  /** Acknowledged writes missing on `node`, and acknowledged writes present there but not taken by the latest promoted node under its epoch. */
  async function check(node: PgNode, acked: readonly WriteResult[]): Promise<{ missing: number[]; foreign: WriteResult[]; rows: number }> {
    const rows = await rowsOn(node);
    const epochs = await epochsOn(node);
    return {
      missing: acked.filter((r) => !rows.has(r.n)).map((r) => r.n),
      foreign: acked.filter((r) => rows.has(r.n)).filter((r) => r.epoch === null || r.epoch === undefined || r.holder !== r.node || !epochs.has(`${r.epoch}|${r.node ?? ''}`) || rows.get(r.n) !== r.node),
      rows: rows.size,
    };
  }

  async function assertServes(t: Test, node: PgNode, w: PgWriter, what: string): Promise<void> {
    const acked = w.acknowledged;
    const r = await check(node, acked);
    t.ok(acked.length > 0, `${what}: writes were acknowledged (${acked.length})`);
    t.same(r.missing, [], `${what}: no acknowledged write missing on ${node.host.name} (${acked.length} acknowledged, ${r.rows} rows)`);
    t.same(r.foreign, [], `${what}: every acknowledged write was taken by the node holding its epoch (a MASTER)`);
  }

  async function assertSameRows(t: Test, a: PgNode, b: PgNode): Promise<void> {
    let last = '';
    const same = await new Promise<boolean>((resolve) => {
      const until = performance.now() + 15_000;
      const poll = async (): Promise<void> => {
        const [ra, rb] = await Promise.all([rowsOn(a).catch(() => new Map()), rowsOn(b).catch(() => new Map())]);
        last = `${a.host.name} ${ra.size} rows, ${b.host.name} ${rb.size} rows`;
        if (ra.size > 0 && ra.size === rb.size && [...ra].every(([n, who]) => rb.get(n) === who)) { resolve(true); return; }
        if (performance.now() > until) { resolve(false); return; }
        setTimeout(() => void poll(), 200);
      };
      void poll();
    });
    t.ok(same, `both nodes hold the same rows (${last})`);
  }

  const waitAck = (db: Db, w: PgWriter, afterMs: number, node: PgNode, ms = 20_000): Promise<boolean> =>
    db.c.waitFor(() => w.ackedAfter(afterMs, node.name) !== undefined, ms, 50);

  t.test('crash of the master: the synchronous standby takes over with every acknowledged write; the old master rejoins', (t) => withDb(async (db) => {
    const [a1, a2] = await startPair(t, db, takeoverSupported);
    const w = new PgWriter(topo.client);
    try {
      t.ok(await waitAck(db, w, 0, db.n1), 'the client writes through the VIP to h1');
      await sleep(1500);
      const faultAt = w.nowMs();
      await powerLoss(db, db.n1);
      t.ok(await stateIs(db, a2, 'MASTER'), 'h2 takes over', { logs: logsOf(a2) });
      t.ok(await waitAck(db, w, faultAt, db.n2), 'writes are acknowledged by h2');
      const first = w.ackedAfter(faultAt, db.n2.name);
      t.comment(`write gap (power loss -> first write acknowledged by h2): ${first === undefined ? '?' : first.t - faultAt} ms`);
      await sleep(1000);
    } finally {
      await w.stop();
    }
    await assertServes(t, db.n2, w, 'after the crash');
    t.comment(`acknowledged writes: ${w.acknowledged.length}, lost: ${(await check(db.n2, w.acknowledged)).missing.length}`);

    // Power back: the old master's server starts as a standby, its agent comes up BACKUP and
    // the backup hook rewinds it onto h2.
    await topo.linksUp(db.n1.host);
    await script(db.n1, 'start');
    const b1 = startAgent(db, db.n1, takeoverSupported);
    t.ok(await stateIs(db, b1, 'BACKUP'), 'the old master comes back as BACKUP', { logs: logsOf(b1) });
    t.ok(await db.c.waitFor(() => streams(db.n1), 40_000, 300), 'the old master rejoined as a streaming standby (pg_rewind)', { log: logsOf(b1, 40) });
    t.equal(await inRecovery(db.n1), 't', 'the old master is in recovery');
    const w2 = new PgWriter(topo.client, 100_000);
    await waitAck(db, w2, 0, db.n2);
    await sleep(500);
    await w2.stop();
    t.ok(await db.c.waitFor(async () => (await modeOn(db.n1)) === 'sync', 15_000, 200), 'h2 runs synchronously again with h1 as its standby');
    await assertServes(t, db.n2, w2, 'after the rejoin');
    await assertSameRows(t, db.n1, db.n2);
    void a1;
  }));

  t.test('switchover both ways: no acknowledged write lost, each old primary rejoins', (t) => withDb(async (db) => {
    const [a1, a2] = await startPair(t, db, takeoverSupported);
    const w = new PgWriter(topo.client);
    try {
      t.ok(await waitAck(db, w, 0, db.n1), 'the client writes to h1');
      const s1 = w.nowMs();
      t.match(cli('switchover', '--socket', a1.socket).out, /handing over/);
      t.ok(await stateIs(db, a2, 'MASTER'), 'h2 is MASTER after the switchover', { logs: logsOf(a2) });
      t.ok(await waitAck(db, w, s1, db.n2), 'writes go to h2');
      t.ok(await db.c.waitFor(() => streams(db.n1), 40_000, 300), 'h1 rejoined as a standby of h2', { logs: logsOf(a1, 40) });
      t.ok(await db.c.waitFor(async () => (await modeOn(db.n2)) === 'sync' && (await modeOn(db.n1)) === 'sync', 15_000, 200), 'h2 runs synchronously');
      const gap1 = (w.ackedAfter(s1, db.n2.name)?.t ?? NaN) - s1;
      const s2 = w.nowMs();
      t.match(cli('switchover', '--socket', a2.socket).out, /handing over/);
      t.ok(await stateIs(db, a1, 'MASTER'), 'h1 is MASTER again', { logs: logsOf(a1) });
      t.ok(await waitAck(db, w, s2, db.n1), 'writes go to h1');
      t.ok(await db.c.waitFor(() => streams(db.n2), 40_000, 300), 'h2 rejoined as a standby of h1', { logs: logsOf(a2, 40) });
      const gap2 = (w.ackedAfter(s2, db.n1.name)?.t ?? NaN) - s2;
      t.comment(`write gap: switchover h1->h2 ${gap1} ms, h2->h1 ${gap2} ms`);
      await sleep(500);
    } finally {
      await w.stop();
    }
    await assertServes(t, db.n1, w, 'after two switchovers');
    await assertSameRows(t, db.n1, db.n2);
  }));

  t.test('a standby that caught up after a lag takes over without loss', (t) => withDb(async (db) => {
    const [, a2] = await startPair(t, db, takeoverSupported);
    const w = new PgWriter(topo.client);
    try {
      t.ok(await waitAck(db, w, 0, db.n1), 'the client writes to h1');
      await ip('-n', db.n2.host.ns, 'link', 'set', 'ext0', 'down');
      t.ok(await db.c.waitFor(async () => (await modeOn(db.n1)) === 'async', 20_000, 200), 'the primary went asynchronous without its standby');
      const asyncAt = w.nowMs();
      t.ok(await waitAck(db, w, asyncAt, db.n1), 'writes go on while the standby is away');
      await ip('-n', db.n2.host.ns, 'link', 'set', 'ext0', 'up');
      // The standby still holds the 'sync' record of before the cut until it has replayed the
      // primary's 'async' one: wait for the primary's latest record, replayed on the standby.
      t.ok(await db.c.waitFor(async () => {
        const primary = await modeRecordOn(db.n1);
        return primary !== undefined && primary.startsWith('sync ') && (await modeRecordOn(db.n2)) === primary;
      }, 30_000, 200), 'the standby caught up and the primary is synchronous again');
      await sleep(1000);
      await powerLoss(db, db.n1);
      const faultAt = w.nowMs();
      t.ok(await stateIs(db, a2, 'MASTER'), 'h2 takes over', { logs: logsOf(a2) });
      t.ok(await waitAck(db, w, faultAt, db.n2), 'writes go to h2', { errors: w.results.slice(-3), logs: logsOf(a2, 15) });
      await sleep(500);
    } finally {
      await w.stop();
    }
    await assertServes(t, db.n2, w, 'after catching up');
  }));

  t.test('guard-fresh, run by hand: the primary passes; a standby is refused without a master heard, after a lag, after an async announcement', (t) => withDb(async (db) => {
    const guard = async (silentMs?: number): Promise<{ code: number; out: string }> =>
      inNs(db.n2.host.ns, join(SCRIPTS, 'guard-fresh'), [db.n2.env], 20_000, silentMs === undefined ? {} : { HAAGENT_MASTER_SILENT_MS: String(silentMs) });
    await script(db.n1, 'promote', { HAAGENT_EPOCH: '1' });
    await script(db.n1, 'check');
    t.equal(await modeOn(db.n1), 'sync', 'the check turned synchronous replication on');
    t.ok(await db.c.waitFor(async () => (await modeOn(db.n2)) === 'sync', 10_000, 100), 'the standby has the sync record');
    await script(db.n2, 'check');
    const fresh = await guard(0);
    t.equal(fresh.code, 0, `a streaming standby with the sync record is fresh: ${fresh.out}`);
    t.match((await guard()).out, /no master was heard since boot/, 'no master heard: refused');
    const onPrimary = await inNs(db.n1.host.ns, join(SCRIPTS, 'guard-fresh'), [db.n1.env], 20_000);
    t.match(onPrimary, { code: 0, out: /this node is the primary and the peer is not/ }, 'the primary passes (first start) while the peer is a standby');

    await ip('-n', db.n2.host.ns, 'link', 'set', 'ext0', 'down');
    t.ok(await db.c.waitFor(async () => { await script(db.n1, 'check'); return (await modeOn(db.n1)) === 'async'; }, 20_000, 500),
      'without its standby the primary went asynchronous');
    const lagging = await guard(0);
    t.match(lagging, { code: 1, out: /refused: the last WAL message came \d+ ms before the master went silent/ }, `a standby cut off for longer than the window is refused: ${lagging.out}`);

    await ip('-n', db.n2.host.ns, 'link', 'set', 'ext0', 'up');
    t.ok(await db.c.waitFor(async () => (await modeOn(db.n2)) === 'async' && await streams(db.n2), 30_000, 200), 'the standby streams again and has the async record');
    await script(db.n2, 'check');
    t.match(await guard(0), { code: 1, out: /announced asynchronous replication/ }, 'while the primary runs asynchronously the standby is refused');
    await script(db.n1, 'check');
    t.ok(await db.c.waitFor(async () => (await modeOn(db.n2)) === 'sync', 10_000, 100), 'synchronous again, and the standby has the record');
    await script(db.n2, 'check');
    t.match(await guard(0), { code: 0, out: /fresh: mode sync/ }, 'fresh again');
  }));

  t.test('a standby lagging beyond the limit does not take over until promote --force', (t) => withDb(async (db) => {
    if (!t.ok(takeoverSupported, NEEDS_TAKEOVER)) return;
    const [, a2] = await startPair(t, db, true);
    const w = new PgWriter(topo.client);
    let cutAt = 0;
    try {
      t.ok(await waitAck(db, w, 0, db.n1), 'the client writes to h1');
      cutAt = w.nowMs();
      await ip('-n', db.n2.host.ns, 'link', 'set', 'ext0', 'down');
      t.ok(await db.c.waitFor(async () => (await modeOn(db.n1)) === 'async', 20_000, 200), 'the primary went asynchronous without its standby');
      t.ok(await waitAck(db, w, w.nowMs(), db.n1), 'writes are acknowledged by h1 alone');
      await sleep(500);
      await powerLoss(db, db.n1);
      await ip('-n', db.n2.host.ns, 'link', 'set', 'ext0', 'up');
      await sleep(6000);
      t.not(await db.c.stateOf(a2), 'MASTER', 'the lagging standby holds: not MASTER 6 s after the master died', { logs: logsOf(a2) });
      t.notOk(await suite.hasVip(db.n2.host), 'the VIP stays down');
      const st = await db.c.status(a2) as unknown as { instances: Array<{ takeover?: { blocked?: boolean; reason?: string; detail?: string } }> };
      t.match(st.instances[0]?.takeover, { blocked: true, reason: 'guard' }, 'status says the guard blocks the takeover');
      t.equal(await inRecovery(db.n2), 't', 'h2 is still a standby');
      const forcedAt = w.nowMs();
      const forced = cli('promote', '--force', '--socket', a2.socket);
      t.equal(forced.code, 0, `promote --force is accepted: ${forced.out}`);
      t.ok(await stateIs(db, a2, 'MASTER'), 'h2 is MASTER after promote --force');
      t.ok(await waitAck(db, w, forcedAt, db.n2), 'writes go to h2');
      await sleep(500);
    } finally {
      await w.stop();
    }
    const r = await check(db.n2, w.acknowledged);
    t.ok(r.missing.every((n) => (w.results.find((x) => x.n === n)?.t ?? 0) > cutAt), 'only writes acknowledged after the standby was cut are missing (the async window)');
    t.same(r.foreign, [], 'every write h2 holds was taken under its writer\'s epoch');
    t.comment(`forced takeover of a lagging standby: ${w.acknowledged.length} acknowledged, ${r.missing.length} lost (all acknowledged by h1 alone after the cut)`);
  }));

  t.test('cold start of one node alone: no takeover until promote --force, then every acknowledged write is there', (t) => withDb(async (db) => {
    if (!t.ok(takeoverSupported, NEEDS_TAKEOVER)) return;
    const [a1, a2] = await startPair(t, db, true);
    const w = new PgWriter(topo.client);
    try {
      t.ok(await waitAck(db, w, 0, db.n1), 'the client writes to h1');
      await sleep(1000);
    } finally {
      await w.stop();
    }
    // Both nodes shut down cleanly: the standby's agent, the primary's agent (its stop hook
    // stops the primary), then the standby's server.
    a2.child.kill('SIGTERM');
    await a2.exited;
    a1.child.kill('SIGTERM');
    await a1.exited;
    spawnSync('ip', ['netns', 'exec', db.n2.host.ns, 'runuser', '-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/pg_ctl', 'stop', '-D', db.n2.data, '-m', 'fast', '-w']);
    await topo.linksDown(db.n1.host);
    // Only h2 comes back.
    await script(db.n2, 'start');
    const b2 = startAgent(db, db.n2, true);
    await sleep(8000);
    t.not(await db.c.stateOf(b2), 'MASTER', 'alone after a cold start, h2 does not take over by itself', { logs: logsOf(b2) });
    t.notOk(await suite.hasVip(db.n2.host), 'the VIP stays down');
    const forced = cli('promote', '--force', '--socket', b2.socket);
    t.equal(forced.code, 0, `promote --force is accepted: ${forced.out}`);
    t.ok(await stateIs(db, b2, 'MASTER'), 'h2 is MASTER after promote --force', { logs: logsOf(b2) });
    const w2 = new PgWriter(topo.client, 100_000);
    t.ok(await waitAck(db, w2, 0, db.n2), 'h2 accepts writes');
    await w2.stop();
    await assertServes(t, db.n2, w, 'after the cold start (writes before the shutdown)');
    await assertServes(t, db.n2, w2, 'after the cold start (writes after it)');
  }));
}
