/**
 * A burst of adverts reaches an agent whose event loop is busy, IPv4 and IPv6: masters
 * advertise on a shared tick grid, so a backup gets the adverts of every instance of an
 * interface at the same moment, and must not lose part of them when it reads them late (a
 * collection, a moment without CPU). The VRRP receive sockets ask for a receive buffer that
 * holds such bursts (VRRP_RCVBUF_BYTES); with the kernel's default one (net.core.rmem_default,
 * 208 KiB) 256 of each family arrived here and the kernel dropped the other 764.
 *
 * Topology: netns havb-<pid>-a (va, 10.77.9.1/24) <-veth-> netns havb-<pid>-b (vb, 10.77.9.2/24).
 * In b a child holds a RawVrrpSocket and a Vrrp6Socket on vb, counts what each delivers, and on
 * request blocks its event loop; in a a child sends the burst through the same two transports.
 */
import t from 'tap';
import { encodeAdvertisement } from '../../src/core/packet/encode.js';
import type { Advertisement } from '../../src/core/packet/vrrp-types.js';
import { createNamespaces, ip, JsonLineChild, linkLocal, moduleScript, runTsChild, vethPair } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';

const v4Url = new URL('../../src/adapters/vrrp-socket.ts', import.meta.url).href;
const v6Url = new URL('../../src/adapters/vrrp6-socket.ts', import.meta.url).href;

/** Four times the adverts one interface can carry at one tick (255 VRIDs). */
const BURST = 1020;
const A4 = '10.77.9.1';
const GROUP4 = '224.0.0.18';
const GROUP6 = 'ff02::12';

type Line = Record<string, unknown> & { ready?: boolean; v4?: number; v6?: number; sent?: number; stalled?: boolean };

/** The script of both children: open both transports on `ifname`; count, stall or send on request. */
const SCRIPT = `
  import { createInterface } from 'node:readline';
  import { readFileSync } from 'node:fs';
  const [v4Url, v6Url, ifname, ll, a4, hex4, hex6] = process.argv.slice(1);
  const { RawVrrpSocket } = await import(v4Url);
  const { Vrrp6Socket } = await import(v6Url);
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
  const ifindex = Number(readFileSync('/sys/class/net/' + ifname + '/ifindex', 'utf8'));
  let v4 = 0, v6 = 0;
  const s4 = RawVrrpSocket.open(ifname, ifindex, () => { v4++; }, (e) => out({ recvError: e.message }));
  const s6 = Vrrp6Socket.open(ifname, ll, () => { v6++; }, (e) => out({ recvError: e.message }));
  const m4 = Buffer.from(hex4, 'hex'), m6 = Buffer.from(hex6, 'hex');
  createInterface({ input: process.stdin }).on('line', (line) => {
    const req = JSON.parse(line);
    if (req.cmd === 'count') out({ v4, v6 });
    if (req.cmd === 'stall') {
      out({ stalled: true });
      const until = Date.now() + req.ms;
      while (Date.now() < until) { /* the event loop reads nothing meanwhile */ }
    }
    if (req.cmd === 'burst') {
      const sends = [];
      for (let i = 0; i < req.n; i++) { sends.push(s4.send(m4, '${GROUP4}'), s6.send(m6, '${GROUP6}')); }
      Promise.all(sends).then(() => out({ sent: req.n }), (e) => out({ sendError: e.message }));
    }
  }).on('close', () => { s4.close(); s6.close(); });
  out({ ready: true });
`;

const reason = skipReason({});
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  const nsA = `havb-${process.pid}-a`;
  const nsB = `havb-${process.pid}-b`;
  createNamespaces(t, [nsA, nsB]);
  vethPair(
    { ns: nsA, dev: 'va', addresses: [`${A4}/24`], sysctls: ['net.ipv6.conf.va.accept_dad=0'] },
    { ns: nsB, dev: 'vb', addresses: ['10.77.9.2/24'], sysctls: ['net.ipv6.conf.vb.accept_dad=0'] },
  );
  const llA = await linkLocal(nsA, 'va');
  const llB = await linkLocal(nsB, 'vb');
  const advert: Advertisement = { version: 3, family: 4, vrid: 9, priority: 150, maxAdvertIntervalCs: 100, addresses: ['192.0.2.9'] };
  const hex4 = Buffer.from(encodeAdvertisement(advert, { src: A4, dst: GROUP4 })).toString('hex');
  const hex6 = Buffer.from(encodeAdvertisement({ ...advert, family: 6, addresses: ['fd00:9::9'] }, { src: llA, dst: GROUP6 })).toString('hex');

  const start = async (ns: string, ifname: string, ll: string, name: string): Promise<JsonLineChild<Line>> => {
    const child = new JsonLineChild<Line>(runTsChild(ns, moduleScript(SCRIPT, v4Url, v6Url, ifname, ll, A4, hex4, hex6)), name);
    await child.firstLine((l) => l.ready === true, name);
    return child;
  };
  const sender = await start(nsA, 'va', llA, 'sender');
  const receiver = await start(nsB, 'vb', llB, 'receiver');
  t.teardown(async () => {
    await sender.stop();
    await receiver.stop();
  });

  t.test(`${BURST} adverts per family sent while the receiver's loop is blocked all arrive`, async (t) => {
    receiver.command({ cmd: 'stall', ms: 3000 });
    await receiver.waitFor((l) => l.stalled === true);
    sender.command({ cmd: 'burst', n: BURST });
    await sender.waitFor((l) => l.sent === BURST);
    // The receiver reads what was queued once its loop runs again: ask until the counts stop moving.
    let counted: Line = {};
    for (let previous = ''; ; await new Promise((r) => setTimeout(r, 200))) {
      const seen = receiver.lines.length;
      receiver.command({ cmd: 'count' });
      counted = await receiver.waitFor((l) => l.v4 !== undefined && receiver.lines.indexOf(l) >= seen, 20_000);
      const now = JSON.stringify(counted);
      if (now === previous) break;
      previous = now;
    }
    t.same({ v4: counted.v4, v6: counted.v6 }, { v4: BURST, v6: BURST }, 'none dropped');
    const drops = ip('netns', 'exec', nsB, 'cat', '/proc/net/raw', '/proc/net/raw6')
      .split('\n').filter((l) => /^\s*\d+:/.test(l)).map((l) => Number(l.trim().split(/\s+/).at(-1)));
    t.same(drops.filter((d) => d > 0), [], 'no raw socket counts a drop');
  });
}
