/**
 * Connections survive a change of master with conntrack-sync (the real conntrackd, started and
 * supervised by the real agents), under a strict firewall (no mid-stream pickup): 50 long-lived
 * TCP flows through VIP:8080, balanced over echo servers on both hosts, each sending a line
 * every 10 ms and checking its echo.
 *
 * - planned switchover with sync: every flow continues, no reset, no lost or doubled line;
 * - crash of the master with sync: every flow whose real server is alive (h2) continues, the
 *   ones whose server died with h1 stall; the new master reports the commit and, in time, the
 *   dead sync link;
 * - the same two moves without sync: the flows are reset by the new master (so the feature is
 *   what makes them survive).
 */
import t, { type Test } from 'tap';
import type { LabCluster } from '../../src/lab/cluster.js';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';
import { ip } from '../../src/lab/sh.js';
import { FLOATING, FLOWS, runScenario, startEchoServers, strictHost, type Move, type ScenarioResult } from '../helpers/conntrack-lab.js';

let skip = skipReason({ needsDist: true });
if (skip === undefined) {
  try {
    for (const tool of ['nft', 'conntrackd', 'conntrack']) execFileSync(tool, ['--version'], { stdio: 'ignore' });
  } catch { skip = 'nft, conntrackd or conntrack is missing (.ci/run installs nftables, conntrackd and conntrack)'; }
}
if (skip !== undefined) {
  t.plan(0, `conntrack sync integration tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, withCluster } = labSuite(t, 'hact');
  let echo: ChildProcess[] = [];
  t.before(async () => {
    for (const h of topo.hosts) await strictHost(h);
    echo = startEchoServers(topo);
  });
  t.teardown(() => { for (const e of echo) e.kill('SIGKILL'); });

  /** Runs one scenario; afterwards the floating address is removed wherever it was left (a killed agent). */
  const scenario = (sync: boolean, move: Move, check: (t: Test, r: ScenarioResult, c: LabCluster) => Promise<void> | void): void => {
    t.test(`${move}, sync ${sync ? 'on' : 'off'}`, (t) => withCluster(async (c) => {
      try {
        // 500 ms adverts: a loaded machine can stall an agent for a few 100 ms adverts (a switchover
        // then falls back to the old master); the flows' verdict does not depend on the interval.
        const r = await runScenario(c, topo, { sync, move, advertInterval: '500ms' });
        t.ok((r.servers[h1.name] ?? 0) > 0 && (r.servers[h2.name] ?? 0) > 0, 'flows on both real servers', { servers: r.servers });
        t.ok(r.before.every((f) => f.error === null && f.mismatches === 0 && f.echoed > 0), 'every flow healthy before the move');
        await check(t, r, c);
      } finally {
        for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', `${FLOATING}/24`, 'dev', 'int0').catch(() => undefined);
      }
    }));
  };

  const onServer = (r: ScenarioResult, host: string): ScenarioResult['after'] => r.after.filter((f) => f.server === host);

  scenario(true, 'switchover', (t, r) => {
    const broken = r.after.filter((f) => !r.continued(f));
    t.same(broken, [], `all ${FLOWS} flows continue across the switchover (longest echo gap ${r.maxGapMs} ms)`, { old: logsOf(r.oldAgent, 30), new: logsOf(r.newAgent, 30) });
    t.equal(r.after.filter((f) => f.error !== null).length, 0, 'no reset');
    t.equal(r.after.reduce((n, f) => n + f.mismatches, 0), 0, 'no lost or doubled line');
    const ct = r.newMaster.instances[0]?.conntrackSync;
    t.match(ct, { running: true, lastCommit: { ok: true } }, 'the new master committed the peer\'s connections', { ct });
  });

  scenario(true, 'crash', async (t, r, c) => {
    const alive = onServer(r, h2.name);
    const dead = onServer(r, h1.name);
    t.same(alive.filter((f) => !r.continued(f)), [], `the ${alive.length} flows on h2's server continue after h1 crashed (longest gap ${r.maxGapMs} ms)`);
    t.ok(dead.length > 0 && dead.every((f) => !r.continued(f)), `the ${dead.length} flows on h1's server (dead with h1) do not`);
    t.match(r.newMaster.instances[0]?.conntrackSync, { lastCommit: { ok: true } }, 'commit reported');
    // The sync link is dead now (h1 is gone): status says so, not silence.
    const b = r.newAgent;
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.conntrackSync?.peerReachable === false, 10_000, 200), 'the new master reports the sync peer unreachable');
    t.ok(b.logs.some((l) => typeof l['msg'] === 'string' && l['msg'].includes('peer unreachable')), 'and logs it');
  });

  scenario(false, 'switchover', (t, r) => {
    const reset = r.after.filter((f) => f.error === 'ECONNRESET');
    t.ok(reset.length > 0, `without sync the new master resets the flows (${reset.length} of ${FLOWS} reset)`, { errors: r.after.map((f) => f.error) });
    t.ok(r.after.filter((f) => r.continued(f)).length < FLOWS, 'not every flow continues');
  });

  scenario(false, 'crash', (t, r) => {
    const alive = onServer(r, h2.name);
    t.ok(alive.length > 0 && alive.every((f) => !r.continued(f)), 'without sync even the flows on the surviving server do not continue');
    t.ok(alive.some((f) => f.error === 'ECONNRESET'), 'they are reset by the new master', { errors: alive.map((f) => f.error) });
  });
}
