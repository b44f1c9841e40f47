/**
 * HMAC authentication against adverts captured from a real keepalived 2.4.3 (auth_hmac), see
 * test/fixtures/keepalived-hmac/README.md: every captured advert verifies with the keys of its
 * config at its capture time, in every mode; our encoder, given the same sequence, reproduces
 * keepalived's bytes exactly; and replayed, stale, re-keyed, tampered and unsigned adverts are
 * dropped with the right reason. The keys are read from the fixture configs, not restated here.
 */
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { decodeAdvertisement, decodeIpv4Datagram } from '../../../src/core/packet/decode.js';
import { encodeAdvertisement, encodeIpv4Datagram } from '../../../src/core/packet/encode.js';
import { authenticateAdvert, type HmacMode, type HmacPolicy, type SignedPart } from '../../../src/core/packet/hmac-auth.js';
import type { AntiReplay } from '../../../src/core/packet/hmac-replay.js';
import { parseIp } from '../../../src/core/packet/ip.js';
import type { DecodeResult } from '../../../src/core/packet/vrrp-types.js';
import { fromHex, toHex } from './hex.js';

interface CapturedPacket {
  readonly capturedAtUs: number;
  readonly family: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly datagramHex: string;
  readonly vrrpHex: string;
}
interface Capture {
  readonly keepalivedVersion: string;
  readonly config: readonly string[];
  readonly packets: readonly CapturedPacket[];
}

const dir = new URL('../../fixtures/keepalived-hmac/', import.meta.url);
const load = (name: string): Capture => JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as Capture;

/** A keepalived key value as its parser reads it: hex:, file: (a fixture file) or ASCII. */
function keyBytes(value: string): Uint8Array {
  if (value.startsWith('hex:')) return fromHex(value.slice(4));
  if (value.startsWith('file:')) return keyBytes(readFileSync(new URL(value.slice(value.lastIndexOf('/') + 1), dir), 'utf8').trim());
  return new TextEncoder().encode(value);
}

/** The `key ID VALUE` lines of a fixture config. */
function keysOf(cap: Capture): Map<number, Uint8Array> {
  const keys = new Map<number, Uint8Array>();
  for (const line of cap.config) {
    const m = /^\s*key (\d+) (\S+)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) keys.set(Number(m[1]), keyBytes(m[2]));
  }
  return keys;
}

function decode(p: CapturedPacket): DecodeResult {
  return p.family === 4
    ? decodeIpv4Datagram(fromHex(p.datagramHex))
    : decodeAdvertisement(fromHex(p.vrrpHex), { family: 6, src: p.src, dst: p.dst, ttl: 255 });
}

function signedOf(t: Test, p: CapturedPacket): { r: DecodeResult & { ok: true }; signed: SignedPart | undefined } {
  const r = decode(p);
  if (!r.ok) throw new Error(`capture does not decode: ${r.reason}: ${r.detail}`);
  t.pass(`decodes (${r.checksumForm})`);
  return { r, signed: r.signed };
}

const policy = (keys: ReadonlyMap<number, Uint8Array>, mode: HmacMode = 'enforce', antiReplay: AntiReplay = 'time'): HmacPolicy =>
  ({ keys, mode, antiReplay, timeWindowSec: 5 });
const at = (p: CapturedPacket): number => p.capturedAtUs / 1000;
const binding = (r: DecodeResult & { ok: true }, p: CapturedPacket) =>
  ({ family: p.family, version: r.advert.version, vrid: r.advert.vrid, src: parseIp(p.src, p.family)! });
/** The sequence field read straight from the captured hex (independent of the codec). */
const wireSequence = (p: CapturedPacket, trailerAt: number): bigint => BigInt(`0x${p.vrrpHex.slice(2 * (trailerAt + 4), 2 * (trailerAt + 12))}`);

const SIGNED: ReadonlyArray<{ name: string; keyId: number; unicast: boolean }> = [
  { name: 'v2-ipv4', keyId: 1, unicast: false },
  { name: 'v3-ipv4', keyId: 1, unicast: false },
  { name: 'v3-ipv6', keyId: 1, unicast: false },
  { name: 'v2-ipv4-unicast', keyId: 1, unicast: true },
  { name: 'v3-ipv4-unicast', keyId: 1, unicast: true },
  { name: 'v3-ipv6-unicast', keyId: 1, unicast: true },
  { name: 'v3-ipv4-rotation', keyId: 2, unicast: false },
  { name: 'v2-ipv4-ascii', keyId: 7, unicast: false },
];

for (const c of SIGNED) {
  t.test(`keepalived 2.4.3 capture ${c.name}: verifies, re-encodes byte for byte, replays are dropped`, (t) => {
    const cap = load(c.name);
    t.match(cap.keepalivedVersion, /^Keepalived v2\.4\.3/);
    t.equal(cap.packets.length, 3);
    const keys = keysOf(cap);
    t.ok(keys.has(c.keyId), `the config defines key ${c.keyId}`);
    let mark: bigint | undefined;
    for (const [i, p] of cap.packets.entries()) {
      const { r, signed } = signedOf(t, p);
      t.ok(signed, `packet ${i} carries a trailer`);
      if (signed === undefined) continue;
      t.equal(signed.trailer.length, 28);
      const b = binding(r, p);
      for (const mode of ['enforce', 'permissive', 'receive-only'] as const) {
        t.match(authenticateAdvert(signed, b, policy(keys, mode), mark, at(p)), { ok: true, signed: true, keyId: c.keyId }, `packet ${i} verifies (${mode})`);
      }
      const ok = authenticateAdvert(signed, b, policy(keys), mark, at(p));
      if (!ok.ok || !ok.signed) { t.fail('not verified'); continue; }
      t.equal(ok.sequence, wireSequence(p, signed.message.length), `packet ${i}: the sequence is the wire's`);
      t.ok(Math.abs(ok.skewSec) <= 1, 'captured as sent: no skew');
      // The same packet again, and the previous one, are replays once this one is the mark.
      t.match(authenticateAdvert(signed, b, policy(keys), ok.sequence, at(p)), { ok: false, reason: 'auth-replay' }, `packet ${i} replayed`);
      mark = ok.sequence;

      // Our encoder, given keepalived's sequence and key, produces keepalived's bytes.
      const hmac = { keyId: c.keyId, key: keys.get(c.keyId)!, sequence: ok.sequence };
      t.equal(toHex(encodeAdvertisement(r.advert, { src: p.src, dst: p.dst, hmac })), p.vrrpHex, `packet ${i}: our signed message is byte-identical`);
      if (p.family === 4) {
        const id = parseInt(p.datagramHex.slice(8, 12), 16);
        t.equal(toHex(encodeIpv4Datagram(r.advert, { src: p.src, dst: p.dst, id, hmac })), p.datagramHex, `packet ${i}: whole datagram byte-identical`);
      }
      t.equal(p.dst === '224.0.0.18' || p.dst === 'ff02::12', !c.unicast, 'multicast or unicast as configured');
    }
    // An earlier packet after a later one: replay.
    const first = cap.packets[0]!;
    const { r, signed } = signedOf(t, first);
    t.match(authenticateAdvert(signed, binding(r, first), policy(keys), mark, at(first)), { ok: false, reason: 'auth-replay' }, 'packet 0 after packet 2');
    t.end();
  });
}

t.test('stale, unknown key, wrong key, tampered, other source: dropped with their reason', (t) => {
  const cap = load('v3-ipv4');
  const keys = keysOf(cap);
  const p = cap.packets[0]!;
  const { r, signed } = signedOf(t, p);
  const b = binding(r, p);
  t.match(authenticateAdvert(signed, b, policy(keys), undefined, at(p) + 6000), { ok: false, reason: 'auth-stale', detail: /6 s behind our clock; the window is 5 s/ });
  t.match(authenticateAdvert(signed, b, policy(keys), undefined, at(p) - 6000), { ok: false, reason: 'auth-stale', detail: /ahead of our clock/ });
  t.match(authenticateAdvert(signed, b, policy(keys), undefined, at(p) + 4000), { ok: true }, 'within the window');
  t.match(authenticateAdvert(signed, b, policy(keys, 'enforce', 'monotonic'), undefined, at(p) + 86_400_000), { ok: true }, 'monotonic: no window');
  t.match(authenticateAdvert(signed, b, policy(new Map([[2, keys.get(1)!]])), undefined, at(p)), { ok: false, reason: 'auth-unknown-key', detail: /key id 1 is not configured here \(configured: 2\)/ });
  t.match(authenticateAdvert(signed, b, policy(new Map([[1, new Uint8Array(32).fill(7)]])), undefined, at(p)), { ok: false, reason: 'auth-bad-hmac' });
  t.match(authenticateAdvert(signed, { ...b, src: parseIp('10.99.0.9')! }, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-bad-hmac' }, 'bound to the source');
  t.match(authenticateAdvert(signed, { ...b, vrid: 63 }, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-bad-hmac' }, 'bound to the VRID');
  t.match(authenticateAdvert(signed, { ...b, version: 2 }, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-bad-hmac' }, 'bound to the version');
  if (signed === undefined) return t.end();
  const tamper = (where: 'message' | 'trailer', off: number): SignedPart => {
    const s = { message: new Uint8Array(signed.message), trailer: new Uint8Array(signed.trailer) };
    s[where][off] = (s[where][off] ?? 0) ^ 0x01;
    return s;
  };
  t.match(authenticateAdvert(tamper('message', 2), b, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-bad-hmac' }, 'priority changed');
  t.match(authenticateAdvert(tamper('message', 11), b, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-bad-hmac' }, 'address changed');
  t.match(authenticateAdvert(tamper('message', 6), b, policy(keys), undefined, at(p)), { ok: true }, 'the checksum is not signed');
  t.match(authenticateAdvert(tamper('trailer', 0), b, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-malformed', detail: /extension type is 0/ });
  t.match(authenticateAdvert(tamper('trailer', 3), b, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-malformed', detail: /reserved/ });
  t.match(authenticateAdvert(tamper('trailer', 11), b, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-bad-hmac' }, 'sequence changed');
  t.match(authenticateAdvert(tamper('trailer', 27), b, policy(keys), undefined, at(p)), { ok: false, reason: 'auth-bad-hmac' }, 'tag changed');
  t.end();
});

t.test('receive-only capture: keepalived sends no trailer; enforce drops it, the migration modes accept it', (t) => {
  const cap = load('v3-ipv4-receive-only');
  const keys = keysOf(cap);
  for (const p of cap.packets) {
    const { r, signed } = signedOf(t, p);
    t.equal(signed, undefined, 'no trailer');
    t.equal(p.vrrpHex.length, 2 * 16, '16-byte message: header and two addresses');
    t.match(authenticateAdvert(signed, binding(r, p), policy(keys, 'enforce'), undefined, at(p)), { ok: false, reason: 'auth-missing' });
    t.same(authenticateAdvert(signed, binding(r, p), policy(keys, 'permissive'), undefined, at(p)), { ok: true, signed: false });
    t.same(authenticateAdvert(signed, binding(r, p), policy(keys, 'receive-only'), undefined, at(p)), { ok: true, signed: false });
  }
  t.end();
});

t.test('rotation capture: signed with key 2; a receiver with key 1 only does not know it', (t) => {
  const cap = load('v3-ipv4-rotation');
  const keys = keysOf(cap);
  t.equal(keys.get(2)?.length, 64, 'key 2 is the 64-byte one read from its file');
  const p = cap.packets[0]!;
  const { r, signed } = signedOf(t, p);
  t.match(authenticateAdvert(signed, binding(r, p), policy(new Map([[1, keys.get(1)!]])), undefined, at(p)), { ok: false, reason: 'auth-unknown-key' });
  t.match(authenticateAdvert(signed, binding(r, p), policy(keys), undefined, at(p)), { ok: true, keyId: 2 });
  t.end();
});

// The wire images of the draft's appendix (key 00..1f, VRID 51, priority 200, sequence
// 0x6800000080000000), as keepalived's own regression test pins them.
t.test('draft appendix vectors verify and re-encode', (t) => {
  const key = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const vectors = [
    { family: 4 as const, src: '198.51.100.10', dst: '224.0.0.18', hex: '3133c80100644402c0000264 010100006800000080000000 1b84bc4e8e43892dc6d98448f8ee2265', vip: '192.0.2.100' },
    { family: 6 as const, src: 'fe80::10', dst: 'fe80::20', hex: '3133c8010064a2e9 fe800000000000000000000000000100 010100006800000080000000 c8c56146ebfd66ee10ec4d8186461b78', vip: 'fe80::100' },
  ];
  for (const v of vectors) {
    const r = decodeAdvertisement(fromHex(v.hex), { family: v.family, src: v.src, dst: v.dst, ttl: 255 });
    if (!r.ok) { t.fail(`IPv${v.family} vector does not decode: ${r.detail}`); continue; }
    t.same(r.advert.addresses, [v.vip]);
    const a = authenticateAdvert(r.signed, { family: v.family, version: 3, vrid: 51, src: parseIp(v.src)! }, policy(new Map([[1, key]]), 'enforce', 'monotonic'), undefined, 0);
    t.match(a, { ok: true, keyId: 1, sequence: 0x6800000080000000n }, `IPv${v.family} vector verifies`);
    // The IPv4 image carries the message-only checksum (RFC 9568 leaves the pseudo-header out).
    const again = encodeAdvertisement(r.advert, { src: v.src, dst: v.dst, v3ChecksumAsV2: v.family === 4, hmac: { keyId: 1, key, sequence: 0x6800000080000000n } });
    t.equal(toHex(again), v.hex.replace(/ /g, ''), `IPv${v.family} vector re-encodes`);
  }
  t.end();
});
