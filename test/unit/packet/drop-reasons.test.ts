/**
 * One test per DropReason: a crafted bad packet (or a mismatching advert) returns that reason
 * with a readable detail. The Record type makes the compiler insist every reason has a test.
 */
import t, { type Test } from 'tap';
import { internetChecksum, ipv4PseudoHeader, IPPROTO_VRRP } from '../../../src/core/packet/checksum.js';
import { decodeAdvertisement, decodeIpv4Datagram } from '../../../src/core/packet/decode.js';
import { encodeAdvertisement, encodeIpv4Datagram } from '../../../src/core/packet/encode.js';
import { parseIpv4 } from '../../../src/core/packet/ip.js';
import { checkSource } from '../../../src/core/packet/source.js';
import { authenticateAdvert, type HmacPolicy } from '../../../src/core/packet/hmac-auth.js';
import { clockSequence } from '../../../src/core/packet/hmac-replay.js';
import { checkAgainstInstance } from '../../../src/core/packet/validate.js';
import type { Advertisement, DropReason, ReceiveContext } from '../../../src/core/packet/vrrp-types.js';

const V4: ReceiveContext = { family: 4, src: '192.0.2.2', dst: '224.0.0.18', ttl: 255 };
const V6: ReceiveContext = { family: 6, src: 'fe80::2', dst: 'ff02::12', ttl: 255 };
const v2: Advertisement = { version: 2, family: 4, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10', '192.0.2.11'], auth: { type: 1, password: 'secret' } };
const v3: Advertisement = { version: 3, family: 4, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'] };
const v3six: Advertisement = { version: 3, family: 6, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses: ['fe80::7'] };

const enc = (a: Advertisement, ctx: ReceiveContext = a.family === 4 ? V4 : V6): Uint8Array =>
  encodeAdvertisement(a, { src: ctx.src, dst: ctx.dst });

/** Rewrite the checksum after a mutation, in the given form, so later checks are reached. */
function fixChecksum(msg: Uint8Array, form: 'plain' | 'v4-pseudo'): Uint8Array {
  msg[6] = 0;
  msg[7] = 0;
  const cs =
    form === 'plain'
      ? internetChecksum(msg)
      : internetChecksum(ipv4PseudoHeader(parseIpv4(V4.src)!, parseIpv4(V4.dst)!, IPPROTO_VRRP, msg.length), msg);
  msg[6] = cs >>> 8;
  msg[7] = cs & 0xff;
  return msg;
}

/** A valid IPv4 datagram with its header checksum recomputed after `mutate`. */
function datagram(mutate: (d: Uint8Array) => void): Uint8Array {
  const d = encodeIpv4Datagram(v2, { src: V4.src, dst: V4.dst });
  mutate(d);
  d[10] = 0;
  d[11] = 0;
  const cs = internetChecksum(d.subarray(0, (d[0]! & 0x0f) * 4));
  d[10] = cs >>> 8;
  d[11] = cs & 0xff;
  return d;
}

const NOW_MS = 1_800_000_000_000;
const HMAC_KEY = new Uint8Array(32).fill(0x5a);
const HMAC: HmacPolicy = { keys: new Map([[3, HMAC_KEY]]), mode: 'enforce', antiReplay: 'time', timeWindowSec: 5 };

/** v3 signed with key 3 at NOW_MS, checksum left as encoded (the HMAC checks come after it). */
function signed(mutate: (m: Uint8Array) => void = () => undefined): Uint8Array {
  const m = encodeAdvertisement(v3, { src: V4.src, dst: V4.dst, hmac: { keyId: 3, key: HMAC_KEY, sequence: clockSequence(NOW_MS) } });
  mutate(m);
  return m;
}

/** Decode `msg`, then authenticate it under `policy` with the sender's mark `mark`. */
function hmacCheck(msg: Uint8Array, policy: HmacPolicy, mark?: bigint, nowMs = NOW_MS): { ok: boolean; reason?: string; detail?: string } {
  const r = decodeAdvertisement(msg, V4);
  if (!r.ok) return r;
  return authenticateAdvert(r.signed, { family: 4, version: 3, vrid: v3.vrid, src: parseIpv4(V4.src)! }, policy, mark, nowMs);
}

function expectDrop(t: Test, result: { ok: boolean; reason?: string; detail?: string }, reason: DropReason, detail: RegExp): void {
  t.match(result, { ok: false, reason }, `reason is ${reason}`);
  t.match(result.detail ?? '', detail, `detail reads: ${result.detail ?? ''}`);
}

const perReason: Record<DropReason, (t: Test) => void> = {
  'too-short': (t) => {
    expectDrop(t, decodeAdvertisement(new Uint8Array(7), V4), 'too-short', /VRRP message is 7 bytes; the header alone is 8/);
    const d = decodeIpv4Datagram(new Uint8Array(19));
    expectDrop(t, d, 'too-short', /IPv4 datagram is 19 bytes/);
    t.equal(d.src, undefined, 'no header fields before the header parsed');
  },
  'bad-ip-header': (t) => {
    expectDrop(t, decodeIpv4Datagram(datagram((d) => (d[0] = 0x65))), 'bad-ip-header', /IP version is 6; should be 4/);
    expectDrop(t, decodeIpv4Datagram(datagram((d) => (d[0] = 0x44))), 'bad-ip-header', /header length is 16; should be at least 20/);
    expectDrop(t, decodeIpv4Datagram(datagram((d) => (d[3] = 0xff))), 'bad-ip-header', /total length is 255; header is 20 and 44 bytes arrived/);
    expectDrop(t, decodeIpv4Datagram(datagram((d) => (d[3] = 19))), 'bad-ip-header', /total length is 19/);
    expectDrop(t, decodeIpv4Datagram(datagram((d) => (d[6] = 0x20))), 'bad-ip-header', /fragment \(flags\/offset 0x2000\)/);
    const badSum = encodeIpv4Datagram(v2, { src: V4.src, dst: V4.dst });
    badSum[10] = (badSum[10] ?? 0) ^ 0xff;
    expectDrop(t, decodeIpv4Datagram(badSum), 'bad-ip-header', /header checksum does not verify/);
  },
  'bad-protocol': (t) => {
    const r = decodeIpv4Datagram(datagram((d) => (d[9] = 17)));
    expectDrop(t, r, 'bad-protocol', /IPv4 protocol is 17; should be 112 \(VRRP\)/);
    t.equal(r.src, V4.src, 'header fields are reported once the header parsed');
  },
  'bad-ttl': (t) => {
    expectDrop(t, decodeAdvertisement(enc(v2), { ...V4, ttl: 64 }), 'bad-ttl', /^IPv4 TTL is 64; should be 255$/);
    expectDrop(t, decodeAdvertisement(enc(v3six), { ...V6, ttl: 1 }), 'bad-ttl', /^IPv6 hop limit is 1; should be 255$/);
    const r = decodeIpv4Datagram(datagram((d) => (d[8] = 254)));
    expectDrop(t, r, 'bad-ttl', /TTL is 254/);
    t.equal(r.ttl, 254);
  },
  'bad-version': (t) => {
    const m = enc(v3);
    m[0] = 0x41;
    expectDrop(t, decodeAdvertisement(m, V4), 'bad-version', /VRRP version is 4; should be 2 or 3/);
    const v2on6 = enc(v2);
    expectDrop(t, decodeAdvertisement(v2on6, V6), 'bad-version', /version 2 received over IPv6/);
    expectDrop(t, decodeAdvertisement(enc(v3), V4, { version: 2 }), 'bad-version', /VRRP version is 3; this instance runs version 2/);
  },
  'bad-type': (t) => {
    const m = enc(v3);
    m[0] = 0x32;
    expectDrop(t, decodeAdvertisement(m, V4), 'bad-type', /packet type is 2; should be 1 \(ADVERTISEMENT\)/);
  },
  'bad-length': (t) => {
    const m = enc(v2);
    expectDrop(t, decodeAdvertisement(m.subarray(0, m.length - 1), V4), 'bad-length', /VRRP message is 23 bytes; 2 IPv4 address\(es\) need 24/);
    const six = enc(v3six);
    six[3] = 2;
    expectDrop(t, decodeAdvertisement(six, V6), 'bad-length', /24 bytes; 2 IPv6 address\(es\) need 40/);
  },
  'bad-checksum': (t) => {
    const m2 = enc(v2);
    m2[2] = 99;
    expectDrop(t, decodeAdvertisement(m2, V4), 'bad-checksum', /VRRPv2 checksum 0x[0-9a-f]{4} does not verify over the message/);
    const m3 = enc(v3);
    m3[2] = 99;
    expectDrop(t, decodeAdvertisement(m3, V4), 'bad-checksum', /with or without the IPv4 pseudo-header/);
    const m6 = enc(v3six);
    m6[2] = 99;
    expectDrop(t, decodeAdvertisement(m6, V6), 'bad-checksum', /with the IPv6 pseudo-header/);
    // Right bytes, wrong addresses in the context: the pseudo-header no longer matches.
    expectDrop(t, decodeAdvertisement(enc(v3six), { ...V6, src: 'fe80::99' }), 'bad-checksum', /IPv6 pseudo-header/);
    // Context addresses that are not addresses at all: a failed checksum, not a throw.
    expectDrop(t, decodeAdvertisement(enc(v3six), { ...V6, src: 'nonsense' }), 'bad-checksum', /IPv6/);
    const asV2 = encodeAdvertisement(v3, { src: V4.src, dst: V4.dst, v3ChecksumAsV2: true });
    t.match(decodeAdvertisement(asV2, { ...V4, src: 'nonsense' }), { ok: true, checksumForm: 'v3-no-pseudo' });
    expectDrop(t, decodeAdvertisement(enc(v3), { ...V4, src: 'nonsense' }), 'bad-checksum', /IPv4 pseudo-header/);
  },
  'bad-auth-type': (t) => {
    const m = enc(v2);
    m[4] = 2;
    fixChecksum(m, 'plain');
    expectDrop(t, decodeAdvertisement(m, V4), 'bad-auth-type', /auth type is unknown \(2\); should be 0 \(none\) or 1 \(simple password\)/);
  },
  'auth-type-mismatch': (t) => {
    expectDrop(t, decodeAdvertisement(enc(v2), V4, { auth: { type: 0 } }), 'auth-type-mismatch', /auth type is simple password \(1\); this instance uses none \(0\)/);
    const m = enc({ ...v2, auth: { type: 0 } });
    expectDrop(t, decodeAdvertisement(m, V4, { auth: { type: 1, password: 'secret' } }), 'auth-type-mismatch', /auth type is none \(0\); this instance uses simple password \(1\)/);
    const odd = enc(v2);
    odd[4] = 9;
    fixChecksum(odd, 'plain');
    expectDrop(t, decodeAdvertisement(odd, V4, { auth: { type: 1, password: 'secret' } }), 'auth-type-mismatch', /unknown \(9\)/);
  },
  'auth-mismatch': (t) => {
    expectDrop(t, decodeAdvertisement(enc(v2), V4, { auth: { type: 1, password: 'secreT' } }), 'auth-mismatch', /simple password differs/);
    t.match(decodeAdvertisement(enc(v2), V4, { auth: { type: 1, password: 'secret' } }), { ok: true });
    // Type 0: the auth data is ignored on reception (RFC 3768 §5.3.10).
    const m = enc({ ...v2, auth: { type: 0 } });
    m.fill(0x41, 16, 24);
    fixChecksum(m, 'plain');
    t.match(decodeAdvertisement(m, V4, { auth: { type: 0 } }), { ok: true, advert: { auth: { type: 0 } } });
  },
  'bad-interval': (t) => {
    const m2 = enc(v2);
    m2[5] = 0;
    fixChecksum(m2, 'plain');
    expectDrop(t, decodeAdvertisement(m2, V4), 'bad-interval', /advertisement interval is 0/);
    const m3 = enc(v3);
    m3[4] = 0xf0; // reserved bits are ignored; the 12-bit interval is 0
    m3[5] = 0;
    fixChecksum(m3, 'v4-pseudo');
    expectDrop(t, decodeAdvertisement(m3, V4), 'bad-interval', /interval is 0/);
    const ours = { vrid: 7, version: 2 as const, advertIntervalCs: 300, vips: ['192.0.2.10/24', '192.0.2.11/24'] };
    expectDrop(t, checkAgainstInstance(v2, ours), 'bad-interval', /^advertisement interval is 1 s; this instance uses 3 s$/);
    // v3: a backup adopts the master's interval (RFC 9568 §6.4.2), so no drop.
    t.same(checkAgainstInstance(v3, { vrid: 7, version: 3, advertIntervalCs: 300, vips: ['192.0.2.10'] }), { ok: true });
  },
  'bad-vrid': (t) => {
    const m = enc(v3);
    m[1] = 0;
    fixChecksum(m, 'v4-pseudo');
    expectDrop(t, decodeAdvertisement(m, V4), 'bad-vrid', /VRID is 0; should be 1\.\.255/);
    expectDrop(t, checkAgainstInstance(v3, { vrid: 8, version: 3, advertIntervalCs: 100, vips: ['192.0.2.10'] }), 'bad-vrid', /^VRID is 7; this instance is VRID 8$/);
  },
  'address-mismatch': (t) => {
    const ours = { vrid: 7, version: 2 as const, advertIntervalCs: 100, vips: ['192.0.2.10/24', '192.0.2.11/24'] };
    t.same(checkAgainstInstance(v2, ours), { ok: true });
    expectDrop(t, checkAgainstInstance(v2, { ...ours, vips: ['192.0.2.10/24'] }), 'address-mismatch', /carries 2 address\(es\) \[192\.0\.2\.10, 192\.0\.2\.11\]; this instance has 1 \[192\.0\.2\.10\]/);
    expectDrop(t, checkAgainstInstance(v2, { ...ours, vips: ['192.0.2.11', '192.0.2.10'] }), 'address-mismatch', /address 0 is 192\.0\.2\.10; this instance has 192\.0\.2\.11 there/);
    expectDrop(t, checkAgainstInstance(v2, { ...ours, vips: ['192.0.2.10', 'not-an-ip'] }), 'address-mismatch', /not-an-ip/);
    // IPv6 text forms are compared canonically.
    t.same(checkAgainstInstance(v3six, { vrid: 7, version: 3, advertIntervalCs: 100, vips: [' FE80:0:0::7/64 '] }), { ok: true });
  },
  'unknown-source': (t) => {
    t.same(checkSource('192.0.2.2', []), { ok: true }, 'no peers (multicast): any source');
    t.same(checkSource('192.0.2.2', ['192.0.2.3', '192.0.2.2']), { ok: true });
    expectDrop(t, checkSource('192.0.2.66', ['192.0.2.2']), 'unknown-source', /^source 192\.0\.2\.66 is not one of this instance's unicast peers \[192\.0\.2\.2\]$/);
    expectDrop(t, checkSource('garbage', ['192.0.2.2']), 'unknown-source', /source "garbage"/);
  },
  'auth-missing': (t) => {
    expectDrop(t, hmacCheck(enc(v3), HMAC), 'auth-missing', /no HMAC trailer; this instance enforces/);
  },
  'auth-malformed': (t) => {
    expectDrop(t, hmacCheck(signed((m) => { m[m.length - 28] = 2; }), HMAC), 'auth-malformed', /extension type is 2/);
  },
  'auth-unknown-key': (t) => {
    expectDrop(t, hmacCheck(signed(), { ...HMAC, keys: new Map([[4, HMAC_KEY]]) }), 'auth-unknown-key', /key id 3 is not configured here \(configured: 4\)/);
  },
  'auth-bad-hmac': (t) => {
    expectDrop(t, hmacCheck(signed(), { ...HMAC, keys: new Map([[3, new Uint8Array(32)]]) }), 'auth-bad-hmac', /does not verify with key id 3/);
  },
  'auth-stale': (t) => {
    expectDrop(t, hmacCheck(signed(), HMAC, undefined, NOW_MS + 10_000), 'auth-stale', /10 s behind our clock; the window is 5 s/);
  },
  'auth-replay': (t) => {
    expectDrop(t, hmacCheck(signed(), HMAC, clockSequence(NOW_MS)), 'auth-replay', /is not after the last accepted/);
  },
};

for (const [reason, run] of Object.entries(perReason)) {
  t.test(`drop reason ${reason}`, (t) => {
    run(t);
    t.end();
  });
}

t.test('version mismatch is also reported by checkAgainstInstance', (t) => {
  expectDrop(t, checkAgainstInstance(v3, { vrid: 7, version: 2, advertIntervalCs: 100, vips: ['192.0.2.10'] }), 'bad-version', /version is 3; this instance runs version 2/);
  t.end();
});

t.test('Ethernet padding after the message is accepted and ignored', (t) => {
  const m = enc(v2);
  const padded = new Uint8Array(m.length + 10);
  padded.set(m);
  padded.fill(0xaa, m.length);
  t.match(decodeAdvertisement(padded, V4), { ok: true, advert: { addresses: v2.addresses } });
  // Bytes after the IPv4 total length (what a capture of a padded frame holds) are ignored too.
  const d = encodeIpv4Datagram(v3, { src: V4.src, dst: V4.dst });
  const frame = new Uint8Array(d.length + 6);
  frame.set(d);
  t.match(decodeIpv4Datagram(frame), { ok: true, checksumForm: 'v3-pseudo' });
  t.end();
});

t.test('IPv4 header options (IHL > 5) are skipped', (t) => {
  const msg = enc(v3);
  const d = new Uint8Array(24 + msg.length);
  d.set([0x46, 0xc0, 0, d.length, 0, 1, 0, 0, 255, 112, 0, 0, 192, 0, 2, 2, 224, 0, 0, 18, 0x94, 0x04, 0, 0]); // Router Alert
  const cs = internetChecksum(d.subarray(0, 24));
  d[10] = cs >>> 8;
  d[11] = cs & 0xff;
  d.set(msg, 24);
  t.match(decodeIpv4Datagram(d), { ok: true, headerLength: 24, src: '192.0.2.2', advert: { vrid: 7 } });
  t.end();
});

t.test('decoded datagram keeps a subarray view at a non-zero offset working', (t) => {
  const d = encodeIpv4Datagram(v2, { src: V4.src, dst: V4.dst });
  const big = new Uint8Array(d.length + 5);
  big.set(d, 5);
  t.match(decodeIpv4Datagram(big.subarray(5)), { ok: true });
  t.end();
});
