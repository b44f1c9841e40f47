/**
 * CIDR helpers for the rtnetlink adapter. Pure: no I/O. Address text parsing and formatting
 * is the codec's (src/core/packet/ip.ts): addresses are compared in canonical text form (IPv4
 * dotted quad, IPv6 RFC 5952 lower case), so `fd00::0001` and `fd00::1` name the same VIP.
 */
import { HaagentError } from '../../core/errors.js';
import { formatIp, parseIp as parseIpBytes, type IpFamily } from '../../core/packet/ip.js';
import { parseAddress, parseVip } from '../../core/net/address.js';

export { formatIp, type IpFamily };

export const AF_INET = 2;
export const AF_INET6 = 10;

export interface ParsedCidr {
  readonly family: IpFamily;
  readonly bytes: Buffer;
  /** canonical text form of the address, without the prefix */
  readonly address: string;
  readonly prefixLength: number;
}

/** Parses address text into family and bytes; undefined when it is not an address. */
export function parseIp(text: string): { family: IpFamily; bytes: Buffer } | undefined {
  const bytes = parseIpBytes(text);
  if (bytes === undefined) return undefined;
  return { family: bytes.length === 4 ? 4 : 6, bytes: Buffer.from(bytes) };
}

/**
 * Parses `addr/len` (or a bare address: /32 for IPv4, /128 for IPv6) with the core's parser
 * (src/core/net/address.ts). Throws HA_ERR_INVALID_ARGUMENT on anything else.
 */
export function parseCidr(cidr: string): ParsedCidr {
  const bare = cidr.includes('/') ? undefined : parseAddress(cidr);
  if (bare !== undefined && !bare.ok) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `not an IP address: ${JSON.stringify(cidr)}`);
  const r = bare !== undefined && bare.ok ? parseVip(`${bare.address}/${bare.family === 4 ? 32 : 128}`) : parseVip(cidr);
  if (!r.ok) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `bad VIP ${JSON.stringify(cidr)}: ${r.reason}`);
  const bytes = parseIpBytes(r.vip.address);
  if (bytes === undefined) throw new HaagentError('HA_ERR_INTERNAL', `canonical address ${r.vip.address} does not parse`);
  return { family: r.vip.family, bytes: Buffer.from(bytes), address: r.vip.address, prefixLength: r.vip.prefixLength };
}

/** IPv4 directed broadcast of `bytes/prefixLength`, or undefined for /31 and /32. */
export function ipv4Broadcast(bytes: Uint8Array, prefixLength: number): Buffer | undefined {
  if (bytes.length !== 4 || prefixLength >= 31) return undefined;
  const n = Buffer.from(bytes).readUInt32BE(0);
  const hostMask = prefixLength === 0 ? 0xffffffff : (0xffffffff >>> prefixLength);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((n | hostMask) >>> 0, 0);
  return out;
}

/** True when a and b (same length) agree on the first prefixLength bits. */
export function samePrefix(a: Uint8Array, b: Uint8Array, prefixLength: number): boolean {
  if (a.length !== b.length) return false;
  let bits = prefixLength;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((a[i] ?? 0) & mask) !== ((b[i] ?? 0) & mask)) return false;
  }
  return true;
}

export function isIpv6LinkLocal(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes[0] === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80;
}
