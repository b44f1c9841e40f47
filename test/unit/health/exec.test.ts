import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { STDERR_TAIL_BYTES, run } from '../../../src/adapters/health/exec.js';
import { execCheck, neverSignal, timeoutSignal } from './helpers.js';

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
