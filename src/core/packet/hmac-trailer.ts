/**
 * The HMAC authentication trailer of keepalived 2.4.2 and later (`auth_hmac`; the IETF draft
 * draft-cassen-vrrp-auth-hmac): 28 bytes appended to the VRRP message, for v2 and v3, IPv4 and
 * IPv6, multicast and unicast alike.
 *
 *   byte 0      extension type: 1 = HMAC-SHA256 truncated to 128 bits
 *   byte 1      key id (1..255): which configured key signed it
 *   bytes 2-3   reserved, zero
 *   bytes 4-11  64-bit sequence, network order: UTC seconds (32 bits), a 1/65536 s fraction
 *               (16 bits), a counter for several adverts within one fraction (16 bits)
 *   bytes 12-27 the first 16 bytes of HMAC-SHA256(key, input)
 *
 * The HMAC input is a 20-byte pseudo-header (family 4 or 6, VRRP version, VRID, a zero byte,
 * the IP source address padded with zeros to 16 bytes), then the VRRP message with its checksum
 * read as zero, then the first 12 trailer bytes, then 16 zero bytes standing for the tag. The
 * IP header and the destination stay out, so one signature serves every unicast peer; the
 * checksum stays out because on IPv6 it covers the trailer too.
 *
 * Pure: no clock (sequences are built from a `nowMs` the caller passes, see hmac-replay.ts).
 * `hmacTag` expects keys within HMAC_KEY_MIN..HMAC_KEY_MAX and a 4- or 16-byte source; callers
 * check that (the encoder throws, the verifier drops).
 */
import { nodeCrypto } from '../lazy-crypto.js';
import type { IpFamily } from './ip.js';
import type { VrrpVersion } from './vrrp-types.js';

export const HMAC_TRAILER_LENGTH = 28;
/** The only extension type defined: HMAC-SHA256 truncated to 128 bits. */
export const HMAC_EXT_SHA256 = 1;
export const HMAC_TAG_LENGTH = 16;
/** Where the tag starts in the trailer (the signed prefix ends there). */
export const HMAC_TAG_OFFSET = 12;
/** Key length bounds, bytes (keepalived's: 32 keeps a 128-bit margin against a quantum search). */
export const HMAC_KEY_MIN = 32;
export const HMAC_KEY_MAX = 64;
const PSEUDO_HEADER_LENGTH = 20;
const CHECKSUM_OFFSET = 6;
const ZERO_TAG = new Uint8Array(HMAC_TAG_LENGTH);
const ZERO_CHECKSUM = new Uint8Array(2);

/** The 64-bit sequence is an unsigned integer below 2^64. */
export const SEQUENCE_MOD = 1n << 64n;

/** What the signature binds besides the message: family, version, VRID, IP source. */
export interface HmacBinding {
  readonly family: IpFamily;
  readonly version: VrrpVersion;
  readonly vrid: number;
  /** The IP source address, 4 (IPv4) or 16 (IPv6) bytes. */
  readonly src: Uint8Array;
}

/** The trailer fields, as on the wire. */
export interface HmacTrailerFields {
  readonly extType: number;
  readonly keyId: number;
  readonly reserved: number;
  readonly sequence: bigint;
  readonly tag: Uint8Array;
}

function pseudoHeader(b: HmacBinding): Uint8Array {
  const out = new Uint8Array(PSEUDO_HEADER_LENGTH);
  out[0] = b.family;
  out[1] = b.version;
  out[2] = b.vrid & 0xff;
  out.set(b.src.subarray(0, 16), 4);
  return out;
}

/**
 * The 16-byte tag over `message` (the VRRP message, no trailer; its checksum bytes are read as
 * zero) and `prefix` (the first 12 trailer bytes).
 */
export function hmacTag(key: Uint8Array, binding: HmacBinding, message: Uint8Array, prefix: Uint8Array): Uint8Array {
  const h = nodeCrypto().createHmac('sha256', key);
  h.update(pseudoHeader(binding));
  h.update(message.subarray(0, CHECKSUM_OFFSET));
  h.update(ZERO_CHECKSUM);
  h.update(message.subarray(CHECKSUM_OFFSET + 2));
  h.update(prefix.subarray(0, HMAC_TAG_OFFSET));
  h.update(ZERO_TAG);
  return new Uint8Array(h.digest().subarray(0, HMAC_TAG_LENGTH));
}

/** Writes a signed trailer for `message` into `out` (28 bytes). */
export function writeTrailer(
  out: Uint8Array,
  fields: { readonly keyId: number; readonly sequence: bigint; readonly key: Uint8Array },
  binding: HmacBinding,
  message: Uint8Array,
): void {
  out.fill(0, 0, HMAC_TRAILER_LENGTH);
  out[0] = HMAC_EXT_SHA256;
  out[1] = fields.keyId;
  new DataView(out.buffer, out.byteOffset, HMAC_TRAILER_LENGTH).setBigUint64(4, fields.sequence % SEQUENCE_MOD);
  out.set(hmacTag(fields.key, binding, message, out), HMAC_TAG_OFFSET);
}

/** The fields of a 28-byte trailer (no check of their values: see hmac-auth.ts). */
export function readTrailer(trailer: Uint8Array): HmacTrailerFields {
  const view = new DataView(trailer.buffer, trailer.byteOffset, HMAC_TRAILER_LENGTH);
  return {
    extType: trailer[0] ?? 0,
    keyId: trailer[1] ?? 0,
    reserved: view.getUint16(2),
    sequence: view.getBigUint64(4),
    tag: trailer.subarray(HMAC_TAG_OFFSET, HMAC_TAG_OFFSET + HMAC_TAG_LENGTH),
  };
}

/** The UTC seconds field of a sequence. */
export function sequenceSeconds(sequence: bigint): number {
  return Number(sequence >> 32n);
}

/** `sec.fraction/counter` of a sequence, for log details. */
export function formatSequence(sequence: bigint): string {
  const sub = Number((sequence >> 16n) & 0xffffn);
  return `${sequenceSeconds(sequence)}+${sub}/65536s#${Number(sequence & 0xffffn)}`;
}
