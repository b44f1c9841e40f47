/**
 * The send-only native IPv4 VRRP socket (native/vrrp4_send.c via src/adapters/vrrp4-send.ts and
 * RawVrrpSocket) against a real kernel:
 * - the frames it puts on the wire are the encoder's bytes behind the IPv4 header the kernel
 *   builds, and equal, frame for frame (apart from the IP identification and hence the header
 *   checksum, which the kernel picks per packet), to what the previous send path (raw-socket's
 *   send on a socket with the same options) put there, multicast and unicast;
 * - it queues nothing it could receive, while an ordinary raw protocol-112 socket on the same
 *   interface, not read, queues the same adverts (/proc/net/raw rx_queue).
 *
 * Topology: netns hav4s-<pid>-a (va, 10.77.4.1/24) <-veth-> netns hav4s-<pid>-b (vb, 10.77.4.2/24).
 * In a: a child holding a RawVrrpSocket ("new"), an old-style raw-socket sender ("old"), a bare
 * send-only socket and a paused raw-socket receiver ("control"); it answers one JSON line per
 * command. In b: a Python AF_PACKET capture printing every IPv4 protocol-112 frame it sees, and
 * Python one-shot senders for adverts towards a.
 */
import t from 'tap';
import { encodeAdvertisement } from '../../src/core/packet/encode.js';
import type { Advertisement } from '../../src/core/packet/vrrp-types.js';
import { captureVrrp, createNamespaces, ip, JsonLineChild, moduleScript, runTsChild, vethPair } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';

const socketUrl = new URL('../../src/adapters/vrrp-socket.ts', import.meta.url).href;
const sendUrl = new URL('../../src/adapters/vrrp4-send.ts', import.meta.url).href;
const bindingUrl = new URL('../../src/adapters/packet-socket.ts', import.meta.url).href;

const A = '10.77.4.1';
const B = '10.77.4.2';
const GROUP = '224.0.0.18';
const ADVERT: Advertisement = { version: 3, family: 4, vrid: 77, priority: 150, maxAdvertIntervalCs: 100, addresses: ['192.0.2.77', '192.0.2.78'] };

type Line = Record<string, unknown> & { id?: number; ok?: boolean; error?: string; frame?: string };

/** Sender side (namespace a). */
class Sender extends JsonLineChild<Line> {
  #nextId = 1;

  static async start(ns: string): Promise<Sender> {
    const script = `
      import { createInterface } from 'node:readline';
      import { createRequire } from 'node:module';
      import { readlinkSync } from 'node:fs';
      const [socketUrl, sendUrl, bindingUrl] = process.argv.slice(1);
      const { RawVrrpSocket } = await import(socketUrl);
      const { loadBinding } = await import(bindingUrl);
      const raw = createRequire(socketUrl)('raw-socket');
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      const ifindex = Number((await import('node:fs')).readFileSync('/sys/class/net/va/ifindex', 'utf8'));
      const inode = (fd) => /socket:\\[(\\d+)\\]/.exec(readlinkSync('/proc/self/fd/' + fd))[1];
      // The new path: the transport the agent uses.
      const fresh = RawVrrpSocket.open('va', ifindex, () => {}, (e) => out({ recvError: e.message }));
      // The previous path: raw-socket's send, on a socket with the options it used to have.
      const old = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: 112 });
      old.pauseRecv();
      const name = Buffer.from('va\\0');
      old.setOption(1, 25, name, name.length);
      old.setOption(0, 2, 255);
      old.setOption(0, 33, 255);
      old.setOption(0, 34, 0);
      const mreqn = Buffer.alloc(12); mreqn.writeInt32LE(ifindex, 8);
      old.setOption(0, 32, mreqn, mreqn.length);
      // A bare send-only socket whose descriptor we know, and an unread ordinary one (control).
      const bare = loadBinding().vrrp4Open('va', ifindex);
      const control = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: 112 });
      control.pauseRecv();
      control.setOption(1, 25, name, name.length);
      const controlFd = (await import('node:fs')).readdirSync('/proc/self/fd').map(Number)
        .filter((fd) => { try { return readlinkSync('/proc/self/fd/' + fd).startsWith('socket:'); } catch { return false; } })
        .sort((x, y) => y - x)[0];
      createInterface({ input: process.stdin }).on('line', (line) => {
        const req = JSON.parse(line);
        const msg = Buffer.from(req.hex, 'hex');
        if (req.path === 'new') {
          fresh.send(msg, req.dst).then(() => out({ id: req.id, ok: true }), (e) => out({ id: req.id, ok: false, error: e.message }));
        } else {
          old.send(msg, 0, msg.length, req.dst, null, (e) => out({ id: req.id, ok: !e, error: e?.message }));
        }
      }).on('close', () => { fresh.close(); old.close(); control.close(); loadBinding().close(bare); process.exit(0); });
      out({ ready: true, bareInode: inode(bare), controlInode: inode(controlFd) });
    `;
    const s = new Sender(runTsChild(ns, moduleScript(script, socketUrl, sendUrl, bindingUrl)), ns);
    const first = await s.firstLine((l) => l.ready === true, `sender in ${ns}`);
    s.bareInode = String(first['bareInode']);
    s.controlInode = String(first['controlInode']);
    return s;
  }

  bareInode = '';
  controlInode = '';

  async send(path: 'new' | 'old', message: Uint8Array, dst: string): Promise<void> {
    const id = this.#nextId++;
    this.command({ id, path, dst, hex: Buffer.from(message).toString('hex') });
    const reply = await this.waitFor((l) => l.id === id);
    if (reply.ok !== true) throw new Error(`${path} send to ${dst} failed: ${reply.error ?? '?'}`);
  }
}

/** A plain Python raw socket in `ns` sends `count` copies of `msg` to `dst` (not via our code). */
function pythonSend(ns: string, dev: string, dst: string, msg: Uint8Array, count: number): void {
  const py = [
    'import socket, sys',
    'dev, dst, hexmsg, count = sys.argv[1:]',
    's = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())',
    's.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)',
    's.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)',
    'for _ in range(int(count)): s.sendto(bytes.fromhex(hexmsg), (dst, 0))',
  ].join('\n');
  ip('netns', 'exec', ns, 'python3', '-c', py, dev, dst, Buffer.from(msg).toString('hex'), String(count));
}

/** rx_queue of the raw socket with `inode` in /proc/net/raw of `ns`. */
function rxQueue(ns: string, inode: string): number {
  const rows = ip('netns', 'exec', ns, 'cat', '/proc/net/raw').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  const row = rows.find((r) => r[9] === inode);
  if (row === undefined) throw new Error(`no raw socket with inode ${inode} in ${ns}: ${JSON.stringify(rows)}`);
  return Number.parseInt(row[4]!.split(':')[1]!, 16);
}

/** The frame with IP identification and header checksum zeroed (the kernel sets them per packet). */
function masked(frameHex: string): string {
  const b = Buffer.from(frameHex, 'hex');
  b.fill(0, 14 + 4, 14 + 6);
  b.fill(0, 14 + 10, 14 + 12);
  return b.toString('hex');
}

/** Internet checksum over `b` (0 when the header's own checksum is right). */
function ipChecksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const reason = skipReason({ needs: ['python3'] });
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  const nsA = `hav4s-${process.pid}-a`;
  const nsB = `hav4s-${process.pid}-b`;
  createNamespaces(t, [nsA, nsB]);
  vethPair({ ns: nsA, dev: 'va', addresses: [`${A}/24`] }, { ns: nsB, dev: 'vb', addresses: [`${B}/24`] });
  const capturer = captureVrrp<Line>(nsB, 'vb');
  const cap = capturer.lines;
  t.teardown(async () => {
    capturer.kill();
    await cap.exited;
  });
  await cap.firstLine((l) => l.ready === true, 'capture');
  const sender = await Sender.start(nsA);
  t.teardown(async () => { await sender.stop(); });

  for (const dst of [GROUP, B]) {
    t.test(`to ${dst}: the new path's frames are the encoder's bytes and equal the old path's`, async (t) => {
      const msg = encodeAdvertisement(ADVERT, { src: A, dst });
      const frames = async (path: 'new' | 'old'): Promise<string> => {
        cap.lines.length = 0;
        await sender.send(path, msg, dst);
        const hit = await cap.waitFor((l) => l.frame !== undefined, 10_000);
        return String(hit.frame);
      };
      const fresh = await frames('new');
      const old = await frames('old');
      const f = Buffer.from(fresh, 'hex');
      const ipHeader = f.subarray(14, 34);
      t.equal(f.readUInt16BE(12), 0x0800, 'IPv4 EtherType');
      t.equal(ipHeader[0], 0x45, 'IPv4, 20-byte header (no options)');
      t.equal(ipHeader[8], 255, 'TTL 255');
      t.equal(ipHeader[9], 112, 'protocol 112');
      t.equal(Array.from(ipHeader.subarray(12, 16)).join('.'), A, 'source: the interface address');
      t.equal(Array.from(ipHeader.subarray(16, 20)).join('.'), dst, 'destination');
      t.equal(ipChecksum(ipHeader), 0, 'header checksum valid');
      t.equal(f.subarray(34).toString('hex'), Buffer.from(msg).toString('hex'), 'payload: the encoder output, unchanged');
      if (dst === GROUP) t.equal(f.subarray(0, 6).toString('hex'), '01005e000012', 'multicast MAC of 224.0.0.18');
      t.equal(masked(fresh), masked(old), 'identical to the previous send path, apart from IP id and checksum');
    });
  }

  t.test('the send-only socket queues nothing; an unread raw socket on the same interface queues the same adverts', async (t) => {
    const msg = encodeAdvertisement(ADVERT, { src: B, dst: A });
    pythonSend(nsB, 'vb', A, msg, 5);
    pythonSend(nsB, 'vb', GROUP, encodeAdvertisement(ADVERT, { src: B, dst: GROUP }), 5);
    const until = performance.now() + 10_000;
    while (rxQueue(nsA, sender.controlInode) === 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    t.ok(rxQueue(nsA, sender.controlInode) > 0, 'the control socket queued the adverts (they did reach a)');
    t.equal(rxQueue(nsA, sender.bareInode), 0, 'the send-only socket queued nothing');
  });
}

if (reason === undefined) {
  t.test('errors are HA_ERR_SOCKET naming the interface; dst must be a dotted quad (all 15 characters allowed)', async (t) => {
    const ns = `hav4e-${process.pid}`;
    createNamespaces(t, [ns], { loopbackUp: true });
    const script = `
      const { Vrrp4SendSocket } = await import(process.argv[1]);
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      const s = Vrrp4SendSocket.open('lo', 1);
      const attempt = (dst) => { try { s.send(new Uint8Array(8), dst); return { dst, ok: true }; } catch (e) { return { dst, code: e.code, message: e.message, syscall: e.cause?.syscall, causeCode: e.cause?.code }; } };
      const results = ['1.2.3.4.5', 'ff02::12', '10.0.0.1x', '', '255.255.255.255'].map(attempt);
      s.close(); s.close();
      results.push(attempt('127.0.0.1'));
      let openError;
      try { Vrrp4SendSocket.open('hav4nope0', 99999); } catch (e) { openError = { code: e.code, message: e.message, causeCode: e.cause?.code }; }
      out({ results, openError });
    `;
    const child = new JsonLineChild<Line>(runTsChild(ns, moduleScript(script, sendUrl)), 'errors child');
    const line = await child.firstLine((l) => l['results'] !== undefined, 'errors child');
    await child.exited;
    const results = line['results'] as { dst: string; ok?: boolean; code?: string; message?: string; syscall?: string; causeCode?: string }[];
    for (const r of results.slice(0, 4)) {
      t.match(r, { code: 'HA_ERR_SOCKET', syscall: 'inet_pton', causeCode: 'EINVAL' }, `"${r.dst}" is refused before sending`);
      t.match(r.message, /on lo/, 'the message names the interface');
    }
    t.not(results[4]?.syscall, 'inet_pton', '255.255.255.255 (15 characters) parses; the kernel decides (no SO_BROADCAST)');
    t.match(results[5], { code: 'HA_ERR_SOCKET', message: /closed/ }, 'send after close');
    t.match(line['openError'], { code: 'HA_ERR_SOCKET', message: /hav4nope0/, causeCode: 'ENODEV' }, 'open on a missing interface');
  });
}
