import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { ControlServer, request, requestStatus } from '../../../src/daemon/control-server.js';
import type { AgentStatus } from '../../../src/core/control/types.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { HaagentError } from '../../../src/core/errors.js';
import type { ControlHandler, ControlLimits } from '../../../src/daemon/control-server.js';

const status: AgentStatus = {
  pid: 1, version: 'test', startedAt: '2026-01-01T00:00:00.000Z', instances: [], interfaceDrops: {},
  configSource: 'test', configLoadedAt: '2026-01-01T00:00:00.000Z',
};

/** A fake agent: records what the control socket asked of it. */
function fakeHandler(): ControlHandler & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    events: new EventBus(),
    status: () => status,
    maintenance: (on, instance) => { calls.push(`maintenance ${on} ${instance ?? '*'}`); return 'ok'; },
    switchover: (instance) => {
      if (instance === 'nope') throw new HaagentError('HA_ERR_INVALID_ARGUMENT', 'no instance named "nope"');
      calls.push(`switchover ${instance ?? '*'}`);
      return 'handing over';
    },
    promote: (instance) => {
      if (instance === 'live') throw new HaagentError('HA_ERR_INVALID_ARGUMENT', 'promote refused: live has a master (192.0.2.9); run switchover there');
      calls.push(`promote ${instance ?? '*'}`);
      return 'taking over';
    },
    reload: async () => { calls.push('reload'); return 'reloaded'; },
  };
}

/** Unix socket paths are limited to 107 bytes: tap's fixture directories are too deep. */
function shortDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function exchange(path: string, payload: string, replies: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n').filter((l) => l !== '');
      if (lines.length >= replies) { c.destroy(); resolve(lines); }
    });
    c.on('error', reject);
    c.write(payload);
  });
}

t.test('control socket: root-only mode, status replies, malformed requests get errors and the server stays up', async (t) => {
  const dir = shortDir(t);
  const path = join(dir, 'sub', 'agent.sock');
  const server = await ControlServer.listen(path, fakeHandler());
  t.teardown(() => server.close());
  t.equal(statSync(path).mode & 0o777, 0o600, 'socket is 0600');
  t.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700, 'its directory is 0700');
  t.same(await requestStatus(path), status);
  const replies = await exchange(path, 'not json\n{"command":"reboot"}\n[]\n{"command":"status"}\n', 4);
  const parsed = replies.map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string; message: string } });
  t.match(parsed[0], { ok: false, error: { code: 'HA_ERR_INVALID_ARGUMENT', message: 'request is not valid JSON' } });
  t.match(parsed[1], { ok: false, error: { message: /unknown command "reboot"/ } });
  t.match(parsed[2], { ok: false, error: { message: 'request must be a JSON object' } });
  t.match(parsed[3], { ok: true, status: { version: 'test' } }, 'the same connection still answers');
  const huge = await exchange(path, 'x'.repeat(70 * 1024), 1);
  t.match(JSON.parse(huge[0] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT', message: /longer than/ } });
  t.same(await requestStatus(path), status, 'server still up after abuse');
});

t.test('a second agent on the same socket is refused; a stale socket file is replaced', async (t) => {
  const dir = shortDir(t);
  const path = join(dir, 'agent.sock');
  const first = await ControlServer.listen(path, fakeHandler());
  await t.rejects(ControlServer.listen(path, fakeHandler()), { code: 'HA_ERR_CONTROL', message: /already answering/ });
  first.close();
  const again = await ControlServer.listen(path, fakeHandler());
  t.same(await requestStatus(path), status);
  again.close();
});

t.test('commands reach the agent; its errors become error replies; events stream until closed', async (t) => {
  const dir = shortDir(t);
  const path = join(dir, 'agent.sock');
  const h = fakeHandler();
  const server = await ControlServer.listen(path, h);
  t.teardown(() => server.close());
  t.match(await request(path, { command: 'maintenance', on: true, instance: 'web' }), { ok: true, message: 'ok' });
  t.match(await request(path, { command: 'switchover' }), { ok: true, message: 'handing over' });
  t.match(await request(path, { command: 'switchover', instance: 'nope' }), { ok: false, error: { code: 'HA_ERR_INVALID_ARGUMENT', message: /no instance named "nope"/ } });
  t.match(await request(path, { command: 'reload' }), { ok: true, message: 'reloaded' });
  t.match(await request(path, { command: 'promote', force: true, instance: 'db' }), { ok: true, message: 'taking over' });
  t.match(await request(path, { command: 'promote', force: true, instance: 'live' }), { ok: false, error: { code: 'HA_ERR_INVALID_ARGUMENT', message: /has a master \(192\.0\.2\.9\); run switchover there/ } });
  t.same(h.calls, ['maintenance true web', 'switchover *', 'reload', 'promote db']);
  const bad = await exchange(path, '{"command":"maintenance"}\n', 1);
  t.match(JSON.parse(bad[0] ?? '{}'), { ok: false, error: { message: /needs "on"/ } });
  const got: string[] = [];
  let done: () => void = () => undefined;
  const twoEvents = new Promise<void>((resolve) => { done = resolve; });
  const ac = new AbortController();
  const sub = request(path, { command: 'events' }, {
    signal: ac.signal,
    onEvent: (ev) => { got.push(ev.type); if (got.length === 2) done(); },
  });
  t.match(await sub, { ok: true, message: 'subscribed' });
  h.events.publish({ type: 'advert-sent', instance: 'web' });
  h.events.publish({ type: 'transition', instance: 'web', vrid: 1, from: 'BACKUP', to: 'MASTER', reason: 'test' });
  h.events.publish({ type: 'maintenance', instance: 'web', on: true });
  await twoEvents;
  ac.abort();
  t.same(got, ['transition', 'maintenance'], 'per-packet events are not streamed by default');
});

t.test('a socket path too long for sockaddr_un is refused with the reason', async (t) => {
  await t.rejects(ControlServer.listen(`/tmp/${'x'.repeat(120)}.sock`, fakeHandler()), { code: 'HA_ERR_CONTROL', message: /unix sockets allow at most 107/ });
});

t.test('no agent: HA_ERR_NO_AGENT names the socket', async (t) => {
  await t.rejects(requestStatus('/nonexistent/haagent.sock'), { code: 'HA_ERR_NO_AGENT', message: /nothing listens on \/nonexistent\/haagent\.sock/ });
});

/** A raw client: every line it receives, and a promise for its close. */
interface RawClient {
  readonly sock: Socket;
  readonly lines: string[];
  readonly closed: Promise<void>;
  /** Resolves with the `n`th line (1-based) once it has arrived. */
  line(n: number): Promise<string>;
}

function rawClient(path: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const lines: string[] = [];
    const waiters: Array<() => void> = [];
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      for (const w of waiters.splice(0)) w();
    });
    sock.on('error', () => undefined); // a reset after the agent's last line is expected
    const closed = new Promise<void>((r) => sock.once('close', () => { for (const w of waiters.splice(0)) w(); r(); }));
    const line = (n: number): Promise<string> => new Promise((res, rej) => {
      const check = (): void => {
        const l = lines[n - 1];
        if (l !== undefined) res(l);
        else if (sock.destroyed) rej(new Error(`closed after ${lines.length} line(s), wanted ${n}`));
        else waiters.push(check);
      };
      check();
    });
    sock.once('connect', () => resolve({ sock, lines, closed, line }));
    sock.once('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function listenWith(t: { teardown: (fn: () => void) => void }, limits: Partial<ControlLimits>, h = fakeHandler()): Promise<{ server: ControlServer; path: string; h: ReturnType<typeof fakeHandler>; warnings: Array<Record<string, unknown>> }> {
  const path = join(shortDir(t), 'agent.sock');
  const warnings: Array<Record<string, unknown>> = [];
  const server = await ControlServer.listen(path, h, { limits, log: { warn: (obj) => { warnings.push(obj as Record<string, unknown>); } } });
  t.teardown(() => server.close());
  return { server, path, h, warnings };
}

t.test('an 8 KB nested-bracket request gets HA_ERR_LIMIT; the same connection and the server still answer status', async (t) => {
  const { path } = await listenWith(t, {});
  const nested = `{"command":${'['.repeat(4096)}${']'.repeat(4096)}}`;
  const replies = await exchange(path, `${nested}\n{"command":"status"}\n`, 2);
  t.match(JSON.parse(replies[0] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT', message: /nests brackets deeper than 8 levels/ } });
  t.ok((replies[0] ?? '').length < 300, 'the error quotes none of the 8 KB');
  t.match(JSON.parse(replies[1] ?? '{}'), { ok: true, status: { version: 'test' } });
  t.same(await requestStatus(path), status);
});

t.test('a line that grows past maxLineBytes is refused and the connection closed; nothing more is buffered', async (t) => {
  const { server, path, warnings } = await listenWith(t, { maxLineBytes: 1024 });
  const c = await rawClient(path);
  const chunk = 'x'.repeat(512);
  c.sock.write(chunk);
  await sleep(50);
  t.equal(c.lines.length, 0, 'a partial line under the bound is kept waiting');
  // Keep writing (up to 1 MiB) as a flooding client would; the agent must close.
  for (let i = 0; i < 2048 && !c.sock.destroyed && c.sock.writable; i++) c.sock.write(chunk);
  await c.closed;
  t.match(JSON.parse(c.lines[0] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT', message: 'request longer than 1024 bytes; closing' } });
  t.equal(c.lines.length, 1, 'one final line');
  t.equal(server.counters().closedForLimit['line-too-long'], 1, 'counted');
  t.match(warnings, [{ reason: 'line-too-long', total: 1 }], 'logged');
  // A request of exactly the bound is fine; multi-byte characters count as bytes.
  const exact = `{"command":"status","pad":"${'x'.repeat(1024 - 29)}"}`;
  t.equal(Buffer.byteLength(exact), 1024);
  t.match(JSON.parse((await exchange(path, `${exact}\n`, 1))[0] ?? '{}'), { ok: true });
  const wide = `{"command":"status","pad":"${'\u00e9'.repeat(600)}"}`;
  t.match(JSON.parse((await exchange(path, `${wide}\n`, 1))[0] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT' } }, '600 two-byte characters are 1,200 bytes');
  for (let i = 0; i < 50 && server.counters().openConnections > 0; i++) await sleep(20);
  t.equal(server.counters().openConnections, 0, 'closed connections are forgotten');
});

t.test('connection cap: the next connection is told "too many connections" and closed; a freed slot serves again', async (t) => {
  const { server, path, warnings } = await listenWith(t, { maxConnections: 3 });
  const held = [await rawClient(path), await rawClient(path), await rawClient(path)];
  await sleep(20);
  t.equal(server.counters().openConnections, 3);
  const refused = await Promise.all(Array.from({ length: 20 }, () => rawClient(path)));
  await Promise.all(refused.map((c) => c.closed));
  for (const c of refused) t.match(JSON.parse(c.lines[0] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT', message: 'too many connections (3 open); try again later' } });
  t.equal(server.counters().openConnections, 3, 'refused connections hold no slot');
  for (let i = 0; i < 50 && server.counters().lingeringConnections > 0; i++) await sleep(20);
  t.equal(server.counters().lingeringConnections, 0, 'each refused connection went once its client had read the refusal');
  t.equal(server.counters().closedForLimit['too-many-connections'], 20, 'each refusal counted');
  t.equal(warnings.filter((w) => w['reason'] === 'too-many-connections').length, 1, 'logged once, not 20 times');
  await t.rejects(requestStatus(path), { code: 'HA_ERR_CONTROL', message: /the agent refused: too many connections/ }, 'the CLI client says why');
  held[0]?.sock.destroy();
  await held[0]?.closed;
  await sleep(20);
  t.same(await requestStatus(path), status, 'a freed slot serves again');
});

t.test('refused connections whose clients never close are bounded (maxLingering) and go after the grace period', async (t) => {
  const { server, path } = await listenWith(t, { maxConnections: 1, maxLingering: 5, closeGraceMs: 300 });
  const held = await rawClient(path);
  // Clients that keep their side open: allowHalfOpen, so the agent's end of stream does not close them.
  const stubborn = await Promise.all(Array.from({ length: 30 }, () => new Promise<Socket>((resolve) => {
    const s = createConnection({ path, allowHalfOpen: true });
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
  })));
  t.teardown(() => { for (const s of stubborn) s.destroy(); });
  await sleep(100);
  t.equal(server.counters().lingeringConnections, 5, 'at most maxLingering wait for their client');
  await sleep(500);
  t.equal(server.counters().lingeringConnections, 0, 'and they go after the grace period');
  t.equal(server.counters().closedForLimit['too-many-connections'], 30);
  held.sock.destroy();
});

t.test('idle timeout: a partial or missing request is closed in time, trickling does not extend it; a subscriber is not idle', async (t) => {
  const { server, path, h } = await listenWith(t, { idleTimeoutMs: 300 });
  const silent = await rawClient(path);
  const partial = await rawClient(path);
  partial.sock.write('{"comm');
  const trickle = await rawClient(path);
  const timer = setInterval(() => { if (trickle.sock.writable) trickle.sock.write(' '); }, 50);
  t.teardown(() => clearInterval(timer));
  const after = await rawClient(path);
  after.sock.write('{"command":"status"}\n');
  const sub = await rawClient(path);
  sub.sock.write('{"command":"events"}\n');
  await sub.line(1);
  await Promise.all([silent.closed, partial.closed, trickle.closed, after.closed]);
  clearInterval(timer);
  for (const c of [silent, partial, trickle]) {
    t.match(JSON.parse(c.lines[0] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT', message: 'no complete request within 300 ms; closing' } });
  }
  t.match(JSON.parse(after.lines[0] ?? '{}'), { ok: true, status: { version: 'test' } });
  t.match(JSON.parse(after.lines[1] ?? '{}'), { ok: false, error: { code: 'HA_ERR_LIMIT' } }, 'after its reply, a connection gets a fresh idle period');
  t.equal(server.counters().closedForLimit.idle, 4);
  await sleep(900); // three idle periods
  t.notOk(sub.sock.destroyed, 'the subscriber is still connected');
  h.events.publish({ type: 'maintenance', instance: 'web', on: true });
  t.match(JSON.parse(await sub.line(2)), { event: { type: 'maintenance', on: true } });
  sub.sock.destroy();
});

t.test('a subscriber that stops reading is cut off as too slow; the agent holds at most the bound plus one line', async (t) => {
  const maxBufferedBytes = 64 * 1024;
  const { server, path, h } = await listenWith(t, { maxBufferedBytes });
  const sub = await rawClient(path);
  sub.sock.write('{"command":"events"}\n');
  t.match(JSON.parse(await sub.line(1)), { ok: true, message: 'subscribed' });
  sub.sock.pause();
  const detail = 'd'.repeat(4096);
  let maxBuffered = 0;
  let published = 0;
  for (; published < 2000 && server.counters().closedForLimit['too-slow'] === 0; published++) {
    h.events.publish({ type: 'check', instance: 'web', check: 'http', status: 'failing', ok: false, detail, latencyMs: published });
    maxBuffered = Math.max(maxBuffered, server.counters().bufferedBytes);
  }
  t.equal(server.counters().closedForLimit['too-slow'], 1, 'cut off', { published });
  t.ok(maxBuffered <= maxBufferedBytes + 2 * 4096 + 1024, 'buffered bytes stayed within the bound plus one event and the final line', { maxBuffered, published });
  t.equal(h.events.listenerCount('event'), 0, 'unsubscribed from the bus at once');
  for (let i = 0; i < 100; i++) h.events.publish({ type: 'maintenance', instance: 'web', on: true });
  t.ok(server.counters().bufferedBytes <= maxBufferedBytes + 2 * 4096 + 1024, 'later events are not queued for it');
  sub.sock.resume();
  await sub.closed;
  const last = JSON.parse(sub.lines[sub.lines.length - 1] ?? '{}') as unknown;
  t.match(last, { ok: false, error: { code: 'HA_ERR_LIMIT', message: `too slow: more than ${maxBufferedBytes} bytes of replies or events left unread; closing` } }, 'its last line says why');
  t.ok(sub.lines.length > 10, 'the events before the cut were delivered', { lines: sub.lines.length });
  t.same(await requestStatus(path), status);
});

t.test('a client that pipelines requests and never reads the replies is cut off too', async (t) => {
  const { server, path } = await listenWith(t, { maxBufferedBytes: 16 * 1024 });
  const c = await rawClient(path);
  c.sock.pause();
  const many = '{"command":"status"}\n'.repeat(3000); // 63 KB of requests, some 800 KB of replies
  c.sock.write(many);
  for (let i = 0; i < 100 && server.counters().closedForLimit['too-slow'] === 0; i++) await sleep(20);
  t.equal(server.counters().closedForLimit['too-slow'], 1);
  t.ok(server.counters().bufferedBytes < 64 * 1024, 'replies not written', { buffered: server.counters().bufferedBytes });
  c.sock.destroy();
});

t.test('requests pipelined behind a slow answer are not read until it comes (at most maxPendingRequests at once), and none is lost', async (t) => {
  let calls = 0;
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => { release = r; });
  const h = { ...fakeHandler(), reload: async (): Promise<string> => { calls++; await released; return `reloaded ${calls}`; } };
  const { path } = await listenWith(t, { maxPendingRequests: 3 }, h);
  const c = await rawClient(path);
  c.sock.write('{"command":"reload"}\n'.repeat(1000));
  await sleep(200);
  t.equal(calls, 3, 'three reloads asked of the agent; the rest not read yet');
  t.equal(c.lines.length, 0);
  release();
  await c.line(1000);
  t.equal(calls, 1000, 'every request was answered once released');
  t.ok(c.lines.every((l) => (JSON.parse(l) as { ok: boolean }).ok), 'all replies ok');
  c.sock.destroy();
});

t.test('a closed connection is destroyed after the grace period even if the client never reads its last line', async (t) => {
  const { server, path, h } = await listenWith(t, { maxBufferedBytes: 8 * 1024, closeGraceMs: 200 });
  const sub = await rawClient(path);
  sub.sock.write('{"command":"events"}\n');
  await sub.line(1);
  sub.sock.pause();
  const detail = 'd'.repeat(4096);
  for (let i = 0; i < 1000 && server.counters().closedForLimit['too-slow'] === 0; i++) {
    h.events.publish({ type: 'check', instance: 'web', check: 'http', status: 'failing', ok: false, detail, latencyMs: i });
  }
  t.equal(server.counters().closedForLimit['too-slow'], 1);
  for (let i = 0; i < 50 && server.counters().openConnections > 0; i++) await sleep(20);
  t.equal(server.counters().openConnections, 0, 'gone from the agent');
  t.equal(server.counters().bufferedBytes, 0, 'its buffer released');
  sub.sock.destroy();
});

t.test('client: an event stream cut off as too slow reports HA_ERR_LIMIT through onClose; a refused subscription does not call it', async (t) => {
  const { server, path, h } = await listenWith(t, { maxBufferedBytes: 16 * 1024 });
  let release: () => void = () => undefined;
  const stuck = new Promise<void>((r) => { release = r; });
  let closedWith: unknown = 'not called';
  const closed = new Promise<void>((resolve) => {
    void request(path, { command: 'events', types: ['check'] }, {
      onEvent: () => stuck, // a consumer that cannot keep up (like a full stdout pipe)
      onClose: (err) => { closedWith = err; resolve(); },
    });
  });
  await sleep(50);
  const detail = 'd'.repeat(4096);
  for (let i = 0; i < 2000 && server.counters().closedForLimit['too-slow'] === 0; i++) {
    h.events.publish({ type: 'check', instance: 'web', check: 'http', status: 'failing', ok: false, detail, latencyMs: i });
    if (i % 50 === 0) await sleep(1);
  }
  t.equal(server.counters().closedForLimit['too-slow'], 1, 'the paused client made the agent cut it off');
  release();
  await closed;
  t.match(closedWith, { code: 'HA_ERR_LIMIT', message: /^the agent ended the event stream: too slow/ });

  const full = await listenWith(t, { maxConnections: 0 });
  let called = false;
  const r = await request(full.path, { command: 'events' }, { onEvent: () => undefined, onClose: () => { called = true; } });
  t.match(r, { ok: false, error: { code: 'HA_ERR_LIMIT', message: /too many connections/ } });
  await sleep(50);
  t.notOk(called, 'onClose is only for accepted streams');
});

t.test('client: a connection closed without a reply is an error at once, not a timeout', async (t) => {
  const path = join(shortDir(t), 'mute.sock');
  const { createServer } = await import('node:net');
  const mute = createServer((c) => c.destroy());
  await new Promise<void>((r) => mute.listen(path, r));
  t.teardown(() => mute.close());
  await t.rejects(request(path, { command: 'status' }, { timeoutMs: 5000 }), { code: 'HA_ERR_CONTROL', message: /closed the connection without replying/ });
});

t.test('client: a consumer paused at the end of the stream still learns why it ended', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-ctl-end-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 's.sock');
  const events = Array.from({ length: 50 }, (_, i) => JSON.stringify({ event: { at: 'x', type: 'drop', instance: null, iface: 'eth0', reason: `r${i}` } })).join('\n');
  const server = createServer((conn) => {
    conn.once('data', () => conn.end(`{"ok":true,"message":"subscribed"}\n${events}\n{"ok":false,"error":{"code":"HA_ERR_LIMIT","message":"too slow: test"}}\n`));
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.teardown(() => server.close());
  let delivered = 0;
  const closed = new Promise<Error | undefined>((resolve) => {
    void request(path, { command: 'events' }, {
      // The consumer's output is "full" after the first event and never drains.
      onEvent: () => { delivered++; return new Promise<void>(() => undefined); },
      onClose: (err) => resolve(err),
    });
  });
  const err = await closed;
  t.equal(delivered, 1, 'the consumer paused after one event');
  t.match(err, { code: 'HA_ERR_LIMIT', message: 'the agent ended the event stream: too slow: test' });
});
