/**
 * CIDR helpers for the rtnetlink adapter. Pure: no I/O. Address text parsing and formatting
 * is the codec's (src/core/packet/ip.ts): addresses are compared in canonical text form (IPv4
 * dotted quad, IPv6 RFC 5952 lower case), so `fd00::0001` and `fd00::1` name the same VIP.
 */
import { HaagentError } from '../../core/errors.js';
import { formatIp, parseIp as parseIpBytes, type IpFamily } from '../../core/packet/ip.js';

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
 * Parses `addr/len` (or a bare address: /32 for IPv4, /128 for IPv6).
 * Throws HA_ERR_INVALID_ARGUMENT on anything else.
 */
export function parseCidr(cidr: string): ParsedCidr {
  const slash = cidr.indexOf('/');
  const addrText = slash < 0 ? cidr : cidr.slice(0, slash);
  const ip = parseIp(addrText.trim());
  if (!ip) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `not an IP address: ${JSON.stringify(cidr)}`);
  const max = ip.family === 4 ? 32 : 128;
  let prefixLength = max;
  if (slash >= 0) {
    const lenText = cidr.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
      throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `bad prefix length in ${JSON.stringify(cidr)} (0..${max})`);
    }
    prefixLength = Number(lenText);
  }
  return { family: ip.family, bytes: ip.bytes, address: formatIp(ip.bytes), prefixLength };
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
