/**
 * Witness probes against a real kernel (root): ICMP echo via raw sockets, TCP connect and HTTP
 * GET to local listeners, and WitnessMonitor flipping reachable() as its only witness goes away
 * and comes back.
 *
 * Traffic only goes to loopback or into a namespace created here: hawt-<pid>-<rand>, lo up and
 * a veth pair va <-> vb where
 *   - 192.0.2.0/24 and 2001:db8::/64 are routed out of va with permanent neighbour entries, so
 *     echo requests to 192.0.2.1 / 2001:db8::1 leave va, reach vb and are dropped there (not
 *     addressed to vb's MAC): a silent witness, i.e. a real timeout;
 *   - 192.0.2.2/32 is a blackhole route: the kernel refuses the send (EINVAL), a fast failure.
 * Probes inside the namespace run in a child (`ip netns exec`, tap's TypeScript loader) that
 * prints one JSON CheckResult.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import t, { type Test } from 'tap';
import { ping } from '../../src/adapters/health/icmp.js';
import { probeWitness, WitnessMonitor, witnessTarget } from '../../src/adapters/witness.js';
import type { CheckResult } from '../../src/core/health/types.js';
import type { WitnessConfig } from '../../src/core/config/types.js';
import { addAddress, createNamespaces, ip, moduleScript, runTsChild, uniqueNamespace, vethPair } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';

const witnessUrl = new URL('../../src/adapters/witness.ts', import.meta.url).href;
/** Bound on every wait for an event: generous, it only keeps a broken test from hanging. */
const WAIT_MS = 15_000;

function hasLoopbackV6(): boolean {
  try {
    return ip('-6', 'addr', 'show', 'dev', 'lo').includes('::1/128');
  } catch {
    return false;
  }
}

/** The namespace described in the module comment, deleted in t.teardown. */
function makeNamespace(tt: Test): string {
  const ns = uniqueNamespace('hawt');
  createNamespaces(tt, [ns], { loopbackUp: true });
  vethPair({ ns, dev: 'va', addresses: ['198.18.0.1/24'] }, { ns, dev: 'vb' });
  ip('-n', ns, 'route', 'add', '192.0.2.0/24', 'dev', 'va');
  ip('-n', ns, 'neigh', 'add', '192.0.2.1', 'lladdr', '02:00:00:00:00:01', 'dev', 'va', 'nud', 'permanent');
  ip('-n', ns, 'route', 'add', 'blackhole', '192.0.2.2/32');
  addAddress(ns, 'va', 'fd00:77::1/64', 'nodad');
  ip('-n', ns, '-6', 'route', 'add', '2001:db8::/64', 'dev', 'va');
  ip('-n', ns, '-6', 'neigh', 'add', '2001:db8::1', 'lladdr', '02:00:00:00:00:01', 'dev', 'va', 'nud', 'permanent');
  return ns;
}

/** probeWitness(w, timeoutMs) for each probe, in parallel, inside `ns` by one child process. */
function probeIn(ns: string, probes: readonly (readonly [WitnessConfig, number])[]): Promise<CheckResult[]> {
  const script = [
    'const [url, list] = process.argv.slice(1);',
    'const { probeWitness } = await import(url);',
    'const rs = await Promise.all(JSON.parse(list).map(([w, ms]) => probeWitness(w, ms)));',
    'process.stdout.write(JSON.stringify(rs));',
  ].join('\n');
  const child = runTsChild(ns, moduleScript(script, witnessUrl, JSON.stringify(probes)));
  child.stdin.end(); // the probes need no input
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  return new Promise((res, rej) => {
    const kill = setTimeout(() => { child.kill('SIGKILL'); }, 2 * WAIT_MS);
    child.on('error', (e) => { clearTimeout(kill); rej(e); });
    child.on('close', (code) => {
      clearTimeout(kill);
      try {
        res(JSON.parse(out) as CheckResult[]);
      } catch {
        rej(new Error(`probe child exited ${String(code)}: stdout=${out} stderr=${err.slice(-2000)}`));
      }
    });
  });
}

async function listenTcp(port = 0): Promise<NetServer> {
  const server = createNetServer((sock) => sock.destroy());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function portOf(server: NetServer | HttpServer): number {
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: NetServer | HttpServer): Promise<void> {
  if (!server.listening) return;
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** A port on 127.0.0.1 with nothing listening (bound once, then released). */
async function closedPort(): Promise<number> {
  const s = await listenTcp();
  const port = portOf(s);
  await closeServer(s);
  return port;
}

/** Resolves with the next 'change' value, failing after WAIT_MS. */
async function nextChange(m: WitnessMonitor): Promise<boolean> {
  const [value] = await once(m, 'change', { signal: AbortSignal.timeout(WAIT_MS) }) as [boolean];
  return value;
}

const reason = skipReason();
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  t.test('ICMP echo to loopback (root namespace)', async (tt) => {
    const r = await ping('127.0.0.1', AbortSignal.timeout(WAIT_MS));
    tt.equal(r.ok, true, r.detail);
    tt.match(r.detail, /^ping 127\.0\.0\.1: echo reply$/);
    tt.ok(r.latencyMs >= 0);
    const via = await probeWitness({ type: 'icmp', address: '127.0.0.1' }, WAIT_MS);
    tt.equal(via.ok, true, via.detail);
  });

  t.test('ICMPv6 echo to ::1 (root namespace)', { skip: hasLoopbackV6() ? false : '::1 is not configured on lo' }, async (tt) => {
    const r = await ping('::1', AbortSignal.timeout(WAIT_MS));
    tt.equal(r.ok, true, r.detail);
    tt.match(r.detail, /^ping ::1: echo reply$/);
    const longForm = await ping('0:0:0:0:0:0:0:1', AbortSignal.timeout(WAIT_MS));
    tt.equal(longForm.ok, true, `non-canonical spelling matches the reply source: ${longForm.detail}`);
  });

  t.test('ping: an already-aborted signal reads as aborted or timed out', async (tt) => {
    const pre = new AbortController();
    pre.abort();
    const r1 = await ping('127.0.0.1', pre.signal);
    tt.equal(r1.ok, false);
    tt.match(r1.detail, /aborted/);
    const timedOut = await ping('127.0.0.1', AbortSignal.abort(new DOMException('late', 'TimeoutError')));
    tt.equal(timedOut.ok, false);
    tt.match(timedOut.detail, /timed out/);
  });

  t.test('ICMP inside a namespace: loopback ok, silent address times out, blackhole fails', async (tt) => {
    const ns = makeNamespace(tt);
    const v6lo = hasLoopbackV6();
    const [lo, silent, hole, silent6, lo6] = await probeIn(ns, [
      [{ type: 'icmp', address: '127.0.0.1' }, WAIT_MS],
      [{ type: 'icmp', address: '192.0.2.1' }, 300],
      [{ type: 'icmp', address: '192.0.2.2' }, WAIT_MS],
      [{ type: 'icmp', address: '2001:db8::1' }, 300],
      ...(v6lo ? [[{ type: 'icmp', address: '::1' }, WAIT_MS] as const] : []),
    ]);
    tt.equal(lo?.ok, true, lo?.detail ?? 'no result');

    tt.equal(silent?.ok, false);
    tt.match(silent?.detail, /^ping 192\.0\.2\.1: timed out$/);

    tt.equal(hole?.ok, false);
    tt.match(hole?.detail, /^ping 192\.0\.2\.2: send failed: /, hole?.detail ?? 'no result');

    tt.equal(silent6?.ok, false);
    tt.match(silent6?.detail, /^ping 2001:db8::1: timed out$/);

    if (v6lo) tt.equal(lo6?.ok, true, lo6?.detail ?? 'no result');
  });

  t.test('tcp witness: listener ok, closed port fails', async (tt) => {
    const server = await listenTcp();
    tt.teardown(() => closeServer(server));
    const ok = await probeWitness({ type: 'tcp', address: '127.0.0.1', port: portOf(server) }, WAIT_MS);
    tt.equal(ok.ok, true, ok.detail);
    tt.match(ok.detail, /connected/);

    const port = await closedPort();
    const refused = await probeWitness({ type: 'tcp', address: '127.0.0.1', port }, WAIT_MS);
    tt.equal(refused.ok, false);
    tt.match(refused.detail, /ECONNREFUSED/);
  });

  t.test('http witness: 2xx/3xx ok, 5xx fails', async (tt) => {
    let status = 200;
    const server = createHttpServer((_req, res) => { res.statusCode = status; res.end('hello'); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    tt.teardown(() => closeServer(server));
    const url = `http://127.0.0.1:${portOf(server)}/`;

    const ok = await probeWitness({ type: 'http', url }, WAIT_MS);
    tt.equal(ok.ok, true, ok.detail);
    tt.match(ok.detail, /status 200/);

    status = 302;
    const redirect = await probeWitness({ type: 'http', url }, WAIT_MS);
    tt.equal(redirect.ok, true, redirect.detail);

    status = 503;
    const bad = await probeWitness({ type: 'http', url }, WAIT_MS);
    tt.equal(bad.ok, false);
    tt.match(bad.detail, /status 503/);
  });

  t.test('WitnessMonitor: reachable() flips as the only witness goes and comes back', async (tt) => {
    let server = await listenTcp();
    const port = portOf(server);
    tt.teardown(() => closeServer(server));
    const w: WitnessConfig = { type: 'tcp', address: '127.0.0.1', port };
    const m = new WitnessMonitor([w], { intervalMs: 50, timeoutMs: 1000 });
    tt.teardown(() => m.stop());

    tt.equal(m.reachable(), undefined, 'undefined before the first round');
    const before = m.status();
    tt.equal(before.length, 1);
    tt.equal(before[0]?.ok, undefined);
    tt.equal(before[0]?.at, undefined);

    const first = nextChange(m);
    m.start();
    m.start(); // no-op while running
    tt.equal(await first, true);
    tt.equal(m.reachable(), true);
    const up = m.status()[0];
    tt.equal(up?.target, `tcp 127.0.0.1:${port}`);
    tt.equal(up?.ok, true);
    tt.type(up?.latencyMs, 'number');
    tt.ok(up?.at !== undefined && !Number.isNaN(Date.parse(up.at)), 'at is an ISO timestamp');

    const down = nextChange(m);
    await closeServer(server);
    tt.equal(await down, false);
    tt.equal(m.reachable(), false);
    tt.equal(m.status()[0]?.ok, false);
    tt.match(m.status()[0]?.detail ?? '', /ECONNREFUSED/);

    const back = nextChange(m);
    server = await listenTcp(port);
    tt.equal(await back, true);
    tt.equal(m.reachable(), true);

    m.stop();
    m.stop(); // idempotent
    let lateChange = false;
    m.on('change', () => { lateChange = true; });
    await closeServer(server);
    await new Promise((r) => setTimeout(r, 200));
    tt.equal(lateChange, false, 'no change after stop()');
    tt.equal(m.reachable(), true, 'keeps its last value after stop()');
  });

  t.test('WitnessMonitor: one answering witness out of several is enough', async (tt) => {
    const port = await closedPort();
    const witnesses: WitnessConfig[] = [
      { type: 'tcp', address: '127.0.0.1', port },
      { type: 'icmp', address: '127.0.0.1' },
    ];
    const m = new WitnessMonitor(witnesses, { intervalMs: 100, timeoutMs: 1000 });
    tt.teardown(() => m.stop());
    const first = nextChange(m);
    m.start();
    tt.equal(await first, true);
    const st = m.status();
    tt.same(st.map((s) => s.target), witnesses.map(witnessTarget));
    tt.same(st.map((s) => s.ok), [false, true]);
  });

  t.test('WitnessMonitor: no witnesses never runs a round', async (tt) => {
    const m = new WitnessMonitor([], { intervalMs: 10, timeoutMs: 10 });
    m.start();
    await new Promise((r) => setTimeout(r, 50));
    tt.equal(m.reachable(), undefined);
    tt.same(m.status(), []);
    m.stop();
  });
}
