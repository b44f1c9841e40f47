/**
 * VRRP advertisement encoder (RFC 3768 §5 v2, RFC 9568 §5 v3).
 *
 * Produces the VRRP message that follows the IP header, checksum filled in:
 * - v2: Internet checksum over the message only, the 8 auth bytes included.
 * - v3/IPv4: including the IPv4 pseudo-header (keepalived's default), or without it when
 *   `v3ChecksumAsV2` is set (keepalived's `v3_checksum_as_v2`, for peers that want that form).
 * - v3/IPv6: including the IPv6 pseudo-header.
 * With `hmac` in the context, the 28-byte HMAC trailer of keepalived 2.4 (hmac-trailer.ts)
 * follows the message. The IPv4 and v2 checksums still cover the message only; the IPv6 one
 * covers the trailer too (what keepalived's kernel computes on IPv6, and what receivers check).
 * Misuse (values that cannot be put on the wire) throws HaagentError HA_ERR_ENCODE; the encoder
 * does not check that the addresses are sensible VIPs or that `src` is link-local.
 */
import { HaagentError } from '../errors.js';
import { authData } from './auth.js';
import { IPPROTO_VRRP, internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader } from './checksum.js';
import { parseIpOrThrow, type IpFamily } from './ip.js';
import { HMAC_KEY_MAX, HMAC_KEY_MIN, HMAC_TRAILER_LENGTH, SEQUENCE_MOD, writeTrailer } from './hmac-trailer.js';
import {
  V2_INTERVAL_S_MAX,
  V2_INTERVAL_S_MIN,
  V3_INTERVAL_CS_MAX,
  V3_INTERVAL_CS_MIN,
  VRRP_HEADER_LENGTH,
  VRRP_TTL,
  VRRP_TYPE_ADVERTISEMENT,
  addressLength,
  maxAddresses,
  messageLength,
  type Advertisement,
} from './vrrp-types.js';

export interface EncodeContext {
  /** IP source the message will be sent from (feeds the pseudo-header). */
  readonly src: string;
  /** IP destination (224.0.0.18 / ff02::12 or a unicast peer). */
  readonly dst: string;
  /** v3/IPv4 only: leave the pseudo-header out of the checksum. Default false. */
  readonly v3ChecksumAsV2?: boolean;
  /** Sign: append an HMAC trailer made with this key and sequence. */
  readonly hmac?: HmacSigning;
}

/** What the encoder signs with (the sequence comes from nextSendSequence, hmac-replay.ts). */
export interface HmacSigning {
  /** 1..255, sent in the trailer. */
  readonly keyId: number;
  /** 32..64 bytes. */
  readonly key: Uint8Array;
  /** 0 .. 2^64-1. */
  readonly sequence: bigint;
}

function checkSigning(h: HmacSigning): void {
  checkInteger(h.keyId, 1, 255, 'HMAC key id');
  if (h.key.length < HMAC_KEY_MIN || h.key.length > HMAC_KEY_MAX) fail(`HMAC key is ${h.key.length} bytes; must be ${HMAC_KEY_MIN}..${HMAC_KEY_MAX}`);
  if (h.sequence < 0n || h.sequence >= SEQUENCE_MOD) fail('HMAC sequence must be 0 .. 2^64-1');
}

function fail(message: string): never {
  throw new HaagentError('HA_ERR_ENCODE', message);
}

function checkInteger(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`${what} is ${value}; must be an integer ${min}..${max}`);
  }
}

/** The wire value of byte 4-5 (v2: auth type and seconds; v3: 12-bit centiseconds). */
function intervalField(advert: Advertisement): number {
  const cs = advert.maxAdvertIntervalCs;
  if (advert.version === 2) {
    if (!Number.isInteger(cs) || cs % 100 !== 0) {
      fail(`v2 advert interval is ${cs} cs; v2 carries whole seconds (a multiple of 100 cs)`);
    }
    checkInteger(cs / 100, V2_INTERVAL_S_MIN, V2_INTERVAL_S_MAX, 'v2 advert interval (s)');
    return ((advert.auth?.type ?? 0) << 8) | (cs / 100);
  }
  checkInteger(cs, V3_INTERVAL_CS_MIN, V3_INTERVAL_CS_MAX, 'v3 max advert interval (cs)');
  return cs;
}

/** Encode `advert` as a VRRP message with its checksum (and trailer). Throws HA_ERR_ENCODE on misuse. */
export function encodeAdvertisement(advert: Advertisement, ctx: EncodeContext): Uint8Array {
  const { version, family } = advert;
  if (version !== 2 && version !== 3) fail(`VRRP version ${String(version)}; must be 2 or 3`);
  if (family !== 4 && family !== 6) fail(`address family ${String(family)}; must be 4 or 6`);
  if (version === 2 && family === 6) fail('VRRPv2 is IPv4 only (RFC 3768); use version 3 for IPv6');
  if (version === 3 && advert.auth !== undefined) fail('v3 has no authentication (RFC 9568 §9)');
  if (advert.auth !== undefined && advert.auth.type !== 0 && advert.auth.type !== 1) {
    fail(`v2 auth type ${String((advert.auth as { type: unknown }).type)}; must be 0 or 1`);
  }
  checkInteger(advert.vrid, 1, 255, 'VRID');
  checkInteger(advert.priority, 0, 255, 'priority');
  const interval = intervalField(advert);
  const max = maxAddresses(version, family);
  if (advert.addresses.length > max) {
    fail(`${advert.addresses.length} addresses; at most ${max} fit in one v${version}/IPv${family} advert`);
  }

  const src = parseIpOrThrow(ctx.src, family, 'source address', 'HA_ERR_ENCODE');
  const dst = parseIpOrThrow(ctx.dst, family, 'destination address', 'HA_ERR_ENCODE');
  if (ctx.hmac !== undefined) checkSigning(ctx.hmac);
  const count = advert.addresses.length;
  const length = messageLength(version, family, count);
  const out = new Uint8Array(length + (ctx.hmac === undefined ? 0 : HMAC_TRAILER_LENGTH));
  const msg = out.subarray(0, length);
  const view = new DataView(msg.buffer);
  msg[0] = (version << 4) | VRRP_TYPE_ADVERTISEMENT;
  msg[1] = advert.vrid;
  msg[2] = advert.priority;
  msg[3] = count;
  view.setUint16(4, interval);
  // bytes 6-7: checksum, zero while summing
  const step = addressLength(family);
  advert.addresses.forEach((text, i) => {
    msg.set(parseIpOrThrow(text, family, `address ${i}`, 'HA_ERR_ENCODE'), VRRP_HEADER_LENGTH + i * step);
  });
  if (version === 2) msg.set(authData(advert.auth), VRRP_HEADER_LENGTH + count * step);

  if (ctx.hmac !== undefined) {
    // The tag reads the checksum as zero, so it is made first; IPv6 then sums the trailer too.
    writeTrailer(out.subarray(length), ctx.hmac, { family, version, vrid: advert.vrid, src }, msg);
  }
  const summed = family === 6 ? out : msg;
  view.setUint16(6, vrrpChecksum(summed, version, family, src, dst, ctx.v3ChecksumAsV2 === true));
  return out;
}

/** The checksum an encoder puts in bytes 6-7 (those bytes must be zero in `msg`). */
function vrrpChecksum(
  msg: Uint8Array,
  version: 2 | 3,
  family: IpFamily,
  src: Uint8Array,
  dst: Uint8Array,
  asV2: boolean,
): number {
  if (version === 2 || (family === 4 && asV2)) return internetChecksum(msg);
  const pseudo =
    family === 4
      ? ipv4PseudoHeader(src, dst, IPPROTO_VRRP, msg.length)
      : ipv6PseudoHeader(src, dst, IPPROTO_VRRP, msg.length);
  return internetChecksum(pseudo, msg);
}

export interface Ipv4DatagramOptions extends EncodeContext {
  /** Identification field. Default 0. */
  readonly id?: number;
  /** Type of service / DSCP byte. Default 0xc0 (CS6, network control), as keepalived sends. */
  readonly tos?: number;
  /** Default 255; only a unicast setup would send anything else. */
  readonly ttl?: number;
}

/**
 * A whole IPv4 datagram (20-byte header, no options, header checksum filled in) around
 * `encodeAdvertisement`, for sockets that send with IP_HDRINCL as keepalived does.
 * Flags and fragment offset are zero (keepalived sets no DF on adverts).
 */
export function encodeIpv4Datagram(advert: Advertisement, opts: Ipv4DatagramOptions): Uint8Array {
  if (advert.family !== 4) fail('encodeIpv4Datagram needs an IPv4 advertisement');
  const msg = encodeAdvertisement(advert, opts);
  const id = opts.id ?? 0;
  const tos = opts.tos ?? 0xc0;
  const ttl = opts.ttl ?? VRRP_TTL;
  checkInteger(id, 0, 0xffff, 'IPv4 identification');
  checkInteger(tos, 0, 0xff, 'IPv4 TOS');
  checkInteger(ttl, 1, 255, 'IPv4 TTL');
  const out = new Uint8Array(20 + msg.length);
  const view = new DataView(out.buffer);
  out[0] = 0x45;
  out[1] = tos;
  view.setUint16(2, out.length);
  view.setUint16(4, id);
  out[8] = ttl;
  out[9] = IPPROTO_VRRP;
  out.set(parseIpOrThrow(opts.src, 4, 'source address', 'HA_ERR_ENCODE'), 12);
  out.set(parseIpOrThrow(opts.dst, 4, 'destination address', 'HA_ERR_ENCODE'), 16);
  view.setUint16(10, internetChecksum(out.subarray(0, 20)));
  out.set(msg, 20);
  return out;
}
