/**
 * PeerSocket (src/adapters/peer-socket.ts) with real kernels.
 *
 * Part 1 (no root needed): loopback sockets in this process — round trip, the rejections of
 * open/send, idempotent close, a throwing message handler.
 *
 * Part 2 (root, network namespaces): two namespaces hapr-<pid>-a and hapr-<pid>-b joined by TWO
 * veth pairs, i.e. two heartbeat paths:
 *
 *     hapr-<pid>-a                          hapr-<pid>-b
 *     pa1 10.98.1.1/24  <--- path 1 --->  pb1 10.98.1.2/24
 *     pa2 10.98.2.1/24  <--- path 2 --->  pb2 10.98.2.2/24
 *
 * Each side runs a child process (`ip netns exec`, tap's TypeScript loader, cwd = repo root) that
 * opens one PeerSocket per path on port 5798 and speaks one JSON object per line:
 *   stdin : { "id": 1, "cmd": "send", "key"?: "..." }   one hello (one seq) to the peer on every path
 *   stdout: { "ready": true } | { "openError": "..." }
 *         | { "id": 1, "seq": 0, "results": [{ "path", "ok", "error"?: { "code", "message" } }] }
 *         | { "recv": { "path", "from": { address, port }, "ok", "hello"?, "reason"? } }
 *         | { "sockError": "..." }
 * The child closes its sockets and exits when stdin closes.
 */
import { createSocket } from 'node:dgram';
import t from 'tap';
import { PEER_TTL, PeerSocket } from '../../src/adapters/peer-socket.js';
import type { PeerDatagramSource } from '../../src/adapters/peer-socket.js';
import { HaagentError } from '../../src/core/errors.js';
import { addAddress, createNamespaces, ip, JsonLineChild, moduleScript, runTsChild, vethPair } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';

const helloUrl = new URL('../../src/core/peer/hello.ts', import.meta.url).href;
const socketUrl = new URL('../../src/adapters/peer-socket.ts', import.meta.url).href;

const PORT = 5798;
const KEY = 'integration-test-key';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

// ---------------------------------------------------------------- part 1: loopback, any user

t.test('loopback (no root needed)', async (t) => {
  const got: Array<{ bytes: Uint8Array; from: PeerDatagramSource }> = [];
  const errors: Error[] = [];
  const a = await PeerSocket.open('127.0.0.1', 0, (bytes, from) => got.push({ bytes: Uint8Array.from(bytes), from }), (e) => errors.push(e));
  t.teardown(() => a.close());
  const b = await PeerSocket.open('127.0.0.1', 0, () => undefined, (e) => errors.push(e));
  t.teardown(() => b.close());

  t.test('a datagram arrives whole, with the sender address and port', async (t) => {
    await b.send(new Uint8Array([1, 2, 3]), '127.0.0.1', a.local.port);
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    t.same(got.map((g) => [...g.bytes]), [[1, 2, 3]]);
    t.same(got[0]?.from, { address: '127.0.0.1', port: b.local.port });
  });

  t.test('open rejects bad text with HA_ERR_INVALID_ARGUMENT (no DNS)', async (t) => {
    t.match(await rejection(PeerSocket.open('localhost', 0, () => undefined, () => undefined)), { code: 'HA_ERR_INVALID_ARGUMENT' });
    t.match(await rejection(PeerSocket.open('10.0.0.1%eth0', 0, () => undefined, () => undefined)), { code: 'HA_ERR_INVALID_ARGUMENT' });
    t.match(await rejection(PeerSocket.open('127.0.0.1', 70_000, () => undefined, () => undefined)), { code: 'HA_ERR_INVALID_ARGUMENT' });
  });

  t.test('open rejects a bind failure with HA_ERR_SOCKET naming the address, cause attached', async (t) => {
    const notOurs = await rejection(PeerSocket.open('192.0.2.99', 0, () => undefined, () => undefined));
    t.ok(notOurs instanceof HaagentError);
    t.match(notOurs, { code: 'HA_ERR_SOCKET', message: /192\.0\.2\.99/, cause: { code: 'EADDRNOTAVAIL' } });
    const inUse = await rejection(PeerSocket.open('127.0.0.1', a.local.port, () => undefined, () => undefined));
    t.match(inUse, { code: 'HA_ERR_SOCKET', cause: { code: 'EADDRINUSE' } });
  });

  t.test('send never throws; every failure rejects with HA_ERR_SOCKET naming both ends', async (t) => {
    const cases: Array<[string, number, RegExp]> = [
      ['peer.example', PORT, /not an IP address/],
      ['::1', PORT, /IPv6 but the socket is IPv4/],
      ['127.0.0.1', 0, /port/],
    ];
    for (const [peer, port, why] of cases) {
      let p: Promise<void> | undefined;
      t.doesNotThrow(() => { p = b.send(new Uint8Array([0]), peer, port); });
      const err = await rejection(p ?? Promise.resolve());
      t.ok(err instanceof HaagentError);
      t.match(err, { code: 'HA_ERR_SOCKET', message: why }, peer);
      t.match(err, { message: /127\.0\.0\.1/ });
      t.match(err, { message: peer.includes(':') ? /\[::1\]/ : new RegExp(peer.replace(/\./g, '\\.')) });
    }
  });

  t.test('a throwing message handler reaches onError as HA_ERR_INTERNAL', async (t) => {
    const errs: Error[] = [];
    const c = await PeerSocket.open('127.0.0.1', 0, () => { throw new Error('boom'); }, (e) => errs.push(e));
    t.teardown(() => c.close());
    await b.send(new Uint8Array([9]), '127.0.0.1', c.local.port);
    for (let i = 0; i < 50 && errs.length === 0; i++) await sleep(20);
    t.match(errs, [{ code: 'HA_ERR_INTERNAL', message: /boom/ }]);
  });

  t.test('close is idempotent; sends after close reject; no callbacks after close', async (t) => {
    const c = await PeerSocket.open('127.0.0.1', 0, () => undefined, () => undefined);
    c.close();
    c.close();
    t.equal(c.closed, true);
    t.match(await rejection(c.send(new Uint8Array([1]), '127.0.0.1', a.local.port)), { code: 'HA_ERR_SOCKET', message: /closed/ });
    t.same(errors, []);
  });

  t.test('GTSM: a datagram sent with a TTL below 255 never reaches the handler; 255 does', async (t) => {
    t.equal(PEER_TTL, 255);
    // Loopback does not decrement the TTL, so what a plain socket sets is what arrives.
    const plain = createSocket('udp4');
    t.teardown(() => plain.close());
    await new Promise<void>((r) => plain.bind(0, '127.0.0.1', () => r()));
    const sendWithTtl = async (ttl: number, byte: number): Promise<void> => {
      plain.setTTL(ttl);
      await new Promise<void>((r, j) => plain.send(new Uint8Array([byte]), a.local.port, '127.0.0.1', (e) => (e ? j(e) : r())));
    };
    got.length = 0;
    await sendWithTtl(64, 64);
    await sendWithTtl(254, 254);
    await sendWithTtl(255, 255);
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    await sleep(100);
    t.same(got.map((g) => [...g.bytes]), [[255]], 'TTL 64 and 254 dropped by the kernel (socket filter), 255 delivered');
    // And a PeerSocket's own datagrams leave with 255 (else the receiver above would drop them).
    got.length = 0;
    await b.send(new Uint8Array([7]), '127.0.0.1', a.local.port);
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    t.same(got.map((g) => [...g.bytes]), [[7]]);
    // Without GTSM (tests only), the low-TTL datagram gets through: the filter above is real.
    const open = await PeerSocket.open('127.0.0.1', 0, (bytes) => got.push({ bytes: Uint8Array.from(bytes), from: { address: '', port: 0 } }), () => undefined, { gtsm: false });
    t.teardown(() => open.close());
    got.length = 0;
    plain.setTTL(64);
    await new Promise<void>((r, j) => plain.send(new Uint8Array([1]), open.local.port, '127.0.0.1', (e) => (e ? j(e) : r())));
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    t.same(got.map((g) => [...g.bytes]), [[1]]);
  });

  t.test('IPv6 loopback', async (t) => {
    let v6: PeerSocket;
    try {
      v6 = await PeerSocket.open('::1', 0, (bytes, from) => got.push({ bytes: Uint8Array.from(bytes), from }), () => undefined);
    } catch (err) {
      t.plan(0, `no IPv6 loopback here: ${(err as Error).message}`);
      return;
    }
    t.teardown(() => v6.close());
    got.length = 0;
    await v6.send(new Uint8Array([6]), '::1', v6.local.port);
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    t.same(got.map((g) => [...g.bytes]), [[6]]);
    t.equal(got[0]?.from.address, '::1');
    // GTSM on IPv6 too: a hop limit below 255 is dropped.
    const plain6 = createSocket('udp6');
    t.teardown(() => plain6.close());
    await new Promise<void>((r) => plain6.bind(0, '::1', () => r()));
    got.length = 0;
    for (const hops of [64, 255]) {
      plain6.setTTL(hops);
      await new Promise<void>((r, j) => plain6.send(new Uint8Array([hops]), v6.local.port, '::1', (e) => (e ? j(e) : r())));
    }
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(20);
    await sleep(100);
    t.same(got.map((g) => [...g.bytes]), [[255]], 'hop limit 64 dropped, 255 delivered');
  });
});

// ---------------------------------------------------------------- part 2: two namespaces, two paths

interface PathSpec { name: string; local: string; peer: string }
interface Recv { path: string; from: PeerDatagramSource; ok: boolean; hello?: { node: string; seq: number; vrrpAddress: string }; reason?: string }
interface SendResult { path: string; ok: boolean; error?: { code?: string; message?: string } }
type Line = { ready?: boolean; openError?: string; id?: number; seq?: number; results?: SendResult[]; recv?: Recv; sockError?: string };

const CHILD = `
  import { createInterface } from 'node:readline';
  const [helloUrl, socketUrl, cfgJson] = process.argv.slice(1);
  const { encodeHello, decodeHello } = await import(helloUrl);
  const { PeerSocket } = await import(socketUrl);
  const cfg = JSON.parse(cfgJson);
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
  const socks = [];
  try {
    for (const p of cfg.paths) {
      const sock = await PeerSocket.open(p.local, cfg.port, (bytes, from) => {
        const r = decodeHello(bytes, cfg.key);
        out({ recv: r.ok ? { path: p.name, from, ok: true, hello: r.hello } : { path: p.name, from, ok: false, reason: r.reason } });
      }, (e) => out({ sockError: e.message }));
      socks.push({ p, sock });
    }
  } catch (e) {
    out({ openError: e.message });
    process.exit(0);
  }
  let seq = 1;
  const boot = [...crypto.getRandomValues(new Uint8Array(8))].map((x) => x.toString(16).padStart(2, '0')).join('');
  const bootMs = Date.now();
  createInterface({ input: process.stdin }).on('line', async (line) => {
    const req = JSON.parse(line);
    const hello = {
      v: 2, instance: 'web', vrid: 51, node: cfg.node, state: 'BACKUP', priority: 100,
      vrrpAddress: cfg.paths[0].local.split('%')[0], advertIntervalCs: 100, epoch: 1, fingerprint: '0123456789abcdef', boot, bootMs, seq: seq++,
    };
    const bytes = encodeHello(hello, req.key ?? cfg.key);
    const results = await Promise.all(socks.map(({ p, sock }) => sock.send(bytes, p.peer, cfg.port).then(
      () => ({ path: p.name, ok: true }),
      (e) => ({ path: p.name, ok: false, error: { code: e.code, message: e.message } }))));
    out({ id: req.id, seq: hello.seq, results });
  }).on('close', () => { for (const { sock } of socks) sock.close(); });
  out({ ready: true });
`;

class Node extends JsonLineChild<Line> {
  #nextId = 1;

  static async start(ns: string, node: string, paths: PathSpec[]): Promise<Node> {
    const cfg = JSON.stringify({ node, port: PORT, key: KEY, paths });
    const n = new Node(runTsChild(ns, moduleScript(CHILD, helloUrl, socketUrl, cfg)), node);
    const first = await n.firstLine((l) => l.ready === true || l.openError !== undefined, node);
    if (first.ready !== true) throw new Error(`${node} could not open its sockets: ${first.openError ?? '?'}`);
    return n;
  }

  /** One hello (one seq) to the peer on every path; resolves with the seq and per-path results. */
  async sendRound(key?: string): Promise<{ seq: number; results: SendResult[] }> {
    const id = this.#nextId++;
    this.command(key === undefined ? { id, cmd: 'send' } : { id, cmd: 'send', key });
    const reply = await this.waitFor((l) => l.id === id);
    return { seq: reply.seq ?? -1, results: reply.results ?? [] };
  }

  received(): Recv[] {
    return this.lines.flatMap((l) => (l.recv === undefined ? [] : [l.recv]));
  }

  sockErrors(): string[] {
    return this.lines.flatMap((l) => (l.sockError === undefined ? [] : [l.sockError]));
  }
}

/**
 * Sends rounds from `from` until `to` has a decoded hello from `node` on `path` with a seq of at
 * least `minSeq` (the first datagrams of a path can be lost while ARP resolves).
 */
async function untilHeard(from: Node, to: Node, path: string, minSeq: number, timeoutMs = 10_000): Promise<Recv> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = to.received().find((r) => r.path === path && r.ok && r.hello?.node === from.name && (r.hello?.seq ?? -1) >= minSeq);
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`${to.name} heard no hello from ${from.name} on ${path} (seq >= ${minSeq}); got ${JSON.stringify(to.received())}`);
    await from.sendRound();
    await sleep(200);
  }
}

t.test('two namespaces, two paths', async (t) => {
  const reason = skipReason();
  if (reason !== undefined) {
    t.plan(0, reason);
    return;
  }
  const nsA = `hapr-${process.pid}-a`;
  const nsB = `hapr-${process.pid}-b`;
  createNamespaces(t, [nsA, nsB], { loopbackUp: true });
  for (const n of [1, 2]) {
    vethPair({ ns: nsA, dev: `pa${n}`, addresses: [`10.98.${n}.1/24`] }, { ns: nsB, dev: `pb${n}`, addresses: [`10.98.${n}.2/24`] });
  }
  // Fixed link-local addresses on path 2 (nodad: usable at once) for the IPv6 scope test.
  addAddress(nsA, 'pa2', 'fe80::a/64', 'nodad');
  addAddress(nsB, 'pb2', 'fe80::b/64', 'nodad');

  const a = await Node.start(nsA, 'node-a', [
    { name: 'pa1', local: '10.98.1.1', peer: '10.98.1.2' },
    { name: 'pa2', local: '10.98.2.1', peer: '10.98.2.2' },
  ]);
  t.teardown(() => a.stop());
  const b = await Node.start(nsB, 'node-b', [
    { name: 'pb1', local: '10.98.1.2', peer: '10.98.1.1' },
    { name: 'pb2', local: '10.98.2.2', peer: '10.98.2.1' },
  ]);
  t.teardown(() => b.stop());

  await t.test('hellos arrive on both paths, from the bound address and port, and decode with the key', async (t) => {
    const b1 = await untilHeard(a, b, 'pb1', 0);
    const b2 = await untilHeard(a, b, 'pb2', 0);
    t.same(b1.from, { address: '10.98.1.1', port: PORT }, 'path 1 source = the address bound on pa1');
    t.same(b2.from, { address: '10.98.2.1', port: PORT }, 'path 2 source = the address bound on pa2');
    t.match(b1.hello, { node: 'node-a', vrrpAddress: '10.98.1.1' });
    const a1 = await untilHeard(b, a, 'pa1', 0);
    const a2 = await untilHeard(b, a, 'pa2', 0);
    t.same([a1.from.address, a2.from.address], ['10.98.1.2', '10.98.2.2']);
    t.same(b.received().filter((r) => !r.ok), [], 'nothing rejected');
    t.same(a.received().filter((r) => !r.ok), [], 'nothing rejected');
  });

  await t.test('with path 1 down, hellos still arrive on path 2', async (t) => {
    ip('-n', nsA, 'link', 'set', 'pa1', 'down');
    await sleep(200);
    const before = b.received().length;
    const round = await a.sendRound();
    const p2 = round.results.find((r) => r.path === 'pa2');
    t.match(p2, { ok: true }, 'path 2 send succeeds');
    const p1 = round.results.find((r) => r.path === 'pa1');
    if (p1?.ok === false) {
      // The kernel drops the connected route of a downed link: ENETUNREACH, reported, not thrown.
      t.match(p1.error, { code: 'HA_ERR_SOCKET', message: /10\.98\.1\.1.*10\.98\.1\.2/ }, `path 1 send rejected: ${p1.error?.message ?? ''}`);
    }
    await b.waitFor((l) => l.recv?.path === 'pb2' && l.recv.hello?.seq === round.seq, 5_000);
    await sleep(300);
    const late = b.received().slice(before);
    t.same(late.filter((r) => r.path === 'pb1'), [], 'nothing on the downed path');
    t.same(late.map((r) => [r.path, r.ok, r.hello?.seq]), [['pb2', true, round.seq]]);

    // And the other direction: b's pb1 has lost carrier; its hello gets through on path 2.
    const back = await b.sendRound();
    await a.waitFor((l) => l.recv?.path === 'pa2' && l.recv.hello?.seq === back.seq, 5_000);
    t.pass('b -> a on path 2 while path 1 is down');
    t.same(a.sockErrors(), [], 'no socket errors on a (the socket survives the link going down)');
  });

  await t.test('path 1 comes back without reopening the socket', async (t) => {
    ip('-n', nsA, 'link', 'set', 'pa1', 'up');
    const { seq } = await a.sendRound();
    await untilHeard(a, b, 'pb1', seq + 1);
    t.pass('heard on path 1 again');
  });

  await t.test('a hello with the wrong key is rejected as bad-mac, on both paths', async (t) => {
    const before = b.received().length;
    await a.sendRound('not-the-key');
    await b.waitFor((l) => l.recv?.path === 'pb1' && l.recv.ok === false && b.received().indexOf(l.recv) >= before, 5_000);
    await b.waitFor((l) => l.recv?.path === 'pb2' && l.recv.ok === false && b.received().indexOf(l.recv) >= before, 5_000);
    const late = b.received().slice(before);
    t.same(late.map((r) => [r.path, r.ok, r.reason]).sort(), [['pb1', false, 'bad-mac'], ['pb2', false, 'bad-mac']]);
  });

  await t.test('IPv6 link-local: bound with its scope; a scope-less link-local peer gets the local scope', async (t) => {
    const a6 = await Node.start(nsA, 'node-a6', [{ name: 'pa2', local: 'fe80::a%pa2', peer: 'fe80::b' }]);
    t.teardown(() => a6.stop());
    const b6 = await Node.start(nsB, 'node-b6', [{ name: 'pb2', local: 'fe80::b%pb2', peer: 'fe80::a%pb2' }]);
    t.teardown(() => b6.stop());
    const heard = await untilHeard(a6, b6, 'pb2', 0);
    t.match(heard, { ok: true, from: { address: /^fe80::a(%pb2)?$/, port: PORT }, hello: { node: 'node-a6', vrrpAddress: 'fe80::a' } });
    const back = await untilHeard(b6, a6, 'pa2', 0);
    t.match(back.from, { address: /^fe80::b(%pa2)?$/ });
  });

  t.equal(await a.stop(), 0, 'a exits cleanly');
  t.equal(await b.stop(), 0, 'b exits cleanly');
});
