/**
 * The agent's advert intake with fakes (no root, no sockets): demultiplexing by interface and
 * VRID, the receive checks in order, drops counted by reason, and a live sender with another
 * address list reported once (and remembered by the core) until it clears.
 */
import t from 'tap';
import pino from 'pino';
import { AdvertIntake, type IntakeTarget } from '../../../src/daemon/advert-intake.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { MismatchWatch } from '../../../src/daemon/mismatch-watch.js';
import { encodeIpv4Datagram } from '../../../src/core/packet/encode.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { AgentEvent } from '../../../src/core/control/events.js';
import type { Input } from '../../../src/core/fsm/types.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';

function config(extra = ''): IntakeTarget['config'] {
  const r = parseConfigYaml(`instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24]\n${extra}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}

function harness(extra = ''): { intake: AdvertIntake<IntakeTarget>; drops: string[]; inputs: Input[]; received: () => number; heard: () => number; events: AgentEvent[]; logs: Array<Record<string, unknown>>; starting: InstanceConfig[] } {
  const drops: string[] = [];
  const inputs: Input[] = [];
  let received = 0;
  let heard = 0;
  const events: AgentEvent[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  const starting: InstanceConfig[] = [];
  const target: IntakeTarget = {
    config: config(extra),
    runner: { countDrop: (r) => drops.push(r), countReceived: () => { received++; }, input: (i) => inputs.push(i) },
    peer: { vrrpMismatch: new MismatchWatch() },
  };
  const log = pino({ level: 'info' }, { write: (s: string) => { logs.push(JSON.parse(s) as Record<string, unknown>); } });
  const intake = new AdvertIntake<IntakeTarget>({ log, events: bus, clock: () => 0, targets: () => [target], configured: () => [target.config, ...starting], heard: () => { heard++; } });
  return { intake, drops, inputs, received: () => received, heard: () => heard, events, logs, starting };
}

const advert = (addresses: string[], over: { vrid?: number; priority?: number } = {}): Uint8Array =>
  encodeIpv4Datagram({ version: 3, family: 4, vrid: over.vrid ?? 51, priority: over.priority ?? 150, maxAdvertIntervalCs: 100, addresses }, { src: '10.0.0.2', dst: '224.0.0.18' });

t.test('a valid advert reaches the runner; other VRIDs and interfaces are counted on the interface', async (t) => {
  const h = harness();
  h.intake.onDatagram('eth1', advert(['192.0.2.10']));
  t.same(h.inputs, [{ type: 'advert', from: '10.0.0.2', priority: 150, maxAdvertIntervalCs: 100 }]);
  t.equal(h.received(), 1);
  t.equal(h.heard(), 1);
  h.intake.onDatagram('eth1', advert(['192.0.2.10'], { vrid: 52 }));
  h.intake.onDatagram('eth9', advert(['192.0.2.10']));
  t.same(h.intake.interfaceDrops, { eth1: { 'bad-vrid': 1 }, eth9: { 'bad-vrid': 1 } });
  t.equal(h.inputs.length, 1, 'nothing else reached the runner');
  t.same(h.events.filter((e) => e.type === 'drop').map((e) => e.type === 'drop' && e.iface), ['eth1', 'eth9']);
});

t.test('a sender with another address list: dropped, remembered by the core, reported once, cleared', async (t) => {
  const h = harness();
  for (let i = 0; i < 3; i++) h.intake.onDatagram('eth1', advert(['192.0.2.10', '192.0.2.11']));
  t.same(h.drops, ['address-mismatch', 'address-mismatch', 'address-mismatch']);
  t.same(h.inputs, Array.from({ length: 3 }, () => ({ type: 'advert-dropped', from: '10.0.0.2', reason: 'address-mismatch' })));
  t.equal(h.heard(), 0, 'a dropped advert is no presence');
  const warns = h.logs.filter((l) => l['level'] === 40);
  t.equal(warns.length, 1, 'one warning for three drops');
  t.match(warns[0]?.['msg'], 'adverts from 10.0.0.2 (VRID 51) dropped: address list differs (ours: [192.0.2.10], theirs: [192.0.2.10, 192.0.2.11])');
  t.match(h.events.filter((e) => e.type === 'warning'), [{ kind: 'config-mismatch', active: true, instance: 'web' }]);
  h.intake.onDatagram('eth1', advert(['192.0.2.10']));
  t.match(h.events.filter((e) => e.type === 'warning').at(-1), { kind: 'config-mismatch', active: false });
  t.equal(h.inputs.at(-1)?.type, 'advert');
});

t.test('unicast peers: another source is dropped as unknown-source and is no mismatch', async (t) => {
  const h = harness('    peers: [10.0.0.3]\n');
  h.intake.onDatagram('eth1', advert(['192.0.2.10', '192.0.2.99']));
  t.same(h.drops, ['unknown-source']);
  t.same(h.inputs, []);
  t.same(h.events.filter((e) => e.type === 'warning'), []);
});

t.test('garbage never throws: counted as a decode drop', async (t) => {
  const h = harness();
  const junk = advert(['192.0.2.10']);
  junk[junk.length - 1] = (junk[junk.length - 1] ?? 0) ^ 0xff; // breaks the checksum
  h.intake.onDatagram('eth1', junk);
  h.intake.onDatagram('eth1', new Uint8Array([0x45]));
  t.equal(h.drops.length + Object.values(h.intake.interfaceDrops.eth1 ?? {}).reduce((a, b) => a + b, 0), 2);
  t.same(h.inputs, []);
});

t.test('an advert for a configured instance that is not running yet is dropped without counting a stranger', async (t) => {
  const h = harness();
  h.starting.push({ ...config(), name: 'later', vrid: 52 });
  h.intake.onDatagram('eth1', advert(['192.0.2.10'], { vrid: 52 }));
  t.same(h.intake.interfaceDrops, {}, 'VRID 52 is configured: not counted as bad-vrid');
  t.equal(h.inputs.length, 0, 'and it reached no runner');
  h.intake.onDatagram('eth1', advert(['192.0.2.10'], { vrid: 53 }));
  t.same(h.intake.interfaceDrops, { eth1: { 'bad-vrid': 1 } }, 'an unconfigured VRID still is');
});

t.test('a repeated advert (another IPv4 Identification) reaches the runner like the first', async (t) => {
  const h = harness();
  const first = encodeIpv4Datagram({ version: 3, family: 4, vrid: 51, priority: 150, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'] }, { src: '10.0.0.2', dst: '224.0.0.18', id: 1 });
  const again = encodeIpv4Datagram({ version: 3, family: 4, vrid: 51, priority: 150, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'] }, { src: '10.0.0.2', dst: '224.0.0.18', id: 2 });
  h.intake.onDatagram('eth1', first);
  h.intake.onDatagram('eth1', again);
  h.intake.onDatagram('eth1', again);
  const input = { type: 'advert', from: '10.0.0.2', priority: 150, maxAdvertIntervalCs: 100 };
  t.same(h.inputs, [input, input, input]);
  t.equal(h.received(), 3);
  t.equal(h.heard(), 3);
  const broken = Uint8Array.from(again);
  broken[10] = (broken[10] ?? 0) ^ 0xff;
  h.intake.onDatagram('eth1', broken);
  t.same(h.drops, ['bad-ip-header'], 'a repeat with a broken header checksum is decoded, and dropped');
});

t.test('a repeat after a reload is checked against the new settings', async (t) => {
  const drops: string[] = [];
  const target = { config: config(), runner: { countDrop: (r: string) => drops.push(r), countReceived: () => undefined, input: () => undefined }, peer: { vrrpMismatch: new MismatchWatch() } };
  const intake = new AdvertIntake<IntakeTarget>({ log: pino({ level: 'silent' }), events: new EventBus(), clock: () => 0, targets: () => [target], configured: () => [target.config], heard: () => undefined });
  intake.onDatagram('eth1', advert(['192.0.2.10']));
  t.same(drops, []);
  target.config = reloaded();
  intake.onDatagram('eth1', advert(['192.0.2.10']));
  t.same(drops, ['address-mismatch'], 'the acceptance under the old settings is not reused');
});

/** The same instance after a reload that added a VIP. */
function reloaded(): InstanceConfig {
  const r = parseConfigYaml('instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24, 192.0.2.20/24]\n');
  if (!r.ok || r.config.instances[0] === undefined) throw new Error('config');
  return r.config.instances[0];
}

t.test('a repeat of an advert that came with notes is decoded again, and noted again', async (t) => {
  const h = harness('    priority: 255\n');
  h.intake.onDatagram('eth1', advert(['192.0.2.10']));
  h.intake.onDatagram('eth1', advert(['192.0.2.10']));
  t.equal(h.inputs.length, 2);
  t.ok(h.logs.length >= 1, 'the owner note is logged (rate-limited by the advert log)');
});
