/**
 * HMAC authentication in the agent's advert intake and send path, with fakes (no root): the
 * modes, rotation, replayed / stale / re-keyed / unsigned adverts dropped and counted by reason
 * before anything else sees them, one warning per reason and minute, and what we sign verifies.
 */
import t from 'tap';
import pino from 'pino';
import { AdvertIntake, type IntakeTarget } from '../../../src/daemon/advert-intake.js';
import { AdvertHmac, unloadedKeys } from '../../../src/daemon/advert-hmac.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { MismatchWatch } from '../../../src/daemon/mismatch-watch.js';
import { encodeAdvertisement, encodeIpv4Datagram, type HmacSigning } from '../../../src/core/packet/encode.js';
import { clockSequence } from '../../../src/core/packet/hmac-replay.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { Input } from '../../../src/core/fsm/types.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';

const K1 = `hex:${'11'.repeat(32)}`;
const K2 = `hex:${'22'.repeat(48)}`;
const key = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.slice(4), 'hex'));
const NOW = 1_800_000_000_000;

function config(auth: string, extra = ''): InstanceConfig {
  const r = parseConfigYaml(`instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24]\n${extra}    auth: ${auth}\n`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config.instances[0]!;
}

function harness(auth: string, extra = '') {
  const drops: string[] = [];
  const inputs: Input[] = [];
  const logs: Array<Record<string, unknown>> = [];
  let wall = NOW;
  let mono = 0;
  const target: IntakeTarget = {
    config: config(auth, extra),
    runner: { countDrop: (r) => drops.push(r), countReceived: () => undefined, input: (i) => inputs.push(i) },
    peer: { vrrpMismatch: new MismatchWatch() },
  };
  const log = pino({ level: 'info' }, { write: (s: string) => { logs.push(JSON.parse(s) as Record<string, unknown>); } });
  const hmac = new AdvertHmac(() => wall);
  const intake = new AdvertIntake<IntakeTarget>({ log, events: new EventBus(), clock: () => mono, targets: () => [target], configured: () => [target.config], heard: () => undefined, hmac });
  return {
    intake, hmac, drops, inputs, logs, target,
    setWall: (ms: number) => { wall = ms; },
    tick: (ms: number) => { mono += ms; },
    warns: () => logs.filter((l) => l['level'] === 40).map((l) => String(l['msg'])),
  };
}

const datagram = (hmac?: HmacSigning, over: { src?: string; priority?: number } = {}): Uint8Array =>
  encodeIpv4Datagram({ version: 3, family: 4, vrid: 51, priority: over.priority ?? 150, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'] },
    { src: over.src ?? '10.0.0.2', dst: '224.0.0.18', ...(hmac === undefined ? {} : { hmac }) });
const sig = (k: string, id: number, atMs: number): HmacSigning => ({ keyId: id, key: key(k), sequence: clockSequence(atMs) });

t.test('enforce: signed adverts pass once each; unsigned, replayed, stale and wrongly keyed ones are dropped by reason', async (t) => {
  const h = harness(`{ type: hmac, keys: { 1: "${K1}" } }`);
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW)));
  t.same(h.inputs, [{ type: 'advert', from: '10.0.0.2', priority: 150, maxAdvertIntervalCs: 100 }]);
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW)));
  h.intake.onDatagram('eth1', datagram());
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW - 10_000)));
  h.intake.onDatagram('eth1', datagram(sig(K2, 1, NOW + 500)));
  h.intake.onDatagram('eth1', datagram(sig(K1, 2, NOW + 600)));
  t.same(h.drops, ['auth-replay', 'auth-missing', 'auth-stale', 'auth-bad-hmac', 'auth-unknown-key']);
  t.equal(h.inputs.length, 1, 'no dropped advert reached the core, not even as advert-dropped');
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW + 1000)));
  t.equal(h.inputs.length, 2, 'the next fresh advert passes');
  t.end();
});

t.test('a failure is a warning naming the sender, at most once a minute per reason; the key never shows', async (t) => {
  const h = harness(`{ type: hmac, keys: { 1: "${K1}" } }`);
  for (let i = 0; i < 5; i++) h.intake.onDatagram('eth1', datagram());
  t.equal(h.drops.length, 5);
  t.equal(h.warns().length, 1);
  t.match(h.warns()[0], /adverts from 10\.0\.0\.2 \(VRID 51\) dropped by HMAC authentication \(auth-missing\)/);
  h.tick(61_000);
  h.intake.onDatagram('eth1', datagram());
  t.equal(h.warns().length, 2, 'again after a minute');
  t.notMatch(JSON.stringify(h.logs), /1111111111/);
  t.end();
});

t.test('permissive and receive-only accept unsigned adverts, still drop a bad trailer; receive-only does not sign', async (t) => {
  for (const mode of ['permissive', 'receive-only'] as const) {
    const h = harness(`{ type: hmac, keys: { 1: "${K1}" }, mode: ${mode} }`);
    h.intake.onDatagram('eth1', datagram());
    h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW)));
    h.intake.onDatagram('eth1', datagram(sig(K2, 1, NOW + 100)));
    t.equal(h.inputs.length, 2, `${mode}: unsigned and signed accepted`);
    t.same(h.drops, ['auth-bad-hmac'], `${mode}: a trailer that does not verify is dropped`);
    t.equal(h.hmac.signing(h.target.config) === undefined, mode === 'receive-only', `${mode}: ${mode === 'receive-only' ? 'sends unsigned' : 'signs'}`);
    t.match(h.logs.filter((l) => l['level'] === 30).map((l) => l['msg']), [`adverts from 10.0.0.2 (VRID 51) carry no HMAC trailer; accepted in mode ${mode}: that node does not sign yet (enforce would drop them)`], `${mode}: the unsigned sender is named once`);
  }
  t.end();
});

t.test('rotation: both key ids accepted, adverts signed with the active one, sequences grow', async (t) => {
  const h = harness(`{ type: hmac, keys: { 1: "${K1}", 2: "${K2}" }, active-key: 2 }`);
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW)));
  h.intake.onDatagram('eth1', datagram(sig(K2, 2, NOW + 100)));
  t.equal(h.inputs.length, 2);
  const a = h.hmac.signing(h.target.config);
  const b = h.hmac.signing(h.target.config);
  t.match(a, { keyId: 2 });
  t.same(a?.key, key(K2));
  t.ok(a !== undefined && b !== undefined && b.sequence > a.sequence, 'two adverts in the same millisecond: the counter counts');
  // What we sign is what a receiver with the same config accepts (a second agent's intake).
  const r = harness(`{ type: hmac, keys: { 2: "${K2}" } }`);
  r.intake.onDatagram('eth1', datagram(b));
  t.equal(r.inputs.length, 1);
  t.end();
});

t.test('IPv6 and unicast: marks per sender; another sender is its own sequence', async (t) => {
  const h = harness(`{ type: hmac, keys: { 1: "${K1}" } }`, '    peers: [10.0.0.2, 10.0.0.3]\n');
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW + 100), { src: '10.0.0.2' }));
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW), { src: '10.0.0.3' }));
  t.equal(h.inputs.length, 2, 'an older sequence from another sender is no replay');
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW + 100), { src: '10.0.0.9' }));
  t.same(h.drops, ['unknown-source'], 'the source check comes first');

  const six = (() => {
    const r = parseConfigYaml(`instances:\n  - name: six\n    vrid: 52\n    interface: eth1\n    vips: [2001:db8::52/64]\n    auth: { type: hmac, keys: { 1: "${K1}" } }\n`);
    if (!r.ok) throw new Error('bad');
    return r.config.instances[0]!;
  })();
  const inputs: Input[] = [];
  const drops: string[] = [];
  const target: IntakeTarget = { config: six, runner: { countDrop: (r) => drops.push(r), countReceived: () => undefined, input: (i) => inputs.push(i) }, peer: { vrrpMismatch: new MismatchWatch() } };
  const intake = new AdvertIntake<IntakeTarget>({ log: pino({ level: 'silent' }), events: new EventBus(), clock: () => 0, targets: () => [target], configured: () => [six], heard: () => undefined, hmac: new AdvertHmac(() => NOW) });
  const msg = encodeAdvertisement({ version: 3, family: 6, vrid: 52, priority: 100, maxAdvertIntervalCs: 100, addresses: ['2001:db8::52'] }, { src: 'fe80::2', dst: 'ff02::12', hmac: sig(K1, 1, NOW) });
  intake.onMessage6('eth1', { message: msg, src: 'fe80::2', dst: 'ff02::12', hopLimit: 255 });
  intake.onMessage6('eth1', { message: msg, src: 'fe80::2', dst: 'ff02::12', hopLimit: 255 });
  t.equal(inputs.length, 1);
  t.same(drops, ['auth-replay']);
  t.end();
});

t.test('clock skew over half the window: accepted, with a warning to fix NTP', async (t) => {
  const h = harness(`{ type: hmac, keys: { 1: "${K1}" }, time-window: 10s }`);
  h.intake.onDatagram('eth1', datagram(sig(K1, 1, NOW - 7000)));
  t.equal(h.inputs.length, 1);
  t.match(h.warns(), [/7 s off our clock, over half the HMAC time window \(10 s\): fix NTP/]);
  t.end();
});

t.test('file keys not loaded are reported by unloadedKeys (the agent refuses to start on them)', async (t) => {
  const inst = config(`{ type: hmac, keys: { 1: "${K1}", 3: "file:/etc/haagent/k3" }, active-key: 1 }`);
  t.same(unloadedKeys([inst]), ['instances[0].auth.keys.3']);
  t.same(unloadedKeys([config(`{ type: hmac, keys: { 1: "${K1}" } }`)]), []);
  t.end();
});
