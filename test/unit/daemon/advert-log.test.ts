/**
 * Rate-limited logging of received adverts (RFC 9568 §7.1) through the agent's advert intake,
 * with fakes: a flood of bad adverts gives one line per instance and reason per minute (saying
 * how many more), every drop is still counted, and the owner notes are warnings.
 */
import t from 'tap';
import pino from 'pino';
import { AdvertIntake, type IntakeTarget } from '../../../src/daemon/advert-intake.js';
import { ADVERT_LOG_EVERY_MS } from '../../../src/daemon/advert-log.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { MismatchWatch } from '../../../src/daemon/mismatch-watch.js';
import { encodeIpv4Datagram } from '../../../src/core/packet/encode.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { Input } from '../../../src/core/fsm/types.js';

function harness(extra = ''): { intake: AdvertIntake<IntakeTarget>; drops: string[]; inputs: Input[]; logs: Array<Record<string, unknown>>; clock: { now: number } } {
  const r = parseConfigYaml(`instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24]\n${extra}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const config = r.config.instances[0];
  if (config === undefined) throw new Error('no instance');
  const drops: string[] = [];
  const inputs: Input[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const clock = { now: 1000 };
  const target: IntakeTarget = {
    config,
    runner: { countDrop: (d) => drops.push(d), countReceived: () => undefined, input: (i) => inputs.push(i) },
    peer: { vrrpMismatch: new MismatchWatch() },
  };
  const log = pino({ level: 'info' }, { write: (s: string) => { logs.push(JSON.parse(s) as Record<string, unknown>); } });
  const intake = new AdvertIntake<IntakeTarget>({ log, events: new EventBus(), clock: () => clock.now, targets: () => [target], configured: () => [config], heard: () => undefined });
  return { intake, drops, inputs, logs, clock };
}

const advert = (over: { priority?: number; intervalCs?: number; src?: string } = {}): Uint8Array =>
  encodeIpv4Datagram({ version: 3, family: 4, vrid: 51, priority: over.priority ?? 150, maxAdvertIntervalCs: over.intervalCs ?? 100, addresses: ['192.0.2.10'] },
    { src: over.src ?? '10.0.0.2', dst: '224.0.0.18' });

const badChecksum = (): Uint8Array => {
  const d = advert();
  d[d.length - 1] = (d[d.length - 1] ?? 0) ^ 0xff;
  return d;
};

// RFC 9568 §7.1: "If any one of the above checks fails, the receiver MUST discard the packet,
// SHOULD log the event (subject to rate-limiting), and MAY indicate via network management that
// an error occurred."
t.test('§7.1: a flood of bad adverts is dropped and counted each time, logged once per interval', async (t) => {
  const h = harness();
  for (let i = 0; i < 50; i++) h.intake.onDatagram('eth1', badChecksum());
  t.equal(h.drops.length, 50, 'every drop counted');
  t.same(h.inputs, [], 'none reached the state machine');
  let info = h.logs.filter((l) => l['level'] === 30);
  t.equal(info.length, 1, 'one log line for 50 drops');
  t.match(info[0], { instance: 'web', reason: 'bad-checksum', moreDropped: 0, msg: /^dropped advert \(bad-checksum\): VRRPv3 checksum/ });
  h.clock.now += ADVERT_LOG_EVERY_MS - 1;
  h.intake.onDatagram('eth1', badChecksum());
  t.equal(h.logs.filter((l) => l['level'] === 30).length, 1, 'still within the interval: no new line');
  h.clock.now += 1;
  h.intake.onDatagram('eth1', badChecksum());
  info = h.logs.filter((l) => l['level'] === 30);
  t.equal(info.length, 2, 'a new line once the interval has passed');
  t.match(info[1], { moreDropped: 50, msg: /\(50 more since the last report\)$/ });
});

t.test('§7.1: each reason has its own limit; an unknown unicast source names the sender', async (t) => {
  const h = harness('    peers: [10.0.0.3]\n');
  h.intake.onDatagram('eth1', advert());
  h.intake.onDatagram('eth1', advert());
  h.intake.onDatagram('eth1', badChecksum());
  const info = h.logs.filter((l) => l['level'] === 30);
  t.same(info.map((l) => l['reason']), ['unknown-source', 'bad-checksum']);
  t.match(info[0], { from: '10.0.0.2', msg: /^dropped advert from 10\.0\.0\.2 \(unknown-source\)/ });
});

// RFC 9568 §7.1: "If this check fails, the receiver SHOULD log the event (subject to
// rate-limiting) and MAY indicate via network management that a misconfiguration was detected."
t.test('§7.1: a v3 interval other than ours is processed and logged once', async (t) => {
  const h = harness();
  for (let i = 0; i < 5; i++) h.intake.onDatagram('eth1', advert({ intervalCs: 200 }));
  t.equal(h.inputs.length, 5, 'every advert reached the state machine');
  t.same(h.drops, []);
  const info = h.logs.filter((l) => l['note'] === 'interval-differs');
  t.equal(info.length, 1);
  t.match(info[0], { level: 30, from: '10.0.0.2', msg: /advertisement interval is 200 cs; this instance uses 100 cs/ });
});

// RFC 9568 §8.3.2: "If multiple VRRP Routers advertising priority 255 are detected, the
// condition SHOULD be logged (subject to rate-limiting)."
t.test('§8.3.2 / erratum 8298: the address owner warns about another owner, and about any advert it hears', async (t) => {
  const h = harness('    priority: 255\n');
  h.intake.onDatagram('eth1', advert({ priority: 255 }));
  h.intake.onDatagram('eth1', advert({ priority: 255 }));
  h.intake.onDatagram('eth1', advert({ priority: 200 }));
  t.equal(h.inputs.length, 3, 'processed by default (erratum 8298)');
  const warns = h.logs.filter((l) => l['level'] === 40);
  t.same(warns.map((w) => w['note']), ['another-owner', 'owner-receives']);
  t.match(warns[0], { msg: /two routers are configured as the address owner.*processed as usual/ });
});

t.test('owner-ignore-adverts: the warning says the adverts are ignored while master', async (t) => {
  const h = harness('    priority: 255\n    owner-ignore-adverts: true\n');
  h.intake.onDatagram('eth1', advert({ priority: 200 }));
  t.equal(h.inputs.length, 1, 'the intake still hands it over: the state machine ignores it while MASTER');
  t.match(h.logs.filter((l) => l['level'] === 40)[0], { note: 'owner-receives', msg: /ignored while master \(owner-ignore-adverts\)/ });
});
