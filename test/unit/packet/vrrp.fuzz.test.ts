/**
 * Seeded fuzzing of the receive path a daemon runs on every packet:
 *   decodeIpv4Datagram / decodeAdvertisement -> checkSource -> checkAgainstInstance.
 *
 * Inputs: random bytes, and valid datagrams (v2 with and without a password, v3 over IPv4 and
 * IPv6) close to a random instance, mutated (bytes overwritten, header fields biased, cut,
 * padded), with or without their checksums repaired afterwards so that the mutations reach the
 * checks behind the checksum.
 *
 * Properties:
 * - nothing throws; a drop always has a reason and a readable detail;
 * - ACCEPTED => an independent oracle, reading the raw bytes, agrees the packet satisfies every
 *   invariant our instance needs (TTL/hop limit 255, protocol 112, version, type, length, auth,
 *   VRID, v2 interval, the exact VIP list, a known source when peers are configured);
 * - with repaired checksums the converse holds too: oracle => accepted.
 * Seeds are fixed; runs are bounded so the file takes a few seconds.
 */
import fc from 'fast-check';
import t from 'tap';
import { internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader, IPPROTO_VRRP } from '../../../src/core/packet/checksum.js';
import { decodeAdvertisement, decodeIpv4Datagram } from '../../../src/core/packet/decode.js';
import { encodeAdvertisement, encodeIpv4Datagram } from '../../../src/core/packet/encode.js';
import { formatIpv4, formatIpv6, parseIp, stripPrefix } from '../../../src/core/packet/ip.js';
import { checkSource } from '../../../src/core/packet/source.js';
import { checkAgainstInstance } from '../../../src/core/packet/validate.js';
import type { Advertisement, DecodeResult, VrrpAuth } from '../../../src/core/packet/vrrp-types.js';

type Family = 4 | 6;

/** The receiving instance, as the daemon knows it. */
interface Ours {
  readonly family: Family;
  readonly version: 2 | 3;
  readonly vrid: number;
  readonly advertIntervalCs: number;
  readonly vips: readonly string[];
  readonly auth: VrrpAuth | undefined;
  readonly peers: readonly string[];
}

/** One packet to feed: IPv4 whole datagram, or IPv6 message plus what the socket reports. */
interface Packet {
  readonly family: Family;
  readonly bytes: Uint8Array;
  readonly src: string;
  readonly dst: string;
  /** IPv6 only: hop limit as reported by the socket. */
  readonly hopLimit: number;
}

const SEED = 0x5798;

// Small pools so that random choices often coincide (a source that is a peer, a VRID that is ours).
const V4_POOL = ['10.66.0.11', '10.66.0.12', '10.66.0.66', '192.0.2.10', '192.0.2.11'];
const V6_POOL = ['fe80::11', 'fe80::12', 'fe80::66', 'fd00::10', 'fd00::11'];
const pool = (f: Family): string[] => (f === 4 ? V4_POOL : V6_POOL);
const password = fc.string({ unit: fc.constantFrom(...'abcXYZ019!'.split('')), minLength: 1, maxLength: 8 });

const oursArb: fc.Arbitrary<Ours> = fc.constantFrom<Family>(4, 4, 6).chain((family) => {
  const addr = fc.constantFrom(...pool(family));
  return fc.record({
    family: fc.constant(family),
    version: family === 6 ? fc.constant(3 as const) : fc.constantFrom(2 as const, 3 as const),
    vrid: fc.constantFrom(1, 51, 255),
    advertIntervalCs: fc.constantFrom(100, 300),
    vips: fc.uniqueArray(addr, { minLength: 1, maxLength: 3 }).map((a) => a.map((x) => `${x}/${family === 4 ? 24 : 64}`)),
    auth: fc.option(fc.oneof(fc.constant<VrrpAuth>({ type: 0 }), password.map((p): VrrpAuth => ({ type: 1, password: p }))), { nil: undefined }),
    peers: fc.uniqueArray(addr, { maxLength: 2 }),
  }).map((o) => (o.version === 3 ? { ...o, auth: undefined } : o));
});

/** A valid advert that matches `ours` in most fields (each field may deviate). */
function advertNear(ours: Ours): fc.Arbitrary<{ advert: Advertisement; src: string; dst: string; hopLimit: number }> {
  const addr = fc.constantFrom(...pool(ours.family));
  const vipAddrs = ours.vips.map(stripPrefix);
  /** Mostly `usual`, sometimes `other`: most packets must get far enough to be accepted. */
  const mostly = <T,>(usual: T, other: fc.Arbitrary<T>): fc.Arbitrary<T> =>
    fc.oneof({ weight: 6, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: other });
  return fc.record({
    version: mostly(ours.version, fc.constant(ours.family === 6 ? 3 : (5 - ours.version) as 2 | 3)),
    vrid: mostly(ours.vrid, fc.integer({ min: 1, max: 255 })),
    priority: fc.integer({ min: 0, max: 255 }),
    intervalCs: mostly(ours.advertIntervalCs, fc.constantFrom(100, 200, 4000)),
    addresses: mostly(vipAddrs, fc.oneof(fc.constant([...vipAddrs].reverse()), fc.array(addr, { minLength: 1, maxLength: 3 }))),
    auth: mostly<VrrpAuth>(ours.auth ?? { type: 0 }, fc.oneof(fc.constant<VrrpAuth>({ type: 0 }), password.map((p): VrrpAuth => ({ type: 1, password: p })))),
    src: ours.peers.length > 0 ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ours.peers) }, { weight: 1, arbitrary: addr }) : addr,
    dst: fc.constantFrom(ours.family === 4 ? '224.0.0.18' : 'ff02::12', pool(ours.family)[1] ?? ''),
    hopLimit: mostly(255, fc.constantFrom(64, 1, -1)),
  }).map(({ version, intervalCs, auth, src, dst, hopLimit, ...r }) => ({
    advert: {
      ...r,
      version,
      family: ours.family,
      maxAdvertIntervalCs: version === 2 ? Math.min(25_500, Math.round(intervalCs / 100) * 100 || 100) : Math.min(4095, intervalCs),
      ...(version === 2 ? { auth } : {}),
    },
    src,
    dst,
    hopLimit,
  }));
}

const mutationArb = fc.record({
  // Header bytes (IPv4 header + VRRP header) are where the checks are: bias towards them.
  writes: fc.oneof(
    fc.constant([]),
    fc.array(fc.record({ at: fc.oneof(fc.integer({ min: 0, max: 31 }), fc.nat()), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 2, 3, 4, 5, 0x21, 0x31, 112, 255)) }), { minLength: 1, maxLength: 3 }),
  ),
  cut: fc.option(fc.nat(), { nil: undefined }),
  pad: fc.nat({ max: 16 }),
  repair: fc.boolean(),
});

function u16(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

function setSum(b: Uint8Array, at: number, sum: number): void {
  b[at] = sum >>> 8;
  b[at + 1] = sum & 0xff;
}

/** VRRP message length the header's version and count imply, or undefined for other versions. */
function neededLength(msg: Uint8Array, family: Family): number | undefined {
  const version = (msg[0] ?? 0) >>> 4;
  if (msg.length < 8 || (version !== 2 && version !== 3)) return undefined;
  return 8 + (msg[3] ?? 0) * (family === 4 ? 4 : 16) + (version === 2 ? 8 : 0);
}

/** Rewrites the VRRP checksum of `msg` (v2 plain, v3 with the pseudo-header) when the message is long enough. */
function repairVrrp(msg: Uint8Array, family: Family, src: string, dst: string): void {
  const needed = neededLength(msg, family);
  if (needed === undefined || msg.length < needed) return;
  const body = msg.subarray(0, needed);
  setSum(body, 6, 0);
  const s = parseIp(src, family);
  const d = parseIp(dst, family);
  if ((body[0] ?? 0) >>> 4 === 2 || s === undefined || d === undefined) {
    setSum(body, 6, internetChecksum(body));
  } else {
    const pseudo = family === 4 ? ipv4PseudoHeader(s, d, IPPROTO_VRRP, needed) : ipv6PseudoHeader(s, d, IPPROTO_VRRP, needed);
    setSum(body, 6, internetChecksum(pseudo, body));
  }
}

/** Rewrites the IPv4 header checksum and the VRRP checksum of a (mutated) datagram where possible. */
function repairIpv4(d: Uint8Array): void {
  const ihl = ((d[0] ?? 0) & 0x0f) * 4;
  if (d.length < 20 || ihl < 20 || ihl > d.length) return;
  const total = u16(d, 2);
  if (total >= ihl && total <= d.length) {
    repairVrrp(d.subarray(ihl, total), 4, formatIpv4(d.subarray(12, 16)), formatIpv4(d.subarray(16, 20)));
  }
  setSum(d, 10, 0);
  setSum(d, 10, internetChecksum(d.subarray(0, ihl)));
}

interface Mutation {
  readonly writes: readonly { readonly at: number; readonly value: number }[];
  readonly cut: number | undefined;
  readonly pad: number;
}

/** `good` padded, overwritten at some positions, then possibly cut. */
function mutate(good: Uint8Array, m: Mutation): Uint8Array {
  const bytes = new Uint8Array(good.length + m.pad);
  bytes.set(good);
  for (const w of m.writes) bytes[w.at % bytes.length] = w.value;
  return m.cut === undefined ? bytes : bytes.slice(0, m.cut % (bytes.length + 1));
}

/**
 * The oracle: does this packet satisfy everything our instance requires? Written from the RFCs
 * against raw bytes, independently of the decoder (checksums included: after a repair they hold,
 * otherwise acceptance must imply they verify).
 */
function oracle(p: Packet, ours: Ours): boolean {
  let msg: Uint8Array;
  let src: string;
  let dst: string;
  if (p.family === 4) {
    const d = p.bytes;
    if (d.length < 20 || (d[0] ?? 0) >>> 4 !== 4) return false;
    const ihl = ((d[0] ?? 0) & 0x0f) * 4;
    const total = u16(d, 2);
    if (ihl < 20 || total < ihl || total > d.length) return false;
    if ((u16(d, 6) & 0x3fff) !== 0) return false; // fragment
    if (internetChecksum(d.subarray(0, ihl)) !== 0) return false;
    if (d[9] !== 112 || d[8] !== 255) return false;
    msg = d.subarray(ihl, total);
    src = formatIpv4(d.subarray(12, 16));
    dst = formatIpv4(d.subarray(16, 20));
  } else {
    if (p.hopLimit !== 255) return false;
    msg = p.bytes;
    src = p.src;
    dst = p.dst;
  }
  const needed = neededLength(msg, p.family);
  if (needed === undefined || msg.length < needed) return false;
  const version = (msg[0] ?? 0) >>> 4;
  if (version !== ours.version || ((msg[0] ?? 0) & 0x0f) !== 1) return false;
  const body = msg.subarray(0, needed);
  // Checksum: v2 over the message; v3 with the pseudo-header (IPv6), or with or without it (IPv4).
  const s = parseIp(src, p.family);
  const dd = parseIp(dst, p.family);
  const pseudoOk = s !== undefined && dd !== undefined &&
    internetChecksum(p.family === 4 ? ipv4PseudoHeader(s, dd, IPPROTO_VRRP, needed) : ipv6PseudoHeader(s, dd, IPPROTO_VRRP, needed), body) === 0;
  const plainOk = internetChecksum(body) === 0;
  if (!(version === 2 ? plainOk : p.family === 6 ? pseudoOk : pseudoOk || plainOk)) return false;
  if (msg[1] !== ours.vrid) return false;
  const count = msg[3] ?? 0;
  const step = p.family === 4 ? 4 : 16;
  if (version === 2) {
    if ((msg[5] ?? 0) * 100 !== ours.advertIntervalCs) return false;
    const authType = msg[4] ?? 0;
    const expected = ours.auth;
    if (expected === undefined) {
      if (authType > 1) return false;
    } else {
      if (authType !== expected.type) return false;
      if (expected.type === 1) {
        const want = new Uint8Array(8);
        want.set(new TextEncoder().encode(expected.password).subarray(0, 8));
        const got = body.subarray(8 + count * 4, 16 + count * 4);
        if (!want.every((b, i) => got[i] === b)) return false;
      }
    }
  } else if ((((msg[4] ?? 0) & 0x0f) << 8 | (msg[5] ?? 0)) === 0) {
    return false;
  }
  if (count !== ours.vips.length) return false;
  for (let i = 0; i < count; i++) {
    const want = parseIp(stripPrefix(ours.vips[i] ?? ''), p.family);
    const got = body.subarray(8 + i * step, 8 + (i + 1) * step);
    if (want === undefined || !want.every((b, j) => got[j] === b)) return false;
  }
  const srcText = p.family === 4 ? src : formatIpv6(parseIp(src, 6) ?? new Uint8Array(16));
  return ours.peers.length === 0 || ours.peers.includes(srcText);
}

/** The daemon's receive path, as Agent.onDatagram/onMessage6 + deliver run it. */
function receive(p: Packet, ours: Ours): { accepted: boolean; result: DecodeResult } {
  const expect = { version: ours.version, ...(ours.auth === undefined ? {} : { auth: ours.auth }) };
  let result: DecodeResult;
  let src: string;
  if (p.family === 4) {
    const r = decodeIpv4Datagram(p.bytes, expect);
    result = r;
    src = r.src ?? '';
  } else {
    result = decodeAdvertisement(p.bytes, { family: 6, src: p.src, dst: p.dst, ttl: p.hopLimit }, expect);
    src = p.src;
  }
  if (!result.ok) return { accepted: false, result };
  const accepted = checkSource(src, ours.peers).ok &&
    checkAgainstInstance(result.advert, { vrid: ours.vrid, version: ours.version, advertIntervalCs: ours.advertIntervalCs, vips: ours.vips }).ok;
  return { accepted, result };
}

function wellFormed(r: DecodeResult): boolean {
  if (r.ok) return r.advert.vrid >= 1 && r.advert.vrid <= 255 && r.advert.maxAdvertIntervalCs >= 1;
  return typeof r.reason === 'string' && typeof r.detail === 'string' && r.detail.length > 0 && r.detail.length < 2000;
}

t.test('random bytes: no throw, never accepted unless the oracle agrees', (t) => {
  fc.assert(
    fc.property(oursArb, fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...V6_POOL), fc.constantFrom(255, 64), (ours, bytes, src, hopLimit) => {
      const p: Packet = { family: ours.family, bytes, src, dst: 'ff02::12', hopLimit };
      const { accepted, result } = receive(p, ours);
      return wellFormed(result) && (!accepted || oracle(p, ours));
    }),
    { numRuns: 3000, seed: SEED },
  );
  t.end();
});

const cases = { accepted: 0, dropped: 0, oracleChecked: 0 };

t.test('mutated valid packets: accepted => oracle; with repaired checksums, accepted <=> oracle', (t) => {
  fc.assert(
    fc.property(
      oursArb.chain((ours) => fc.tuple(fc.constant(ours), advertNear(ours), mutationArb)),
      ([ours, near, m]) => {
        const { advert, src, dst, hopLimit } = near;
        const good = ours.family === 4 ? encodeIpv4Datagram(advert, { src, dst }) : encodeAdvertisement(advert, { src, dst });
        const bytes = mutate(good, m);
        if (m.repair) {
          if (ours.family === 4) repairIpv4(bytes);
          else repairVrrp(bytes, 6, src, dst);
        }
        const p: Packet = { family: ours.family, bytes, src, dst, hopLimit };
        const { accepted, result } = receive(p, ours);
        if (!wellFormed(result)) return false;
        const expected = oracle(p, ours);
        cases[accepted ? 'accepted' : 'dropped']++;
        if (accepted && !expected) return false;
        if (m.repair) {
          cases.oracleChecked++;
          return accepted === expected;
        }
        return true;
      },
    ),
    { numRuns: 6000, seed: SEED + 1 },
  );
  // The generator must reach both outcomes, or the equivalence above proves little.
  t.ok(cases.accepted > 200, `some mutated packets are accepted (${cases.accepted})`);
  t.ok(cases.dropped > 200, `some are dropped (${cases.dropped})`);
  t.end();
});

t.test('the oracle itself accepts a pristine matching packet and rejects a flipped VRID', (t) => {
  const ours: Ours = { family: 4, version: 2, vrid: 51, advertIntervalCs: 100, vips: ['192.0.2.10/24'], auth: { type: 1, password: 'secret' }, peers: ['10.66.0.11'] };
  const advert: Advertisement = { version: 2, family: 4, vrid: 51, priority: 200, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'], auth: { type: 1, password: 'secret' } };
  const d = encodeIpv4Datagram(advert, { src: '10.66.0.11', dst: '224.0.0.18' });
  const p: Packet = { family: 4, bytes: d, src: '', dst: '', hopLimit: 255 };
  t.ok(oracle(p, ours));
  t.ok(receive(p, ours).accepted);
  t.notOk(oracle(p, { ...ours, peers: ['10.66.0.12'] }), 'unknown source');
  t.notOk(receive(p, { ...ours, peers: ['10.66.0.12'] }).accepted);
  const flipped = d.slice();
  flipped[21] = 52;
  repairIpv4(flipped);
  t.notOk(oracle({ ...p, bytes: flipped }, ours));
  t.match(receive({ ...p, bytes: flipped }, ours).result, { ok: true }, 'decodes after the repair');
  t.notOk(receive({ ...p, bytes: flipped }, ours).accepted, 'but checkAgainstInstance refuses the VRID');
  t.end();
});
