/**
 * Advert trains (native/advert_train.c via RawVrrpSocket.repeat) against a real kernel:
 * - a train puts its advert on the wire `count` times, every `everyMs`, while the agent's
 *   JavaScript is busy (the sends come from the addon's thread, not from the event loop);
 * - stopping it (report with stop) or closing the transport ends the sends at once;
 * - its lease renewal (a datagram made by the netlink adapter's renewalDatagram) renews a real
 *   address's lifetime; one for an interface that is gone comes back as ENODEV.
 *
 * Topology: netns hatr-<pid>-a (va, 10.77.5.1/24) <-veth-> netns hatr-<pid>-b (vb). In a: a child
 * holding a RawVrrpSocket and the netlink adapter, answering one JSON line per command. In b: a
 * Python AF_PACKET capture printing each IPv4 protocol-112 frame with its monotonic time.
 */
import t from 'tap';
import { encodeAdvertisement } from '../../src/core/packet/encode.js';
import type { Advertisement } from '../../src/core/packet/vrrp-types.js';
import type { TrainReport } from '../../src/adapters/ports.js';
import { captureVrrp, createNamespaces, ip, JsonLineChild, moduleScript, runTsChild, vethPair } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';

const socketUrl = new URL('../../src/adapters/vrrp-socket.ts', import.meta.url).href;
const netlinkUrl = new URL('../../src/adapters/netlink/index.ts', import.meta.url).href;

const A = '10.77.5.1';
const GROUP = '224.0.0.18';
const ADVERT: Advertisement = { version: 3, family: 4, vrid: 78, priority: 150, maxAdvertIntervalCs: 2, addresses: ['192.0.2.88'] };

type Line = Record<string, unknown> & { id?: number; ok?: boolean; error?: string; report?: TrainReport; frame?: string; t?: number };

class Agent extends JsonLineChild<Line> {
  #nextId = 1;

  static async start(ns: string): Promise<Agent> {
    const script = `
      import { createInterface } from 'node:readline';
      import { readFileSync } from 'node:fs';
      const [socketUrl, netlinkUrl] = process.argv.slice(1);
      const { RawVrrpSocket } = await import(socketUrl);
      const { createNetlink } = await import(netlinkUrl);
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      const ifindex = Number(readFileSync('/sys/class/net/va/ifindex', 'utf8'));
      let sock = RawVrrpSocket.open('va', ifindex, () => {}, (e) => out({ recvError: e.message }));
      const netlink = await createNetlink();
      const renewals = new Map();
      createInterface({ input: process.stdin }).on('line', async (line) => {
        const req = JSON.parse(line);
        try {
          if (req.cmd === 'train') {
            const renewal = req.renewal === undefined ? undefined : { datagram: renewals.get(req.renewal), dueAfterMs: req.dueAfterMs, lastAgoMs: req.lastAgoMs };
            const plan = { firstDelayMs: req.first, everyMs: req.every, count: req.count, ...(renewal === undefined ? {} : { renewal }) };
            const report = sock.repeat(req.trainId, Buffer.from(req.hex, 'hex'), [req.dst], plan);
            // Keep the event loop busy: the train must not need it.
            const until = performance.now() + (req.blockMs ?? 0);
            while (performance.now() < until) { /* busy */ }
            out({ id: req.id, ok: true, report });
          } else if (req.cmd === 'report') {
            out({ id: req.id, ok: true, report: sock.trainReport(req.trainId, req.stop) });
          } else if (req.cmd === 'close') {
            sock.close();
            out({ id: req.id, ok: true });
          } else if (req.cmd === 'renewal') {
            renewals.set(req.name, await netlink.renewalDatagram(req.dev, [{ cidr: req.cidr, opts: { validLftSec: req.life, preferredLftSec: req.life } }]));
            out({ id: req.id, ok: true });
          }
        } catch (e) {
          out({ id: req.id, ok: false, error: e.message });
        }
      }).on('close', () => { sock.close(); netlink.close(); process.exit(0); });
      out({ ready: true });
    `;
    const a = new Agent(runTsChild(ns, moduleScript(script, socketUrl, netlinkUrl)), ns);
    await a.firstLine((l) => l.ready === true, `agent in ${ns}`);
    return a;
  }

  async call(cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<Line> {
    const id = this.#nextId++;
    this.command({ ...cmd, id });
    const reply = await this.waitFor((l) => l.id === id, timeoutMs);
    if (reply.ok !== true) throw new Error(`${String(cmd['cmd'])} failed: ${reply.error ?? '?'}`);
    return reply;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** valid_life_time of `cidr` on `dev` in `ns` (-1 when absent). */
function validLft(ns: string, dev: string, cidr: string): number {
  const rows = JSON.parse(ip('-n', ns, '-j', 'addr', 'show', 'dev', dev)) as Array<{ addr_info: Array<{ local: string; prefixlen: number; valid_life_time?: number }> }>;
  const a = rows[0]?.addr_info.find((x) => `${x.local}/${x.prefixlen}` === cidr);
  return a?.valid_life_time ?? -1;
}

const reason = skipReason({ needs: ['python3'] });
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  const nsA = `hatr-${process.pid}-a`;
  const nsB = `hatr-${process.pid}-b`;
  createNamespaces(t, [nsA, nsB]);
  vethPair({ ns: nsA, dev: 'va', addresses: [`${A}/24`] }, { ns: nsB, dev: 'vb', addresses: ['10.77.5.2/24'] });
  const agent = await Agent.start(nsA);
  t.teardown(() => agent.stop());
  const cap = captureVrrp<Line>(nsB, 'vb');
  t.teardown(() => cap.kill());
  await cap.lines.firstLine((l) => l.ready === true, 'capture');
  const hex = Buffer.from(encodeAdvertisement(ADVERT, { src: A, dst: GROUP })).toString('hex');
  const framesFrom = (i: number): Line[] => cap.lines.lines.slice(i).filter((l) => typeof l.frame === 'string');

  t.test('ten adverts, 20 ms apart, while the event loop is busy for the whole train', async (t) => {
    const start = cap.lines.lines.length;
    const r = await agent.call({ cmd: 'train', trainId: 1, hex, dst: GROUP, first: 20, every: 20, count: 10, blockMs: 400 });
    t.same(r.report, { sent: 0, errno: 0, sinceLastMs: -1, maxGapMs: 0, renewedAgoMs: -1, renewErrno: 0 }, 'nothing replaced');
    t.ok(await cap.lines.waitFor(() => framesFrom(start).length >= 10, 5000), 'ten frames');
    await sleep(100);
    const frames = framesFrom(start);
    t.equal(frames.length, 10, 'exactly ten');
    t.ok(frames.every((f) => (f.frame ?? '').endsWith(hex)), 'each carries the advert');
    const gaps = frames.slice(1).map((f, i) => (f.t ?? 0) - (frames[i]?.t ?? 0));
    t.ok(gaps.every((g) => g > 10 && g < 40), `every ~20 ms: ${gaps.map((g) => g.toFixed(1)).join(' ')}`);
    const rep = (await agent.call({ cmd: 'report', trainId: 1, stop: false })).report;
    t.equal(rep?.sent, 10, 'reported sent');
    t.equal(rep?.errno, 0);
    t.ok((rep?.maxGapMs ?? 0) < 40, `longest gap ${rep?.maxGapMs} ms`);
    t.same((await agent.call({ cmd: 'report', trainId: 1, stop: false })).report?.sent, 0, 'counters restart after a report');
  });

  t.test('stopped: no advert after the stop', async (t) => {
    const start = cap.lines.lines.length;
    await agent.call({ cmd: 'train', trainId: 2, hex, dst: GROUP, first: 0, every: 20, count: 500 });
    await sleep(150);
    const rep = (await agent.call({ cmd: 'report', trainId: 2, stop: true })).report;
    const atStop = framesFrom(start).length;
    t.ok((rep?.sent ?? 0) >= 3, `sent before the stop: ${rep?.sent}`);
    await sleep(200);
    t.ok(framesFrom(start).length <= atStop + 1, `at most one in flight at the stop (${atStop} -> ${framesFrom(start).length})`);
    t.same((await agent.call({ cmd: 'report', trainId: 2, stop: false })).report?.sinceLastMs, -1, 'gone');
  });

  t.test('a lease renewal renews a real address; one for a deleted interface reports ENODEV', async (t) => {
    ip('-n', nsA, 'addr', 'add', '10.77.5.100/32', 'dev', 'va', 'valid_lft', '4', 'preferred_lft', '4');
    ip('-n', nsA, 'link', 'add', 'dx', 'type', 'veth', 'peer', 'name', 'dy');
    ip('-n', nsA, 'link', 'set', 'dx', 'up');
    await agent.call({ cmd: 'renewal', name: 'va', dev: 'va', cidr: '10.77.5.100/32', life: 60 });
    await agent.call({ cmd: 'renewal', name: 'dx', dev: 'dx', cidr: '10.77.6.100/32', life: 60 });
    const before = validLft(nsA, 'va', '10.77.5.100/32');
    t.ok(before >= 0 && before <= 4, `the address is there with its short lifetime before (${before} s)`);
    await agent.call({ cmd: 'train', trainId: 3, hex, dst: GROUP, first: 0, every: 20, count: 5, renewal: 'va', dueAfterMs: 30, lastAgoMs: 1000 });
    await sleep(300);
    const rep = (await agent.call({ cmd: 'report', trainId: 3, stop: true })).report;
    t.ok((rep?.renewedAgoMs ?? -1) >= 0, `renewed (${rep?.renewedAgoMs} ms ago)`);
    t.equal(rep?.renewErrno, 0);
    t.ok(validLft(nsA, 'va', '10.77.5.100/32') > 50, `lifetime renewed to ${validLft(nsA, 'va', '10.77.5.100/32')} s`);
    ip('-n', nsA, 'link', 'del', 'dx');
    await agent.call({ cmd: 'train', trainId: 4, hex, dst: GROUP, first: 0, every: 20, count: 3, renewal: 'dx', dueAfterMs: 30, lastAgoMs: 1000 });
    await sleep(200);
    const bad = (await agent.call({ cmd: 'report', trainId: 4, stop: true })).report;
    t.equal(bad?.renewErrno, 19, 'ENODEV');
    t.equal(bad?.renewedAgoMs, -1, 'no renewal counted');
  });

  t.test('closing the transport stops its trains', async (t) => {
    const start = cap.lines.lines.length;
    await agent.call({ cmd: 'train', trainId: 5, hex, dst: GROUP, first: 0, every: 20, count: 500 });
    await sleep(100);
    await agent.call({ cmd: 'close' });
    const atClose = framesFrom(start).length;
    t.ok(atClose >= 2, `sending before (${atClose})`);
    await sleep(200);
    t.ok(framesFrom(start).length <= atClose + 1, `none after the close (${atClose} -> ${framesFrom(start).length})`);
  });
}
