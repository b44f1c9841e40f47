/**
 * The control socket under abuse, against a real agent in a namespace (root): thousands of
 * connections holding partial requests, a deeply nested request, and an `events` subscriber
 * that stops reading while a packet flood makes the agent publish a drop event per packet.
 * The agent's resident memory (VmRSS) must stay within a generous bound and the agent must keep
 * answering. Memory bounds are liveness limits for "did it grow without end", not tight claims.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { request } from '../../src/daemon/control-server.js';
import { distPath, type LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { VIP_CIDR } from '../../src/lab/topology.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

/**
 * Growth of the agent's VmRSS we accept. Connections: reading and discarding what 5,000 clients
 * send leaves garbage V8 collects late (about +50 MB seen); the unbounded server grew by over
 * 300 MB. Flood: about +15 MB seen; unbounded, it grew by over 500 MB.
 */
const CONNECTIONS_RSS_BOUND_MB = 100;
const FLOOD_RSS_BOUND_MB = 60;
const CONNECTIONS = 5000;
const BATCH = 250;

/** VmRSS of `pid` in MB. */
function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Samples `pid`'s VmRSS every 100 ms until stopped; returns the peak (NaN if the process went). */
function rssSampler(pid: number): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    try { peak = Math.max(peak, rssMb(pid)); } catch { peak = NaN; clearInterval(timer); }
  }, 100);
  return { stop: () => { clearInterval(timer); return Number.isNaN(peak) ? NaN : Math.max(peak, rssMb(pid)); } };
}

/** A raw control connection that collects the lines it reads. */
interface Conn { readonly sock: Socket; readonly lines: string[]; readonly closed: Promise<void> }

function connectOnce(path: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const lines: string[] = [];
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
    });
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.once('connect', () => { sock.on('error', () => undefined); resolve({ sock, lines, closed }); });
    sock.once('error', reject);
  });
}

/** Connects; retries while the agent's accept backlog is full (EAGAIN on a unix socket). */
async function connect(path: string): Promise<Conn> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectOnce(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= 100) throw err;
      await sleep(20);
    }
  }
}

async function waitUntil(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const end = performance.now() + timeoutMs; performance.now() < end; await sleep(50)) if (pred()) return true;
  return pred();
}

const skip = skipReason({ needsDist: true, needs: ['python3'] });
if (skip !== undefined) {
  t.plan(0, `control socket attack tests skipped: ${skip}`);
} else {
  const { h1, h2, withCluster } = labSuite(t, 'hactl');
  // LabCluster.startAgent keeps h1's fencing state beside its socket; nothing else removes it.
  t.teardown(() => { rmSync(`/run/haagent-lab/${h1.ns}-state`, { recursive: true, force: true }); });

  async function startAgent(c: LabCluster): Promise<{ a: RunningAgent; pid: number }> {
    const a = c.startAgent(h1, ['--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR, '--vrid', '51', '--advert-interval', '1s']);
    t.ok(await c.waitFor(async () => (await c.status(a)).instances.length === 1, 10_000), 'agent answers', { logs: logsOf(a) });
    await sleep(1000); // let start-up allocations settle before the baseline
    const pid = a.child.pid ?? 0;
    return { a, pid };
  }

  t.test(`${CONNECTIONS} connections holding partial requests: memory bounded, refused ones told why, status answered`, (t) => withCluster(async (c) => {
    const { a, pid } = await startAgent(c);
    const before = rssMb(pid);
    const sampler = rssSampler(pid);
    const partial = `{"command":"status","pad":"${'x'.repeat(32 * 1024)}`; // 32 KiB, no newline
    const conns: Conn[] = [];
    t.teardown(() => { for (const k of conns) k.sock.destroy(); });
    const unanswered = (): number => conns.filter((k) => k.lines.length === 0).length;
    for (let i = 0; i < CONNECTIONS; i += BATCH) {
      const batch = await Promise.all(Array.from({ length: BATCH }, () => connect(a.socket)));
      for (const k of batch) k.sock.write(partial);
      conns.push(...batch);
      await waitUntil(() => unanswered() <= 64, 5000); // pace: the agent answers a batch before the next
    }
    const refusedAll = await waitUntil(() => unanswered() <= 64, 5000);
    t.equal(a.child.exitCode, null, 'the agent is alive', { logs: logsOf(a) });
    const peak = sampler.stop();
    const after = rssMb(pid);
    const refused = conns.filter((k) => /too many connections \(64 open\)/.test(k.lines[0] ?? ''));
    t.ok(refusedAll, 'all but the 64 served connections got a reply', { unanswered: unanswered() });
    t.ok(peak - before < CONNECTIONS_RSS_BOUND_MB, `agent VmRSS ${before.toFixed(1)} -> peak ${peak.toFixed(1)} MB (bound +${CONNECTIONS_RSS_BOUND_MB} MB)`, { before, peak, after });
    t.comment(`VmRSS before ${before.toFixed(1)} MB, peak ${peak.toFixed(1)} MB, after ${after.toFixed(1)} MB with ${CONNECTIONS} connections opened`);
    // All 64 slots are held by partial requests: a status request is answered at once (refused),
    // and served once the idle timeout (10 s) has freed the slots.
    const whileFull = await request(a.socket, { command: 'status' }, { timeoutMs: 2000 });
    t.ok(whileFull.ok || /too many connections/.test(whileFull.error.message), 'the agent answers at once while full (refused, or served if a slot has idled out)', { whileFull });
    t.ok(await c.waitFor(async () => (await c.status(a)).pid === pid, 15_000, 200), 'status served after the idle timeout freed the slots', { logs: logsOf(a) });
    const idled = conns.filter((k) => /no complete request within 10000 ms/.test(k.lines[0] ?? ''));
    t.ok(idled.length >= 64, 'the partial requests that got a slot were closed as idle', { idled: idled.length });
    t.equal(refused.length + idled.length, CONNECTIONS, 'every connection was told why it was closed: "too many connections" or idle');
    t.ok(refused.length >= CONNECTIONS - 2 * 64, 'most were refused', { refused: refused.length });
    t.ok(a.logs.some((l) => l['reason'] === 'too-many-connections' && l['level'] === 'warn'), 'refusals logged (warn)');
    t.ok(a.logs.filter((l) => l['reason'] === 'too-many-connections').length <= 3, 'but not once per connection');
  }));

  t.test('an 8 KB nested-bracket request gets HA_ERR_LIMIT and the agent lives', (t) => withCluster(async (c) => {
    const { a, pid } = await startAgent(c);
    const k = await connect(a.socket);
    k.sock.write(`{"command":${'['.repeat(4096)}${']'.repeat(4096)}}\n{"command":"status"}\n`);
    t.ok(await waitUntil(() => k.lines.length >= 2, 5000), 'two replies');
    t.match(JSON.parse(k.lines[0] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT', message: /nests brackets deeper than 8 levels/ } });
    t.match(JSON.parse(k.lines[1] ?? '{}'), { ok: true, status: { pid } }, 'the same connection answers status');
    k.sock.destroy();
    t.equal((await c.status(a)).pid, pid, 'the agent lives');
    t.equal(a.child.exitCode, null);
  }));

  /** Floods h1's int0 from h2 with adverts for a VRID the agent does not serve (each one a `drop` event). */
  function startFlood(): { stop(): Promise<void> } {
    const py = spawn('ip', ['netns', 'exec', h2.ns, 'python3', '-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)',
      'pkt = bytes([0x31, 99, 100, 1, 0, 100, 0, 0, 10, 77, 0, 100])',
      'while True:',
      '    try:',
      '        s.sendto(pkt, (sys.argv[1], 0))',
      '    except OSError:',
      '        pass',
    ].join('\n'), h1.intAddress], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => py.once('exit', () => r()));
    t.teardown(() => { py.kill('SIGKILL'); });
    return { stop: async () => { py.kill('SIGTERM'); await exited; } };
  }

  t.test('subscribers that stop reading during a packet flood are cut off; memory bounded; `haagent events` says so and exits 1', (t) => withCluster(async (c) => {
    const { a, pid } = await startAgent(c);
    const cutOffLogs = (): Array<Record<string, unknown>> => a.logs.filter((l) => l['reason'] === 'too-slow');
    const before = rssMb(pid);
    const sampler = rssSampler(pid);

    // 1. The CLI with --all, its stdout a pipe nobody reads until the agent has cut it off.
    const cli = spawn(process.execPath, [distPath('cli', 'main.js'), 'events', '--all', '--socket', a.socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => { cli.kill('SIGKILL'); });
    let stderr = '';
    cli.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const cliExit = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
    await sleep(500);
    let flood = startFlood();
    t.ok(await waitUntil(() => cutOffLogs().length >= 1, 20_000), 'the agent cut `haagent events` off (logged)', { logs: logsOf(a) });
    const cutAt = performance.now();
    cli.stdout.resume(); // the reader catches up within the grace period and learns why the stream ended
    t.equal(await cliExit, 1, '`haagent events` exits 1');
    t.match(stderr, /^haagent: the agent ended the event stream: too slow: more than 262144 bytes of replies or events left unread; closing\n$/, 'and says why');
    await flood.stop();

    // 2. A raw subscriber to drop events that reads its first line, then nothing. (The agent logs a
    // bound at most every 10 s: wait that out so its cut-off shows in the log too.)
    await sleep(Math.max(0, 10_500 - (performance.now() - cutAt)));
    const raw = await connect(a.socket);
    raw.sock.write('{"command":"events","types":["drop"]}\n');
    t.ok(await waitUntil(() => raw.lines.length === 1, 5000), 'subscribed');
    raw.sock.pause();
    flood = startFlood();
    t.ok(await waitUntil(() => cutOffLogs().length >= 2, 20_000), 'the agent cut the raw subscriber off (logged)', { logs: logsOf(a) });
    raw.sock.resume();
    await raw.closed;
    await flood.stop();
    t.match(JSON.parse(raw.lines[raw.lines.length - 1] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT', message: /^too slow: more than 262144 bytes/ } }, 'its last line says it was too slow');
    t.match(cutOffLogs()[1], { level: 'warn', total: 2 }, 'both counted');

    t.equal(a.child.exitCode, null, 'the agent is alive', { logs: logsOf(a) });
    const peak = sampler.stop();
    const after = rssMb(pid);
    const status = await c.status(a);
    const dropped = status.interfaceDrops['int0']?.['bad-vrid'] ?? 0;
    t.equal(status.pid, pid, 'the agent still answers status');
    t.ok(dropped > 5000, 'the floods reached the agent', { dropped });
    t.ok(peak - before < FLOOD_RSS_BOUND_MB, `agent VmRSS ${before.toFixed(1)} -> peak ${peak.toFixed(1)} MB over both floods (bound +${FLOOD_RSS_BOUND_MB} MB)`, { before, peak, after, dropped });
    t.comment(`floods: ${dropped} adverts dropped by the agent; VmRSS before ${before.toFixed(1)} MB, peak ${peak.toFixed(1)} MB, after ${after.toFixed(1)} MB`);
  }));
}
