/**
 * The attacker of `npm run chaos -- --set attacks`: one hostile action per run, started inside a
 * lab namespace (`ip netns exec NS node dist/test/chaos/attacker.js ACTION ...`) or, for the
 * control socket (the filesystem is not namespaced), from the root namespace. It prints one JSON
 * line with what it did and exits; it never decides whether the agent survived (attacks.ts does).
 *
 * Actions (every count and duration is bounded by its caller):
 *   hello-forge  BIND TO PORT COUNT        hellos claiming MASTER, priority 255, epoch 2^53-1,
 *                                           unkeyed and with a wrong MAC, sent with TTL 2
 *   hello-flood  BIND TO PORT COUNT        hellos with random node names and random MACs
 *   hello-replay BIND TO PORT PCAP MS      replays the UDP payloads of a capture, in a loop
 *                                           (BIND may be ADDRESS:PORT, to replay from the peer's own port)
 *   vrrp-forge   IFACE SRC VRID PRIO CS VIP one VRRPv3 advert to 224.0.0.18 (TTL 255)
 *   vrrp-flood   IFACE SRC VRID MS         adverts for VRID at full speed for MS (dropped: unknown VRID)
 *   ctl-nested   SOCKET DEPTH              a request whose command is DEPTH nested lists, and the reply
 *   ctl-partial  SOCKET COUNT HOLD_MS      COUNT connections each sending half a request, held
 *   ctl-slow     SOCKET HOLD_MS            subscribes to every event, reads nothing for HOLD_MS, then
 *                                           reads on to see whether the agent cut it off
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { RawVrrpSocket } from '../../src/adapters/vrrp-socket.js';
import { encodeAdvertisement } from '../../src/core/packet/encode.js';
import { ALL_EVENT_TYPES } from '../../src/core/control/events.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const print = (o: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };

function helloJson(over: Record<string, unknown>): string {
  return JSON.stringify({
    v: 1, instance: 'web', vrid: 51, node: 'attacker@10.77.0.50', state: 'MASTER', priority: 255,
    vrrpAddress: '10.77.0.50', advertIntervalCs: 10, epoch: Number.MAX_SAFE_INTEGER, fingerprint: '0', seq: 1, ...over,
  });
}

/** Sends `payloads` from `bind` (ADDRESS or ADDRESS:PORT; port 0 by default) to `to:port`. */
async function udpSend(bind: string, to: string, port: number, payloads: readonly Buffer[], ttl?: number): Promise<number> {
  const sock = createSocket('udp4');
  const [address, localPort] = bind.split(':');
  await new Promise<void>((resolve, reject) => { sock.once('error', reject); sock.bind({ address, port: Number(localPort ?? 0) }, () => resolve()); });
  if (ttl !== undefined) sock.setTTL(ttl);
  let sent = 0;
  for (const p of payloads) {
    await new Promise<void>((resolve) => sock.send(p, port, to, () => resolve()));
    sent++;
  }
  sock.close();
  return sent;
}

/** UDP payloads of IPv4 frames in a classic pcap file (Ethernet or Linux cooked link types). */
function pcapUdpPayloads(file: string): Buffer[] {
  const b = readFileSync(file);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linktype = u32(20);
  const l2 = linktype === 113 ? 16 : 14;
  const out: Buffer[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const incl = u32(off + 8);
    const frame = b.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const ipStart = l2;
    if (frame.length < ipStart + 28 || (frame[ipStart] ?? 0) >> 4 !== 4 || frame[ipStart + 9] !== 17) continue;
    const ihl = ((frame[ipStart] ?? 0) & 0x0f) * 4;
    const udp = ipStart + ihl;
    const len = frame.readUInt16BE(udp + 4);
    out.push(Buffer.from(frame.subarray(udp + 8, udp + len)));
  }
  return out;
}

async function main(argv: readonly string[]): Promise<void> {
  const [action, ...a] = argv;
  const arg = (i: number): string => {
    const v = a[i];
    if (v === undefined) throw new Error(`${String(action)}: argument ${i + 1} missing`);
    return v;
  };
  switch (action) {
    case 'hello-forge': {
      const count = Number(arg(3));
      const payloads: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        const json = helloJson({ seq: i + 1 });
        payloads.push(Buffer.from(json), Buffer.from(`${json}\n${'ab'.repeat(32)}`));
      }
      print({ action, sent: await udpSend(arg(0), arg(1), Number(arg(2)), payloads, 2) });
      return;
    }
    case 'hello-flood': {
      const count = Number(arg(3));
      const payloads: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        const json = helloJson({ node: `n${randomBytes(8).toString('hex')}`, state: 'BACKUP', priority: 1, epoch: i, seq: i });
        payloads.push(Buffer.from(`${json}\n${randomBytes(32).toString('hex')}`));
      }
      const started = performance.now();
      const sent = await udpSend(arg(0), arg(1), Number(arg(2)), payloads, 255);
      print({ action, sent, ms: Math.round(performance.now() - started) });
      return;
    }
    case 'hello-replay': {
      const payloads = pcapUdpPayloads(arg(3));
      if (payloads.length === 0) throw new Error(`hello-replay: no UDP payloads in ${arg(3)}`);
      const until = performance.now() + Number(arg(4));
      let sent = 0;
      while (performance.now() < until) {
        sent += await udpSend(arg(0), arg(1), Number(arg(2)), payloads, 255);
        await sleep(50);
      }
      print({ action, captured: payloads.length, sent });
      return;
    }
    case 'vrrp-forge':
    case 'vrrp-flood': {
      const [ifname, src, vrid] = [arg(0), arg(1), Number(arg(2))];
      const ifindex = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8'));
      const sock = RawVrrpSocket.open(ifname, ifindex, () => undefined, () => undefined);
      const dst = '224.0.0.18';
      if (action === 'vrrp-forge') {
        const msg = encodeAdvertisement({ version: 3, family: 4, vrid, priority: Number(arg(3)), maxAdvertIntervalCs: Number(arg(4)), addresses: [arg(5)] }, { src, dst });
        await sock.send(msg, dst);
        sock.close();
        print({ action, sent: 1 });
        return;
      }
      const msg = encodeAdvertisement({ version: 3, family: 4, vrid, priority: 100, maxAdvertIntervalCs: 100, addresses: ['10.77.0.199'] }, { src, dst });
      const until = performance.now() + Number(arg(3));
      let sent = 0;
      while (performance.now() < until) {
        await sock.send(msg, dst).catch(() => undefined);
        sent++;
      }
      sock.close();
      print({ action, sent });
      return;
    }
    case 'ctl-nested': {
      const depth = Number(arg(1));
      const reply = await new Promise<string>((resolve) => {
        const c = createConnection(arg(0));
        let got = '';
        c.setEncoding('utf8');
        c.on('data', (d: string) => { got += d; if (got.includes('\n')) { c.destroy(); resolve(got.trim()); } });
        c.on('error', (e) => resolve(`error: ${e.message}`));
        c.on('close', () => resolve(got.trim() === '' ? 'closed without a reply' : got.trim()));
        c.write(`{"command":${'['.repeat(depth)}${']'.repeat(depth)}}\n`);
      });
      print({ action, reply: reply.slice(0, 300) });
      return;
    }
    case 'ctl-partial': {
      const [path, count, holdMs] = [arg(0), Number(arg(1)), Number(arg(2))];
      const conns: Socket[] = [];
      let opened = 0;
      let refused = 0;
      let closedEarly = 0;
      for (let i = 0; i < count; i += 100) {
        await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => new Promise<void>((resolve) => {
          const c = createConnection(path);
          c.on('error', () => { refused++; resolve(); });
          c.on('close', () => { closedEarly++; });
          c.once('connect', () => { opened++; c.write('{"command":"sta'); resolve(); });
          conns.push(c);
        })));
      }
      print({ action, opened, refused, phase: 'holding' });
      await sleep(holdMs);
      const stillOpen = conns.filter((c) => !c.destroyed && c.readyState === 'open').length;
      for (const c of conns) c.destroy();
      print({ action, opened, refused, closedByAgent: closedEarly, stillOpen });
      return;
    }
    case 'ctl-slow': {
      // Never reads during the hold; then reads what is left, to learn whether the agent cut it
      // off (a paused socket sees no end of stream until it reads again).
      const [path, holdMs] = [arg(0), Number(arg(1))];
      const c = createConnection(path);
      let tail = '';
      let ended = false;
      c.on('error', () => undefined);
      c.once('connect', () => {
        c.write(`${JSON.stringify({ command: 'events', types: ALL_EVENT_TYPES })}\n`);
        c.pause();
      });
      await sleep(holdMs);
      c.setEncoding('utf8');
      c.on('data', (d: string) => { tail = (tail + d).slice(-400); });
      c.once('end', () => { ended = true; });
      c.resume();
      await sleep(2000);
      c.destroy();
      const last = tail.trim().split('\n').at(-1) ?? '';
      print({ action, cutOffByAgent: ended, lastLine: last.slice(0, 200) });
      return;
    }
    default:
      throw new Error(`unknown action ${String(action)}`);
  }
}

main(process.argv.slice(2)).then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`attacker: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
