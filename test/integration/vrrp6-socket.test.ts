/**
 * IPv6 VRRP transport (native/vrrp6_socket.c via src/adapters/vrrp6-socket.ts) against a real
 * kernel: real VRRPv3 adverts between two namespaces, checked with the codec, so the hop limit,
 * source and destination the socket reports are exactly what the IPv6 pseudo-header needs.
 *
 * Topology: netns hav6-<pid>-a (va) <-veth-> netns hav6-<pid>-b (vb), DAD off, link-local
 * addresses only. Each side runs a child process (`ip netns exec`, tap's TypeScript loader)
 * that opens a Vrrp6Socket and speaks one JSON object per line:
 *   stdin : { "id": 1, "cmd": "send", "dst": "ff02::12", "hex": "31..." }
 *         | { "cmd": "closeOnNextMessage" }
 *   stdout: { "ready": true } | { "id": 1, "ok": true } | { "id": 1, "ok": false, "error": "..." }
 *         | { "message": { "hex", "src", "dst", "hopLimit" } } | { "closedInCallback": true }
 *         | { "recvError": "..." } | { "openError": { ... } }
 * The child closes its socket and exits when stdin closes.
 */
import t from 'tap';
import { Vrrp6Socket, VRRP_MULTICAST_V6 } from '../../src/adapters/vrrp6-socket.js';
import { HaagentError } from '../../src/core/errors.js';
import { decodeAdvertisement } from '../../src/core/packet/decode.js';
import { encodeAdvertisement } from '../../src/core/packet/encode.js';
import type { Advertisement } from '../../src/core/packet/vrrp-types.js';
import { createNamespaces, ip, JsonLineChild, linkLocal, moduleScript, runTsChild, vethPair } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';

const adapterUrl = new URL('../../src/adapters/vrrp6-socket.ts', import.meta.url).href;

const ADVERT: Advertisement = {
  version: 3,
  family: 6,
  vrid: 51,
  priority: 100,
  maxAdvertIntervalCs: 100,
  addresses: ['fe80::1', 'fd00:77::100'],
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Received {
  hex: string;
  src: string;
  dst: string;
  hopLimit: number;
}
type Line = Record<string, unknown> & { id?: number; ok?: boolean; error?: string; message?: Received };

/** A child process in `ns` holding a Vrrp6Socket on `ifname`. */
class Peer extends JsonLineChild<Line> {
  #nextId = 1;

  static async start(ns: string, ifname: string, sourceLinkLocal: string): Promise<Peer> {
    const script = `
      import { createInterface } from 'node:readline';
      const [url, ifname, ll] = process.argv.slice(1);
      const { Vrrp6Socket } = await import(url);
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      let closeOnNext = false;
      let sock;
      try {
        sock = Vrrp6Socket.open(ifname, ll, (m) => {
          out({ message: { hex: Buffer.from(m.message).toString('hex'), src: m.src, dst: m.dst, hopLimit: m.hopLimit } });
          if (closeOnNext) { sock.close(); sock.close(); out({ closedInCallback: true }); }
        }, (e) => out({ recvError: e.message }));
      } catch (e) {
        out({ openError: { name: e.name, code: e.code, message: e.message, causeCode: e.cause?.code } });
        process.exit(0);
      }
      createInterface({ input: process.stdin }).on('line', (line) => {
        const req = JSON.parse(line);
        if (req.cmd === 'closeOnNextMessage') { closeOnNext = true; return; }
        sock.send(Buffer.from(req.hex, 'hex'), req.dst).then(
          () => out({ id: req.id, ok: true }),
          (e) => out({ id: req.id, ok: false, error: e.message }));
      }).on('close', () => sock.close());
      out({ ready: true });
    `;
    const peer = new Peer(runTsChild(ns, moduleScript(script, adapterUrl, ifname, sourceLinkLocal)), ns);
    const first = await peer.firstLine((l) => l.ready === true || l.openError !== undefined, `peer in ${ns}`);
    if (first.ready !== true) throw new Error(`peer in ${ns} could not open: ${JSON.stringify(first)}`);
    return peer;
  }

  async send(message: Uint8Array, dst: string): Promise<void> {
    const id = this.#nextId++;
    this.command({ id, cmd: 'send', dst, hex: Buffer.from(message).toString('hex') });
    const reply = await this.waitFor((l) => l.id === id);
    if (reply.ok !== true) throw new Error(`${this.name}: send to ${dst} failed: ${reply.error ?? '?'}`);
  }

  messages(): Received[] {
    return this.lines.flatMap((l) => (l.message === undefined ? [] : [l.message]));
  }

  clear(): void {
    this.lines.length = 0;
  }
}

/** Sends `msg` from a plain Python raw socket with multicast hop limit 1 (not via our code). */
function sendWithHopLimitOne(ns: string, ifname: string, msg: Uint8Array): void {
  const py = [
    'import socket, sys',
    'ifname, dst, hexmsg = sys.argv[1:]',
    's = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())',
    'idx = socket.if_nametoindex(ifname)',
    's.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)',
    's.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)',
    's.sendto(bytes.fromhex(hexmsg), (dst, 0, 0, idx))',
  ].join('\n');
  ip('netns', 'exec', ns, 'python3', '-c', py, ifname, VRRP_MULTICAST_V6, Buffer.from(msg).toString('hex'));
}

function decode(m: Received): ReturnType<typeof decodeAdvertisement> {
  return decodeAdvertisement(Buffer.from(m.hex, 'hex'), { family: 6, src: m.src, dst: m.dst, ttl: m.hopLimit });
}

const reason = skipReason({ needs: ['python3'] });
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  const nsA = `hav6-${process.pid}-a`;
  const nsB = `hav6-${process.pid}-b`;
  createNamespaces(t, [nsA, nsB]);
  // No duplicate address detection: the link-local source is usable as soon as it exists.
  vethPair({ ns: nsA, dev: 'va', sysctls: ['net.ipv6.conf.va.accept_dad=0'] }, { ns: nsB, dev: 'vb', sysctls: ['net.ipv6.conf.vb.accept_dad=0'] });
  const llA = await linkLocal(nsA, 'va');
  const llB = await linkLocal(nsB, 'vb');

  const a = await Peer.start(nsA, 'va', llA);
  const b = await Peer.start(nsB, 'vb', llB);
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });

  t.test('a multicast advert arrives with the sender link-local, ff02::12, hop limit 255, and decodes', async (t) => {
    a.clear();
    b.clear();
    const msg = encodeAdvertisement(ADVERT, { src: llA, dst: VRRP_MULTICAST_V6 });
    await a.send(msg, VRRP_MULTICAST_V6);
    const got = (await b.waitFor((l) => l.message !== undefined)).message;
    if (got === undefined) throw new Error('unreachable');
    t.equal(got.src, llA, 'source is the sender link-local');
    t.equal(got.dst, VRRP_MULTICAST_V6, 'destination is the VRRP group');
    t.equal(got.hopLimit, 255, 'hop limit 255');
    t.equal(got.hex, Buffer.from(msg).toString('hex'), 'bytes unchanged (the kernel did not touch the checksum)');
    t.same(decode(got), { ok: true, advert: ADVERT, checksumForm: 'v3-ipv6' }, 'the codec accepts it: pseudo-header checksum matches');

    // Our own multicast is not looped back to us (IPV6_MULTICAST_LOOP=0).
    await sleep(500);
    t.same(a.messages(), [], 'the sender did not receive its own advert');
  });

  t.test('unicast to the peer link-local arrives with our address as destination', async (t) => {
    a.clear();
    b.clear();
    const msg = encodeAdvertisement({ ...ADVERT, priority: 200 }, { src: llB, dst: llA });
    await b.send(msg, llA);
    const got = (await a.waitFor((l) => l.message !== undefined)).message;
    if (got === undefined) throw new Error('unreachable');
    t.equal(got.src, llB);
    t.equal(got.dst, llA, 'destination is our unicast link-local');
    t.equal(got.hopLimit, 255);
    t.same(decode(got), { ok: true, advert: { ...ADVERT, priority: 200 }, checksumForm: 'v3-ipv6' });
  });

  t.test('a packet sent with hop limit 1 is reported with hop limit 1, so the codec drops it', async (t) => {
    b.clear();
    const msg = encodeAdvertisement(ADVERT, { src: llA, dst: VRRP_MULTICAST_V6 });
    sendWithHopLimitOne(nsA, 'va', msg);
    const got = (await b.waitFor((l) => l.message !== undefined)).message;
    if (got === undefined) throw new Error('unreachable');
    t.equal(got.hopLimit, 1, 'the real hop limit is reported');
    t.equal(got.src, llA);
    const result = decode(got);
    t.equal(result.ok, false);
    t.equal(result.ok ? undefined : result.reason, 'bad-ttl', 'dropped for its hop limit');
  });

  t.test('closing inside onMessage stops delivery without crashing; the child then exits cleanly', async (t) => {
    b.clear();
    b.command({ cmd: 'closeOnNextMessage' });
    const msg = encodeAdvertisement(ADVERT, { src: llA, dst: VRRP_MULTICAST_V6 });
    await a.send(msg, VRRP_MULTICAST_V6);
    await b.waitFor((l) => l.closedInCallback === true);
    await a.send(msg, VRRP_MULTICAST_V6);
    await sleep(300);
    t.equal(b.messages().length, 1, 'nothing is delivered after close');
    t.same(b.lines.filter((l) => l.recvError !== undefined), [], 'no receive errors');
    t.equal(await b.stop(), 0, 'the closed socket no longer holds the event loop; exit code 0');
  });

  t.test('opening on a missing interface throws HA_ERR_SOCKET naming it', async (t) => {
    const name = `hav6nope${process.pid % 100000}`;
    let thrown: unknown;
    try {
      Vrrp6Socket.open(name, 'fe80::1', () => undefined, () => undefined).close();
    } catch (err) {
      thrown = err;
    }
    t.ok(thrown instanceof HaagentError, 'a HaagentError');
    const err = thrown as HaagentError;
    t.equal(err.code, 'HA_ERR_SOCKET');
    t.match(err.message, name, 'the message names the interface');
    t.equal((err.cause as { code?: unknown } | undefined)?.code, 'ENODEV', 'the native cause says ENODEV');
  });

  t.test('sending after close rejects with HA_ERR_SOCKET', async (t) => {
    const sock = Vrrp6Socket.open('lo', '::1', () => undefined, () => undefined);
    sock.close();
    sock.close();
    await t.rejects(sock.send(new Uint8Array(8), VRRP_MULTICAST_V6), { code: 'HA_ERR_SOCKET' });
  });
}
