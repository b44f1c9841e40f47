import t from 'tap';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HealthMonitor, type HealthResultEvent, type HealthMonitorDeps } from '../../../src/daemon/health-monitor.js';
import type { HealthVerdict } from '../../../src/core/health/types.js';
import type { CheckConfig } from '../../../src/core/config/types.js';
import { execCheck, httpCheck, ifaceCheck } from './helpers.js';

/** The part of a tap test the helpers need. */
type Teardown = { teardown: (fn: () => unknown) => void };

const noLinks: HealthMonitorDeps['linkState'] = () => Promise.reject(new Error('no links in this test'));

/** Waits for the next `event` of `m`, at most `ms` (then fails the test with a clear message). */
async function next<E extends 'verdict' | 'result'>(m: HealthMonitor, event: E, ms = 3000): Promise<E extends 'verdict' ? HealthVerdict : HealthResultEvent> {
  const [value] = await once(m, event, { signal: AbortSignal.timeout(ms) }).catch(() => {
    throw new Error(`no '${event}' event within ${ms} ms`);
  });
  return value as E extends 'verdict' ? HealthVerdict : HealthResultEvent;
}

/** An HTTP server whose status the test switches; counts requests. */
async function switchable(t: Teardown): Promise<{ url: string; setStatus: (s: number) => void; server: Server }> {
  let status = 200;
  const server = createServer((_req, res) => { res.statusCode = status; res.end(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, setStatus: (s) => { status = s; }, server };
}

function monitor(t: Teardown, checks: readonly CheckConfig[], base: number, deps: Partial<HealthMonitorDeps> = {}): HealthMonitor {
  let now = 10_000;
  const m = new HealthMonitor(checks, base, { clock: () => (now += 1), linkState: noLinks, ...deps });
  t.teardown(() => m.stop());
  return m;
}

t.test('http check switched between 200 and 503 (rise 2, fall 2, weight 0): FAULT on and off', async (t) => {
  const web = await switchable(t);
  const m = monitor(t, [httpCheck(web.url, { name: 'web', intervalMs: 100, timeoutMs: 100, rise: 2, fall: 2, weight: 0 })], 100);
  t.same(m.verdict(), { effectivePriority: 100, faults: ['check:web'] }, 'unknown counts as failing before the first result');
  const results: HealthResultEvent[] = [];
  m.on('result', (r) => results.push(r));
  m.start();

  t.same(await next(m, 'verdict'), { effectivePriority: 100, faults: [] }, 'the first 200 decides at once');
  t.equal(results.length, 1);
  t.same(results[0]?.status, 'healthy');

  web.setStatus(503);
  const mark = results.length;
  t.same(await next(m, 'verdict'), { effectivePriority: 100, faults: ['check:web'] }, 'failing after fall=2 503s');
  const failed = results.slice(mark).filter((r) => !r.result.ok);
  t.ok(failed.length >= 2, `at least two failed results before the verdict (${failed.length})`);
  t.match(failed.at(-1)?.result.detail, /status 503, expected 200$/);
  t.equal(failed[0]?.status, 'healthy', 'one failure is not enough');
  t.equal(failed.at(-1)?.status, 'failing');

  web.setStatus(200);
  const mark2 = results.length;
  t.same(await next(m, 'verdict'), { effectivePriority: 100, faults: [] }, 'healthy after rise=2 200s');
  t.ok(results.slice(mark2).filter((r) => r.result.ok).length >= 2);
  t.same(m.verdict(), { effectivePriority: 100, faults: [] });
});

t.test('a weighted http check lowers and restores the priority', async (t) => {
  const web = await switchable(t);
  web.setStatus(503);
  const m = monitor(t, [httpCheck(web.url, { name: 'web', intervalMs: 100, timeoutMs: 100, rise: 2, fall: 2, weight: 30 })], 100);
  t.same(m.verdict(), { effectivePriority: 70, faults: [] });
  const verdicts: HealthVerdict[] = [];
  m.on('verdict', (v) => verdicts.push(v));
  m.start();
  await next(m, 'result');
  t.same(verdicts, [], 'unknown -> failing does not change the verdict, so no event');
  web.setStatus(200);
  t.same(await next(m, 'verdict'), { effectivePriority: 100, faults: [] });
  web.setStatus(503);
  t.same(await next(m, 'verdict'), { effectivePriority: 70, faults: [] });
  t.equal(verdicts.length, 2, 'exactly one event per change');
});

t.test('a check that never answers is aborted at its timeout and runs again', async (t) => {
  let requests = 0;
  const server = createServer(() => { requests += 1; });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const m = monitor(t, [httpCheck(url, { name: 'hang', intervalMs: 100, timeoutMs: 50, weight: 0 })], 100);
  m.start();
  const first = await next(m, 'result');
  t.same({ ok: first.result.ok, detail: first.result.detail, status: first.status }, { ok: false, detail: `GET ${url}: timed out after 50 ms`, status: 'failing' });
  const second = await next(m, 'result');
  t.equal(second.result.detail, `GET ${url}: timed out after 50 ms`);
  t.ok(requests >= 2, `the check ran again (${requests} requests)`);
});

t.test('never two runs of the same check at once', async (t) => {
  const lock = join(t.testdir({}), 'lock');
  // Fails (exit 7) if another run holds the lock.
  const cmd = ['/bin/sh', '-c', `mkdir ${lock} 2>/dev/null || exit 7; sleep 0.05; rmdir ${lock}`];
  // Generous timeout: a run killed at its timeout would leave the lock behind.
  const m = monitor(t, [execCheck(cmd, { name: 'serial', intervalMs: 400, timeoutMs: 400 })], 100);
  m.start();
  for (let i = 0; i < 3; i++) {
    const r = await next(m, 'result');
    t.equal(r.result.ok, true, `run ${i + 1}: ${r.result.detail}`);
  }
});

t.test('stop() aborts the run in flight, emits nothing more, and is idempotent', async (t) => {
  let arrived: () => void = () => {};
  const requestArrived = new Promise<void>((resolve) => { arrived = resolve; });
  let closed: Promise<void> = Promise.resolve();
  const server = createServer((req) => {
    closed = new Promise((resolve) => req.socket.on('close', () => resolve()));
    arrived();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const m = monitor(t, [httpCheck(url, { name: 'slow', intervalMs: 5000, timeoutMs: 5000 })], 100);
  const events: string[] = [];
  m.on('result', () => events.push('result'));
  m.on('verdict', () => events.push('verdict'));
  m.start();
  await requestArrived;
  m.stop();
  m.stop();
  await closed;
  t.pass('the client closed the connection');
  m.onLink('eth0', true, true);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(events, [], 'no results after stop');
});

t.test('interface checks: queried once at start, then fed by onLink', async (t) => {
  const queried: string[] = [];
  const linkState: HealthMonitorDeps['linkState'] = async (ifname) => {
    queried.push(ifname);
    if (ifname === 'eth0') return { up: true, running: true };
    throw Object.assign(new Error('no such device'), { code: 'ENODEV' });
  };
  const checks = [ifaceCheck('eth0', { name: 'uplink', weight: 0 }), ifaceCheck('eth9', { name: 'backend', weight: 10 }), ifaceCheck('eth0', { name: 'uplink2', weight: 5 })];
  const m = monitor(t, checks, 100, { linkState });
  t.same(m.verdict(), { effectivePriority: 85, faults: ['check:uplink'] });
  const results: HealthResultEvent[] = [];
  m.on('result', (r) => results.push(r));
  const verdicts: HealthVerdict[] = [];
  m.on('verdict', (v) => verdicts.push(v));
  m.start();
  await next(m, 'verdict');
  while (results.length < 3) await next(m, 'result');
  t.same(queried.sort(), ['eth0', 'eth9'], 'once per interface');
  t.same(m.verdict(), { effectivePriority: 90, faults: [] });
  t.match(results.find((r) => r.check === 'backend')?.result.detail, 'eth9: link state unavailable: ENODEV');

  m.onLink('eth0', true, false);
  t.same(m.verdict(), { effectivePriority: 85, faults: ['check:uplink'] }, 'no carrier: fault at once (no fall for link events)');
  t.match(results.at(-1)?.result.detail, 'eth0: up but not running (no carrier)');
  m.onLink('eth0', true, false);
  m.onLink('eth1', false, false);
  m.onLink('eth9', true, true);
  t.same(m.verdict(), { effectivePriority: 95, faults: ['check:uplink'] });
  m.onLink('eth0', true, true);
  t.same(m.verdict(), { effectivePriority: 100, faults: [] });
  t.same(verdicts.map((v) => v.effectivePriority), [90, 85, 95, 100], 'one verdict event per change, none for repeats');
});

t.test('a link event during the start query wins over its (older) answer', async (t) => {
  let answer: (v: { up: boolean; running: boolean }) => void = () => {};
  const linkState: HealthMonitorDeps['linkState'] = () => new Promise((resolve) => { answer = resolve; });
  const m = monitor(t, [ifaceCheck('eth0', { name: 'uplink' })], 100, { linkState });
  m.start();
  m.onLink('eth0', false, false);
  answer({ up: true, running: true });
  await new Promise((resolve) => setImmediate(resolve));
  t.same(m.verdict(), { effectivePriority: 100, faults: ['check:uplink'] });
  t.equal(m.status()[0]?.lastResult?.detail, 'eth0: down');
});

t.test('status() is a JSON-friendly summary per check', async (t) => {
  let now = 50_000;
  const m = new HealthMonitor([ifaceCheck('eth0', { name: 'uplink', weight: 3 }), execCheck(['/bin/true'], { name: 'never-run' })], 100, {
    clock: () => now, linkState: noLinks, wallClock: () => Date.parse('2026-01-01T00:00:10.000Z'),
  });
  t.teardown(() => m.stop());
  m.onLink('eth0', true, true);
  now += 2500;
  const s = m.status();
  t.same(JSON.parse(JSON.stringify(s)), s, 'survives JSON');
  t.same(s[0], {
    name: 'uplink', type: 'interface', status: 'healthy', weight: 3, rise: 2, fall: 2, consecutiveOk: 1, consecutiveFail: 0, value: null,
    lastResult: { ok: true, detail: 'eth0: up, running', latencyMs: 0, value: null, at: '2026-01-01T00:00:07.500Z', atMs: 50_000, ageMs: 2500 },
  });
  t.same(s[1], { name: 'never-run', type: 'exec', status: 'unknown', weight: 0, rise: 2, fall: 2, consecutiveOk: 0, consecutiveFail: 0, value: null, lastResult: null });
});

t.test('firstResults: a starting instance waits for every check to speak, bounded', async (t) => {
  const web = await switchable(t);
  const m = monitor(t, [httpCheck(web.url, { name: 'web', intervalMs: 5000, timeoutMs: 500, weight: 0 })], 100);
  t.equal(m.decided(), false);
  t.equal(m.startupBoundMs(), 500 + 250, 'the longest timeout plus the margin');
  t.equal(await m.firstResults(), true, 'decided by the first answer');
  t.same(m.verdict(), { effectivePriority: 100, faults: [] }, 'healthy: no FAULT was ever reported');

  // A server that accepts and never answers holds the check until its timeout.
  const hang = createServer(() => undefined);
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { hang.closeAllConnections(); hang.close(() => resolve()); }));
  const slow = monitor(t, [httpCheck(`http://127.0.0.1:${(hang.address() as AddressInfo).port}/`, { name: 'slow', intervalMs: 5000, timeoutMs: 2000, weight: 0 })], 100);
  t.equal(await slow.firstResults(100), false, 'the bound ends the wait before the check decides');
  t.same(slow.verdict().faults, ['check:slow'], 'still unknown, so failing');

  const stopped = monitor(t, [httpCheck(`http://127.0.0.1:${(hang.address() as AddressInfo).port}/`, { name: 'x', intervalMs: 5000, timeoutMs: 2000, weight: 0 })], 100);
  const waiting = stopped.firstResults(10_000);
  stopped.stop();
  t.equal(await waiting, false, 'stop() ends the wait at once');
  t.equal(await monitor(t, [], 100).firstResults(), true, 'no checks: nothing to wait for');
});

t.test("'change' fires only when a check's status changes, not on every run", async (t) => {
  const web = await switchable(t);
  const m = monitor(t, [httpCheck(web.url, { name: 'web', intervalMs: 30, timeoutMs: 30, rise: 1, fall: 1, weight: 0 })], 100);
  const changes: string[] = [];
  let results = 0;
  m.on('change', (c) => changes.push(`${c.previous}->${c.status}`));
  m.on('result', () => { results++; });
  m.start();
  await next(m, 'verdict');
  while (results < 5) await next(m, 'result');
  web.setStatus(500);
  await next(m, 'verdict');
  t.same(changes, ['unknown->healthy', 'healthy->failing'], `two changes over ${results}+ results`);
});
