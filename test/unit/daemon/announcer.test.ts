/**
 * Announcer over a fake shared socket: the frames of a burst (content and count as built by the
 * packet builders), one lease for the socket, released by close, and the periodic refresh not
 * before refresh + the slot's phase, at advert ticks on the agent's timers. Timers are real but short; only lower bounds on time and
 * "it happened at all" are asserted.
 */
import t from 'tap';
import { Announcer } from '../../../src/daemon/announcer.js';
import { DeadlineTimers } from '../../../src/daemon/deadline-timers.js';
import { SharedFrameSockets, type InterfaceFrameSocket } from '../../../src/daemon/announce-sockets.js';
import { buildGratuitousArp } from '../../../src/core/packet/arp.js';
import { buildUnsolicitedNa } from '../../../src/core/packet/ndisc.js';
import { refreshPhaseMs } from '../../../src/core/packet/refresh-phase.js';
import type { Vip } from '../../../src/core/net/address.js';

const MAC = '02:aa:bb:cc:dd:ee';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function world(): { reg: SharedFrameSockets; sent: { at: number; frame: Uint8Array }[]; opens: () => number; closes: () => number } {
  const sent: { at: number; frame: Uint8Array }[] = [];
  let opens = 0;
  let closes = 0;
  const reg = new SharedFrameSockets((): InterfaceFrameSocket => {
    opens += 1;
    return { send: (frame) => { sent.push({ at: performance.now(), frame }); }, mac: () => MAC, close: () => { closes += 1; } };
  });
  return { reg, sent, opens: () => opens, closes: () => closes };
}

const VIPS = [
  { address: '192.0.2.10', family: 4 },
  { address: '2001:db8::10', family: 6 },
] as unknown as readonly Vip[];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.test('a burst sends every round of request + reply (IPv4) and NA (IPv6) frames', async (t) => {
  const w = world();
  const a = new Announcer('eth0', VIPS, { burst: 3, burstIntervalMs: 20, refreshMs: 0 }, w.reg);
  await a.announce();
  await sleep(200);
  const round = [
    buildGratuitousArp({ senderMac: MAC, ip: '192.0.2.10', op: 'request' }),
    buildGratuitousArp({ senderMac: MAC, ip: '192.0.2.10', op: 'reply' }),
    buildUnsolicitedNa({ senderMac: MAC, ip: '2001:db8::10' }),
  ].map(hex);
  t.same(w.sent.map((s) => hex(s.frame)), [...round, ...round, ...round], 'three rounds, nothing else');
  a.close();
  t.equal(w.opens(), 1);
  t.equal(w.closes(), 1, 'close releases the last lease: the socket closes');
});

t.test('instances on one interface share one socket', async (t) => {
  const w = world();
  const garp = { burst: 1, burstIntervalMs: 10, refreshMs: 0 };
  const many = Array.from({ length: 20 }, (_, i) => new Announcer('eth0', VIPS, garp, w.reg, i));
  await Promise.all(many.map((a) => a.announce()));
  t.equal(w.sent.length, 20 * 3);
  t.equal(w.opens(), 1, 'one socket for 20 announcers');
  for (const a of many.slice(1)) a.close();
  t.equal(w.closes(), 0, 'kept while one user is left');
  many[0]!.close();
  t.equal(w.closes(), 1);
});

t.test('the refresh comes no earlier than refresh + phase, then keeps coming; quiet stops it', async (t) => {
  const w = world();
  const refreshMs = 60;
  const slot = 3;
  const phase = refreshPhaseMs(slot, refreshMs);
  t.ok(phase > 0, 'slot 3 has a non-zero phase');
  const a = new Announcer('eth0', [VIPS[0]!], { burst: 1, burstIntervalMs: 10, refreshMs }, w.reg, slot);
  const start = performance.now();
  await a.announce();
  t.equal(w.sent.length, 2, 'the burst round');
  const until = performance.now() + 5000;
  while (w.sent.length < 6 && performance.now() < until) await sleep(10);
  t.ok(w.sent.length >= 6, 'at least two refresh rounds');
  t.ok(w.sent[2]!.at - start >= refreshMs + phase - 1, `first refresh after ${(w.sent[2]!.at - start).toFixed(0)} ms >= ${refreshMs + phase}`);
  // On schedule, not after the previous one: a late refresh does not push the next one later.
  t.ok(w.sent[4]!.at - start >= 2 * refreshMs + phase - 1, `second refresh after ${(w.sent[4]!.at - start).toFixed(0)} ms >= ${2 * refreshMs + phase}: one per period`);
  a.quiet();
  const n = w.sent.length;
  await sleep(3 * refreshMs);
  t.equal(w.sent.length, n, 'quiet stops the refresh');
  a.close();
});

t.test('frames are built once per MAC and VIP list: a new MAC or a reloaded list is announced', async (t) => {
  let mac = MAC;
  const sent: Uint8Array[] = [];
  const reg = new SharedFrameSockets((): InterfaceFrameSocket => ({ send: (frame) => { sent.push(frame); }, mac: () => mac, close: () => undefined }));
  const a = new Announcer('eth0', VIPS, { burst: 1, burstIntervalMs: 10, refreshMs: 0 }, reg);
  await a.announce();
  await a.announce();
  t.equal(sent[0], sent[3], 'the same frame object for the same MAC and VIPs');
  mac = '02:11:22:33:44:55';
  await a.announce();
  t.equal(hex(sent[6] as Uint8Array), hex(buildGratuitousArp({ senderMac: mac, ip: '192.0.2.10', op: 'request' })), 'the new MAC');
  a.setVips([{ address: '192.0.2.20', family: 4 }] as unknown as readonly Vip[]);
  await a.announce();
  t.same(sent.slice(9).map(hex), [
    buildGratuitousArp({ senderMac: mac, ip: '192.0.2.20', op: 'request' }),
    buildGratuitousArp({ senderMac: mac, ip: '192.0.2.20', op: 'reply' }),
  ].map(hex), 'the reloaded VIP list');
  a.close();
});

t.test('on the agent\'s timers, refreshes go out at advert ticks, many announcers sharing each tick', async (t) => {
  const w = world();
  const clock = (): number => performance.now();
  const deadlines = new DeadlineTimers(clock);
  const tickMs = 100;
  const refreshMs = 400;
  const many = Array.from({ length: 12 }, (_, i) => new Announcer('eth0', [VIPS[0]!], { burst: 1, burstIntervalMs: 10, refreshMs }, w.reg, i, { deadlines, clock, tickMs }));
  await Promise.all(many.map((a) => a.announce()));
  t.ok(deadlines.pending <= refreshMs / tickMs + 1, `12 refreshes wait on ${deadlines.pending} timers (one per tick)`);
  const burst = w.sent.length;
  const until = performance.now() + 5000;
  while (w.sent.length < burst + 2 * 12 * 2 && performance.now() < until) await sleep(10);
  const refreshes = w.sent.slice(burst);
  t.ok(refreshes.length >= 2 * 12 * 2, 'every announcer refreshed at least twice');
  const offTick = refreshes.filter((s) => s.at % tickMs > tickMs / 2);
  t.ok(offTick.length <= refreshes.length / 10, `sent just after a tick: ${refreshes.length - offTick.length} of ${refreshes.length}`);
  const ticks = new Set(refreshes.map((s) => Math.floor(s.at / tickMs)));
  t.ok(ticks.size < refreshes.length / 2, `${refreshes.length} frames in ${ticks.size} ticks`);
  for (const a of many) a.close();
  t.equal(deadlines.pending, 0, 'close cancels the refresh');
});
