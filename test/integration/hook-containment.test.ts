/**
 * Containment of hooks and exec checks in leaf cgroups (src/adapters/containment.ts), against
 * the real kernel: fixtures start descendants that leave the process group with setsid, one of
 * them orphaned at once (a daemon's double fork); after the timeout, nothing carrying the run's
 * marker may remain. The process-group fallback is shown failing on the orphaned daemon, which
 * is what the cgroup is for. Needs root and a writable cgroup v2 hierarchy; every cgroup it
 * creates is under a parent of its own, removed in the teardown.
 */
import t from 'tap';
import { chmodSync, existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HookRunner } from '../../src/daemon/hook-runner.js';
import { run as runExec } from '../../src/adapters/health/exec.js';
import { detectContainment, leavesOf, processGroupContainment } from '../../src/adapters/containment.js';
import { killMarked, markedProcesses, waitUntilUnmarked } from '../helpers/marked-processes.js';
import { sleep, waitFor } from '../helpers/wait.js';

const fixtures = fileURLToPath(new URL('../fixtures/hooks/', import.meta.url));
const script = (name: string): string => {
  chmodSync(join(fixtures, name), 0o755);
  return join(fixtures, name);
};
const base = { instance: 'web', vrid: 51, vips: ['192.0.2.10/24'] } as const;
const ctx = { from: 'BACKUP', to: 'MASTER', priority: 150 } as const;
const ownCgroup = (): string => readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::')) ?? '';

const parentName = `haagent-test-${process.pid}-${randomUUID().slice(0, 8)}`;
const containment = process.getuid?.() === 0 ? detectContainment(parentName) : undefined;
const skip = process.getuid?.() !== 0 ? 'needs root (creates cgroups and moves processes into them)'
  : !existsSync('/usr/bin/setsid') ? '/usr/bin/setsid (util-linux) is not installed'
    : containment?.mode !== 'cgroup' ? `no usable cgroup v2 here: ${containment?.detail ?? ''}`
      : false;

const readOr = (path: string): string => { try { return readFileSync(path, 'utf8'); } catch { return ''; } };
/** The fixtures' descendant is the one whose sh -c script sets a trap. */
const hasDaemon = (marker: string): boolean => markedProcesses(marker).some((pid) => readOr(`/proc/${pid}/cmdline`).includes('trap'));


t.test('hook and exec check containment in leaf cgroups', { skip }, async (t) => {
  if (containment === undefined) return;
  const parent = containment.detail;
  const home = ownCgroup();
  t.teardown(async () => {
    containment.dispose();
    // Should a test have failed and left processes behind, kill them with their leaves.
    for (const leaf of leavesOf(parent)) {
      try { writeFileSync(join(parent, leaf, 'cgroup.kill'), '1'); } catch { /* gone */ }
    }
    for (let tries = 0; tries < 50 && existsSync(parent); tries++) {
      for (const leaf of leavesOf(parent)) try { rmdirSync(join(parent, leaf)); } catch { /* still busy */ }
      try { rmdirSync(parent); } catch { await sleep(50); }
    }
  });

  t.test('a hook\'s setsid descendants, orphaned or not, are killed at its timeout', async (t) => {
    for (const fixture of ['setsid-grandchild.sh', 'daemonize.sh']) {
      const marker = `hc-${randomUUID()}`;
      t.teardown(() => killMarked(marker));
      const runner = new HookRunner({ master: { command: [script(fixture), marker], timeoutMs: 600 } }, base, {
        killGraceMs: 300, containment, environment: [{ name: 'HC_MARKER', value: marker }],
      });
      t.teardown(() => runner.close());
      const running = runner.run('master', ctx);
      await waitFor(`${fixture}: its descendant`, () => hasDaemon(marker));
      const marked = markedProcesses(marker);
      const cgroups = marked.map((pid) => readOr(`/proc/${pid}/cgroup`));
      t.ok(cgroups.every((c) => c === '' || c.includes(`/${parentName}/`)), `${fixture}: all ${marked.length} processes of the hook are in its leaf cgroup`);
      const result = await running;
      t.match(result, { timedOut: true, ok: false, containment: 'cgroup' }, `${fixture}: timed out`);
      t.same(await waitUntilUnmarked(marker), [], `${fixture}: no process of the hook remains`);
    }
  });

  t.test('contrast: the process-group fallback does not catch an orphaned setsid daemon', async (t) => {
    const marker = `hc-${randomUUID()}`;
    t.teardown(() => killMarked(marker));
    const runner = new HookRunner({ master: { command: [script('daemonize.sh'), marker], timeoutMs: 600 } }, base, {
      killGraceMs: 300, containment: processGroupContainment('for the test'),
    });
    t.teardown(() => runner.close());
    t.match(await runner.run('master', ctx), { timedOut: true, containment: 'process-group' });
    await sleep(300);
    t.not(markedProcesses(marker).length, 0, 'the daemon escaped (the documented limit of the fallback)');
  });

  t.test('close() kills a running hook\'s orphaned daemon too', async (t) => {
    const marker = `hc-${randomUUID()}`;
    t.teardown(() => killMarked(marker));
    const runner = new HookRunner({ master: { command: [script('daemonize.sh'), marker], timeoutMs: 60_000 } }, base, { containment });
    const running = runner.run('master', ctx);
    await waitFor('the daemon', () => hasDaemon(marker));
    await runner.close();
    t.match(await running, { signal: 'SIGKILL', containment: 'cgroup' });
    t.same(await waitUntilUnmarked(marker), [], 'nothing of the hook remains');
  });

  t.test('an exec check\'s orphaned setsid daemon is killed at the check\'s timeout', async (t) => {
    const marker = `hc-${randomUUID()}`;
    t.teardown(() => killMarked(marker));
    const check = { name: 'x', intervalMs: 2000, timeoutMs: 500, rise: 1, fall: 1, weight: 0, type: 'exec' as const, command: [script('daemonize.sh'), marker] };
    const r = await runExec(check, AbortSignal.timeout(500), { containment });
    t.match(r, { ok: false, detail: /timed out after 500 ms/ });
    t.same(await waitUntilUnmarked(marker), [], 'nothing of the check remains');
  });

  t.test('a hook that exits normally may leave a process behind; its leaf goes once that has ended', async (t) => {
    const marker = `hc-${randomUUID()}`;
    t.teardown(() => killMarked(marker));
    // /usr/bin/setsid itself, as a hook: it forks the sleep into a new session and exits 0 at once.
    const runner = new HookRunner({ master: { command: ['/usr/bin/setsid', '--fork', '/bin/sleep', '0.8'], timeoutMs: 5000 } }, base, {
      containment, environment: [{ name: 'HC_MARKER', value: marker }],
    });
    t.teardown(() => runner.close());
    t.match(await runner.run('master', ctx), { ok: true, containment: 'cgroup' });
    t.not(markedProcesses(marker).length, 0, 'the left-behind process was not killed');
    t.not(leavesOf(parent).length, 0, 'its leaf is kept while it runs');
    t.same(await waitUntilUnmarked(marker), [], 'it ends by itself');
    await waitFor('the leaf to be removed', () => leavesOf(parent).length === 0, 3000).catch(() => undefined);
    t.same(leavesOf(parent), [], 'then the leaf is removed');
  });

  t.test('the agent is back in its own cgroup and no leaf is left after the runs', async (t) => {
    await waitFor('leaves to be removed', () => leavesOf(parent).length === 0, 3000).catch(() => undefined);
    t.same(leavesOf(parent), []);
    t.equal(ownCgroup(), home);
  });
});
