import t from 'tap';
import { chmodSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { STDERR_TAIL_BYTES, run } from '../../../src/adapters/health/exec.js';
import { execCheck, neverSignal, timeoutSignal } from './helpers.js';
import { SAFE_PATH } from '../../../src/adapters/child-env.js';
import { processGroupContainment, sharedContainment } from '../../../src/adapters/containment.js';
import { killMarked, waitUntilUnmarked } from '../../helpers/marked-processes.js';
import { HealthMonitor, type HealthResultEvent } from '../../../src/daemon/health-monitor.js';

/** True once `pid` is gone or a zombie about to be reaped by init (bounded wait). */
async function gone(pid: number, withinMs = 2000): Promise<boolean> {
  for (let waited = 0; waited <= withinMs; waited += 20) {
    let state: string | undefined;
    try {
      state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    } catch {
      return true;
    }
    if (state === 'Z' || state === 'X') return true;
    await sleep(20);
  }
  return false;
}

async function pidFrom(path: string, withinMs = 2000): Promise<number> {
  for (let waited = 0; waited <= withinMs; waited += 10) {
    try {
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (pid > 0) return pid;
    } catch { /* not written yet */ }
    await sleep(10);
  }
  throw new Error(`no pid in ${path}`);
}

t.test('/bin/true is healthy', async (t) => {
  const r = await run(execCheck(['/bin/true']), neverSignal());
  t.same({ ok: r.ok, detail: r.detail }, { ok: true, detail: '/bin/true: exit 0' });
});

t.test('/bin/false fails with its exit code', async (t) => {
  const r = await run(execCheck(['/bin/false']), neverSignal());
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: '/bin/false: exit 1' });
});

t.test('the tail of stderr is in the failure detail', async (t) => {
  const script = `printf 'x%.0s' $(seq 1 500) >&2; echo ' disk full' >&2; exit 3`;
  const r = await run(execCheck(['/bin/sh', '-c', script]), neverSignal());
  t.equal(r.ok, false);
  t.match(r.detail, /: exit 3: x+ disk full$/);
  const tail = r.detail.split(': exit 3: ')[1] ?? '';
  t.ok(tail.length <= STDERR_TAIL_BYTES, `at most ${STDERR_TAIL_BYTES} bytes of stderr (${tail.length})`);
});

t.test('arguments are passed without a shell', async (t) => {
  const r = await run(execCheck(['/bin/sh', '-c', 'test "$0" = "a b;c"', 'a b;c']), neverSignal());
  t.equal(r.ok, true, r.detail);
});

t.test('a missing program fails with ENOENT', async (t) => {
  const r = await run(execCheck(['/nonexistent/check']), neverSignal());
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: '/nonexistent/check: ENOENT' });
});

t.test('/bin/sleep 5 with a 200 ms timeout: timed out, and the process is gone', async (t) => {
  const pidFile = join(t.testdir({}), 'pid');
  const cmd = ['/bin/sh', '-c', `echo $$ > ${pidFile}; exec /bin/sleep 5`];
  const r = await run(execCheck(cmd, { timeoutMs: 200 }), timeoutSignal(200));
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: `${cmd.join(' ')}: timed out after 200 ms` });
  const pid = await pidFrom(pidFile);
  t.ok(await gone(pid), `process ${pid} is gone`);
});

t.test('on timeout the children of the check die with it (process group)', async (t) => {
  const pidFile = join(t.testdir({}), 'pid');
  const cmd = ['/bin/sh', '-c', `/bin/sleep 5 & echo $! > ${pidFile}; wait`];
  const r = await run(execCheck(cmd, { timeoutMs: 200 }), timeoutSignal(200));
  t.match(r.detail, /timed out after 200 ms$/);
  const pid = await pidFrom(pidFile);
  t.ok(await gone(pid), `grandchild ${pid} is gone`);
});

t.test('a check that exits but leaves a child holding stderr: its exit status decides at the timeout', async (t) => {
  const pidFile = join(t.testdir({}), 'pid');
  const cmd = ['/bin/sh', '-c', `/bin/sleep 5 & echo $! > ${pidFile}; exit 0`];
  const r = await run(execCheck(cmd, { timeoutMs: 200 }), timeoutSignal(200));
  t.same({ ok: r.ok, detail: r.detail }, { ok: true, detail: `${cmd.join(' ')}: exit 0` });
  t.ok(await gone(await pidFrom(pidFile)), 'the left-behind child was killed');
});

const envFixture = fileURLToPath(new URL('../../fixtures/hooks/env-all.sh', import.meta.url));
chmodSync(envFixture, 0o755);

function envFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

t.test('environment: a check gets the fixed PATH, LANG and the listed names; not the agent\'s secrets', async (t) => {
  const secret = `s3cret-${randomUUID()}`;
  const saved = { secret: process.env['HC_CHECK_SECRET'], listed: process.env['HC_CHECK_LISTED'] };
  process.env['HC_CHECK_SECRET'] = secret;
  process.env['HC_CHECK_LISTED'] = 'passed';
  t.teardown(() => {
    if (saved.secret === undefined) delete process.env['HC_CHECK_SECRET']; else process.env['HC_CHECK_SECRET'] = saved.secret;
    if (saved.listed === undefined) delete process.env['HC_CHECK_LISTED']; else process.env['HC_CHECK_LISTED'] = saved.listed;
  });
  const out = join(t.testdir(), 'env.txt');
  const r = await run(execCheck([envFixture, out]), neverSignal(), {
    environment: [{ name: 'HC_CHECK_LISTED' }, { name: 'HC_CHECK_LITERAL', value: 'x y' }],
  });
  t.equal(r.ok, true, r.detail);
  t.notMatch(readFileSync(out, 'utf8'), secret, 'the secret value appears nowhere in the check\'s environment');
  const env = envFile(out);
  t.equal(env['PATH'], SAFE_PATH);
  t.ok(env['LANG'] !== undefined && env['LANG'] !== '', 'LANG is set');
  t.equal(env['HC_CHECK_LISTED'], 'passed');
  t.equal(env['HC_CHECK_LITERAL'], 'x y');
  t.notOk('HC_CHECK_SECRET' in env);
  t.same(Object.keys(env).filter((k) => k.startsWith('HAAGENT_')), [], 'checks get no HAAGENT_* (those describe a transition)');
});

t.test('on timeout a descendant that left the process group dies too (cgroup), or is found by parent links (fallback)', async (t) => {
  const marker = `hc-exec-${randomUUID()}`;
  t.teardown(() => killMarked(marker));
  const fixture = fileURLToPath(new URL('../../fixtures/hooks/setsid-grandchild.sh', import.meta.url));
  chmodSync(fixture, 0o755);
  for (const containment of [sharedContainment(), processGroupContainment('for the test')]) {
    const started = Date.now();
    const running = run(execCheck([fixture, marker], { timeoutMs: 400 }), timeoutSignal(400), { containment });
    const r = await running;
    t.match(r, { ok: false, detail: /timed out after 400 ms/ }, `${containment.mode}: timed out`);
    t.ok(Date.now() - started < 3000, 'the check resolved soon after its timeout');
    t.same(await waitUntilUnmarked(marker), [], `${containment.mode}: nothing of the check is left`);
  }
});

t.test('the health monitor runs exec checks with the environment it was given', async (t) => {
  const out = join(t.testdir(), 'env.txt');
  const m = new HealthMonitor([execCheck([envFixture, out], { name: 'env', intervalMs: 60_000, timeoutMs: 2000 })], 100, {
    clock: () => performance.now(), linkState: async () => ({ up: true, running: true }),
    exec: { environment: [{ name: 'HC_MONITOR_LITERAL', value: 'from-the-instance' }] },
  });
  t.teardown(() => m.stop());
  const result = new Promise<HealthResultEvent>((resolve) => m.once('result', resolve));
  m.start();
  t.equal((await result).result.ok, true);
  t.equal(envFile(out)['HC_MONITOR_LITERAL'], 'from-the-instance');
});
