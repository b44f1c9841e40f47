import t, { type Test } from 'tap';
import { chmodSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { HookRunner, type HookResult } from '../../../src/daemon/hook-runner.js';
import type { HooksConfig } from '../../../src/core/config/types.js';
import { DEFAULT_LANG, SAFE_PATH } from '../../../src/adapters/child-env.js';
import { processGroupContainment } from '../../../src/adapters/containment.js';
import { killMarked, markedProcesses, waitUntilUnmarked } from '../../helpers/marked-processes.js';
import { waitFor } from '../../helpers/wait.js';

const fixtures = fileURLToPath(new URL('../../fixtures/hooks/', import.meta.url));
// git may lose the executable bit; the agent execs the scripts directly (no shell).
for (const name of readdirSync(fixtures)) if (name.endsWith('.sh')) chmodSync(join(fixtures, name), 0o755);
const script = (name: string): string => join(fixtures, name);

const base = { instance: 'web', vrid: 51, vips: ['192.0.2.10/24', '2001:db8::10/64'] } as const;
const ctx = { from: 'BACKUP', to: 'MASTER', priority: 150 } as const;



async function readPid(path: string): Promise<number> {
  await waitFor(path, () => existsSync(path));
  return Number(readFileSync(path, 'utf8').trim());
}

/**
 * True when `pid` no longer exists: process.kill(pid, 0) throws ESRCH. A killed grandchild is
 * re-parented to PID 1, and a container's PID 1 may never reap it; a zombie has already died,
 * so it counts as gone too.
 */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function parseEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

t.test('environment: hook, instance, vrid, states, VIPs, priority and (only when given) epoch', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'env.txt');
  const runner = new HookRunner({ master: { command: [script('env.sh'), out], timeoutMs: 5000 } }, base);
  t.teardown(() => runner.close());

  const result = await runner.run('master', { ...ctx, epoch: 7 });
  t.match(result, { hook: 'master', command: [script('env.sh'), out], exitCode: 0, signal: null, timedOut: false, ok: true });
  t.notOk(result && 'error' in result, 'no error field when the hook ran');
  t.same(parseEnvFile(out), {
    HAAGENT_EPOCH: '7',
    HAAGENT_HOOK: 'master',
    HAAGENT_INSTANCE: 'web',
    HAAGENT_OLD_STATE: 'BACKUP',
    HAAGENT_PRIORITY: '150',
    HAAGENT_STATE: 'MASTER',
    HAAGENT_VIPS: '192.0.2.10/24,2001:db8::10/64',
    HAAGENT_VRID: '51',
  });

  await runner.run('master', { from: 'MASTER', to: 'MASTER', priority: 0 });
  const second = parseEnvFile(out);
  t.equal(second['HAAGENT_EPOCH'], undefined, 'no HAAGENT_EPOCH when no epoch is given');
  t.equal(second['HAAGENT_PRIORITY'], '0');

  runner.setVips(['192.0.2.11/24']); // a reload changed the VIP list in place
  await runner.run('master', ctx);
  t.equal(parseEnvFile(out)['HAAGENT_VIPS'], '192.0.2.11/24', 'later runs see the new VIPs');
});

/**
 * tap's coverage support wraps child_process.spawn and adds its own variables to every child
 * (_TAPJS_PROCESSINFO_*, and NODE_OPTIONS loading its hook): not the agent's doing.
 */
function withoutTapInjection(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k, v]) =>
    !k.startsWith('_TAPJS_PROCESSINFO_') && !(k === 'NODE_OPTIONS' && v.includes('@tapjs/processinfo'))));
}

/** Sets agent environment variables for one test; the teardown restores the old values. */
function setAgentEnv(t: Test, vars: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>): void => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  apply(vars);
  t.teardown(() => apply(saved));
}

t.test('environment: nothing of the agent\'s own environment reaches a hook unless listed', async (t) => {
  const secret = `s3cret-${randomUUID()}`;
  setAgentEnv(t, {
    HC_TEST_SECRET: secret, NOTIFY_SOCKET: '/run/systemd/notify', HC_TEST_LISTED: 'from-the-agent',
    HC_TEST_ABSENT: undefined, PATH: `/tmp/evil:${process.env['PATH'] ?? ''}`, LANG: 'de_DE.UTF-8',
  });
  const runner = new HookRunner({ master: { command: ['/usr/bin/env'], timeoutMs: 5000 } }, base, {
    // Room for the whole output: under tap the child also gets tap's (long) variables.
    outputTailBytes: 1 << 20,
    environment: [{ name: 'HC_TEST_LISTED' }, { name: 'HC_TEST_LITERAL', value: 'a=b c' }, { name: 'HC_TEST_ABSENT' }],
  });
  t.teardown(() => runner.close());
  const result = await runner.run('master', ctx);
  t.equal(result?.ok, true, 'env ran');
  const output = result?.outputTail ?? '';
  t.notMatch(output, secret, 'the secret value appears nowhere in the hook\'s env output');
  const env: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  t.same(withoutTapInjection(env), {
    PATH: SAFE_PATH,
    LANG: 'de_DE.UTF-8',
    HC_TEST_LISTED: 'from-the-agent',
    HC_TEST_LITERAL: 'a=b c',
    HAAGENT_HOOK: 'master',
    HAAGENT_INSTANCE: 'web',
    HAAGENT_OLD_STATE: 'BACKUP',
    HAAGENT_PRIORITY: '150',
    HAAGENT_STATE: 'MASTER',
    HAAGENT_VIPS: '192.0.2.10/24,2001:db8::10/64',
    HAAGENT_VRID: '51',
  }, 'exactly PATH (fixed), LANG, the listed names present in the agent, literals and HAAGENT_*');
});

t.test('environment: without LANG in the agent, hooks get C.UTF-8; HAAGENT_* cannot be replaced', async (t) => {
  setAgentEnv(t, { LANG: undefined });
  const runner = new HookRunner({ master: { command: ['/usr/bin/env'], timeoutMs: 5000 } }, base, {
    outputTailBytes: 1 << 20,
    // The config validator refuses this; the runner still lets its own values win.
    environment: [{ name: 'HAAGENT_STATE', value: 'FORGED' }],
  });
  t.teardown(() => runner.close());
  const output = (await runner.run('master', ctx))?.outputTail ?? '';
  t.match(output, new RegExp(`^LANG=${DEFAULT_LANG}$`, 'm'));
  t.match(output, /^HAAGENT_STATE=MASTER$/m);
  t.notMatch(output, /FORGED/);
});

t.test('containment: every result says how its hook was contained', async (t) => {
  const runner = new HookRunner({ master: { command: ['/bin/true'], timeoutMs: 5000 } }, base, {
    containment: processGroupContainment('for the test'),
  });
  t.teardown(() => runner.close());
  t.match(await runner.run('master', ctx), { ok: true, containment: 'process-group' });
  const detected = new HookRunner({ master: { command: ['/bin/true'], timeoutMs: 5000 } }, base);
  t.teardown(() => detected.close());
  const result = await detected.run('master', ctx);
  t.equal(result?.containment, detected.containment.mode, `the agent's own containment (${detected.containment.mode}: ${detected.containment.detail})`);
});

t.test('fallback containment: a setsid grandchild whose parent still runs is found by parent links and killed at the timeout', async (t) => {
  const marker = `hc-fallback-${randomUUID()}`;
  t.teardown(() => killMarked(marker));
  const runner = new HookRunner(
    { master: { command: [script('setsid-grandchild.sh'), marker], timeoutMs: 500 } },
    base, { killGraceMs: 300, containment: processGroupContainment('for the test'), environment: [{ name: 'HC_MARKER', value: marker }] },
  );
  t.teardown(() => runner.close());
  const running = runner.run('master', ctx);
  await waitFor('the setsid grandchild', () => markedProcesses(marker).length >= 3);
  const result = await running;
  t.match(result, { timedOut: true, ok: false, containment: 'process-group' });
  t.same(await waitUntilUnmarked(marker), [], 'no process of the hook is left');
});

t.test('exit status and output tail of a failing hook', async (t) => {
  const runner = new HookRunner({ fault: { command: [script('exit3.sh')], timeoutMs: 5000 } }, base);
  t.teardown(() => runner.close());
  const result = await runner.run('fault', { from: 'MASTER', to: 'FAULT', priority: 100 });
  t.match(result, { hook: 'fault', exitCode: 3, signal: null, timedOut: false, ok: false });
  t.match(result?.outputTail, /to stdout\n/);
  t.match(result?.outputTail, /to stderr\n/);
  t.ok(result !== undefined && Number.isFinite(Date.parse(result.startedAt)), 'startedAt is an ISO time');
  t.ok(result !== undefined && result.durationMs >= 0);
});

t.test('hooks queued at once run one at a time in call order', async (t) => {
  const dir = t.testdir();
  const log = join(dir, 'order.log');
  const hook = { command: [script('order.sh'), log, '0.2'], timeoutMs: 5000 };
  const runner = new HookRunner({ 'before-master': hook, master: hook, backup: hook }, base);
  t.teardown(() => runner.close());
  const events: HookResult[] = [];
  runner.on('result', (r) => events.push(r));

  const runs = [
    runner.run('before-master', ctx),
    runner.run('master', ctx),
    runner.run('backup', { ...ctx, to: 'BACKUP' }),
  ];
  t.equal(runner.pending(), 3, 'one running, two queued');
  const results = await Promise.all(runs);
  t.equal(runner.pending(), 0);
  t.same(results.map((r) => r?.ok), [true, true, true]);

  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
  t.same(lines.map(([what, name]) => `${what} ${name}`), [
    'start before-master', 'end before-master',
    'start master', 'end master',
    'start backup', 'end backup',
  ]);
  const ns = lines.map((l) => BigInt(l[2] ?? '0'));
  for (let i = 1; i < ns.length; i++) t.ok((ns[i] ?? 0n) >= (ns[i - 1] ?? 0n), `line ${i} is not earlier than line ${i - 1}`);
  t.same(events.map((r) => r.hook), ['before-master', 'master', 'backup'], "one 'result' event per hook, in order");
  t.same(runner.results().map((r) => r.hook), ['before-master', 'master', 'backup']);
});

t.test('an unconfigured hook resolves undefined, but only after the hooks queued before it', async (t) => {
  const dir = t.testdir();
  const log = join(dir, 'order.log');
  const runner = new HookRunner({ master: { command: [script('order.sh'), log, '0.2'], timeoutMs: 5000 } }, base);
  t.teardown(() => runner.close());
  const done: string[] = [];
  const first = runner.run('master', ctx).then((r) => { done.push('master'); return r; });
  const missing = runner.run('stop', ctx).then((r) => { done.push('stop'); return r; });
  t.equal((await first)?.ok, true);
  t.equal(await missing, undefined);
  t.same(done, ['master', 'stop']);
  t.equal(await runner.run('fault', ctx), undefined, 'also when idle');
  t.equal(runner.results().length, 1, 'unconfigured hooks leave no result');
});

t.test('spawn failures are failed results, never exceptions', async (t) => {
  const dir = t.testdir({ 'not-executable.sh': '#!/bin/sh\nexit 0\n' });
  chmodSync(join(dir, 'not-executable.sh'), 0o644);
  const runner = new HookRunner({
    master: { command: ['/nonexistent/haagent-hook'], timeoutMs: 1000 },
    backup: { command: [join(dir, 'not-executable.sh')], timeoutMs: 1000 },
  }, base);
  t.teardown(() => runner.close());
  const events: HookResult[] = [];
  runner.on('result', (r) => events.push(r));

  const enoent = await runner.run('master', ctx);
  t.match(enoent, { ok: false, exitCode: null, signal: null, timedOut: false, error: /ENOENT/ });
  const eacces = await runner.run('backup', ctx);
  t.match(eacces, { ok: false, exitCode: null, error: /EACCES/ });
  t.equal(events.length, 2, 'failed starts are reported too');
});

t.test('timeout: SIGTERM to the whole process group, grandchild included', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'hook.pid');
  const childPidFile = join(dir, 'grandchild.pid');
  const runner = new HookRunner(
    { master: { command: [script('sleep-with-child.sh'), pidFile, childPidFile], timeoutMs: 300 } },
    base, { killGraceMs: 1000 },
  );
  t.teardown(() => runner.close());
  const result = await runner.run('master', ctx);
  t.match(result, { exitCode: null, signal: 'SIGTERM', timedOut: true, ok: false });
  t.ok(result !== undefined && result.durationMs >= 300 && result.durationMs < 1000, `ended at the timeout (${result?.durationMs} ms), not after the grace`);
  const pid = await readPid(pidFile);
  const grandchild = await readPid(childPidFile);
  t.ok(isGone(pid), 'hook process is gone');
  await waitFor('grandchild to die', () => isGone(grandchild), 2000).catch(() => undefined);
  t.ok(isGone(grandchild), 'grandchild is gone too');
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
});

t.test('timeout: SIGKILL follows after killGraceMs when SIGTERM is ignored', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'hook.pid');
  const runner = new HookRunner(
    { backup: { command: [script('ignore-term.sh'), pidFile], timeoutMs: 200 } },
    base, { killGraceMs: 300 },
  );
  t.teardown(() => runner.close());
  const result = await runner.run('backup', { ...ctx, to: 'BACKUP' });
  t.match(result, { exitCode: null, signal: 'SIGKILL', timedOut: true, ok: false });
  t.ok(result !== undefined && result.durationMs >= 500, `timeout + grace elapsed (${result?.durationMs} ms)`);
  const pid = await readPid(pidFile);
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'hook process is gone');
});

t.test('timeout: a grandchild that ignores SIGTERM is SIGKILLed after the grace, even when the hook itself died', async (t) => {
  const dir = t.testdir();
  const childPidFile = join(dir, 'grandchild.pid');
  const runner = new HookRunner(
    { master: { command: [script('stubborn-child.sh'), childPidFile], timeoutMs: 300 } },
    base, { killGraceMs: 300 },
  );
  t.teardown(() => runner.close());
  const grandchildPid = readPid(childPidFile);
  const result = await runner.run('master', ctx);
  t.match(result, { exitCode: null, signal: 'SIGTERM', timedOut: true, ok: false }, 'the hook itself ended on SIGTERM');
  t.ok(result !== undefined && result.durationMs >= 600, `the result waited for the group (${result?.durationMs} ms)`);
  const grandchild = await grandchildPid;
  await waitFor('grandchild to die', () => isGone(grandchild), 2000).catch(() => undefined);
  t.ok(isGone(grandchild), 'the SIGTERM-ignoring grandchild is gone');
});

t.test('output tail is bounded and keeps the newest bytes, both streams in arrival order', async (t) => {
  const runner = new HookRunner({ master: { command: [script('loud.sh')], timeoutMs: 5000 } }, base, { outputTailBytes: 256 });
  t.teardown(() => runner.close());
  const result = await runner.run('master', ctx);
  t.equal(result?.ok, true);
  const tail = result?.outputTail ?? '';
  t.ok(Buffer.byteLength(tail) <= 256, `tail is ${Buffer.byteLength(tail)} bytes`);
  t.ok(Buffer.byteLength(tail) > 200, 'tail is filled');
  t.match(tail, /line 4999\nLAST-ON-STDERR\n$/, 'last stdout line, then the later stderr line');
  t.notMatch(tail, /line 0\n/);
});

t.test('a running hook does not block the event loop', async (t) => {
  const runner = new HookRunner({ master: { command: [script('order.sh'), '/dev/null', '1'], timeoutMs: 5000 } }, base);
  t.teardown(() => runner.close());
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 10);
  const result = await runner.run('master', ctx);
  clearInterval(timer);
  t.equal(result?.ok, true);
  t.ok(ticks > 50, `interval ticked ${ticks} times while the 1 s hook ran`);
});

t.test('close(): SIGKILLs the running hook group, skips queued ones, is idempotent', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'hook.pid');
  const envFile = join(dir, 'env.txt');
  const runner = new HookRunner({
    master: { command: [script('ignore-term.sh'), pidFile], timeoutMs: 10_000 },
    backup: { command: [script('env.sh'), envFile], timeoutMs: 1000 },
    fault: { command: [script('exit3.sh')], timeoutMs: 1000 },
  }, base);
  const events: HookResult[] = [];
  runner.on('result', (r) => events.push(r));
  const running = runner.run('master', ctx);
  const queued = [runner.run('backup', ctx), runner.run('fault', ctx)];
  const pid = await readPid(pidFile);
  t.equal(runner.pending(), 3);

  const closing = runner.close();
  t.equal(runner.close(), closing, 'a second close() returns the same promise');
  t.same(await Promise.all(queued), [undefined, undefined], 'queued hooks are skipped');
  await closing;
  t.match(await running, { hook: 'master', signal: 'SIGKILL', timedOut: false, ok: false });
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the running hook is gone');
  t.equal(runner.pending(), 0);
  t.equal(await runner.run('backup', ctx), undefined, 'run() after close() resolves undefined');
  t.notOk(existsSync(envFile), 'skipped hooks never ran');
  t.same(events.map((r) => r.hook), ['master']);
  await runner.close();
  await new HookRunner({}, base).close();
});

t.test('results() keeps the newest keepResults; the clock is injectable', async (t) => {
  let now = Date.UTC(2026, 0, 1);
  const runner = new HookRunner(
    { master: { command: [script('exit3.sh')], timeoutMs: 5000 }, backup: { command: [script('env.sh'), '/dev/null'], timeoutMs: 5000 } },
    base, { keepResults: 2, clock: () => (now += 1000) - 1000 },
  );
  t.teardown(() => runner.close());
  await runner.run('master', ctx);
  await runner.run('backup', ctx);
  const last = await runner.run('master', ctx);
  t.same(runner.results().map((r) => r.hook), ['backup', 'master'], 'oldest dropped, newest last');
  t.equal(last?.durationMs, 1000, 'duration from the injected clock');
  t.equal(last?.startedAt, '2026-01-01T00:00:04.000Z');
});

t.test('configs the validator should have refused throw HA_ERR_HOOK', async (t) => {
  const bad: HooksConfig[] = [
    { master: { command: [], timeoutMs: 1000 } },
    { master: { command: ['relative/hook'], timeoutMs: 1000 } },
    { master: { command: ['/bin/true'], timeoutMs: 0 } },
  ];
  for (const hooks of bad) t.throws(() => new HookRunner(hooks, base), { code: 'HA_ERR_HOOK' });
  t.throws(() => new HookRunner({}, base, { killGraceMs: -1 }), { code: 'HA_ERR_HOOK' });
});

