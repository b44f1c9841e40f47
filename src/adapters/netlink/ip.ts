/**
 * IP text <-> bytes helpers for the rtnetlink adapter. Pure: no I/O.
 *
 * Addresses are compared in canonical text form (IPv4 dotted quad, IPv6 RFC 5952
 * lower-case with the longest zero run compressed), so `fd00::0001` and `fd00::1`
 * name the same VIP.
 */
import { HaagentError } from '../../core/errors.js';

export const AF_INET = 2;
export const AF_INET6 = 10;

export type IpFamily = 4 | 6;

export interface ParsedCidr {
  readonly family: IpFamily;
  readonly bytes: Buffer;
  /** canonical text form of the address, without the prefix */
  readonly address: string;
  readonly prefixLength: number;
}

function parseIpv4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Buffer | undefined {
  let head = text;
  let tailV4: Buffer | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (!tailV4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const left = toGroups(halves[0] ?? '');
  const right = halves.length === 2 ? toGroups(halves[1] ?? '') : [];
  if (!left || !right) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  if (tailV4) tailV4.copy(out, 12);
  return out;
}

/** Parses an IPv4 or IPv6 address (no prefix). Returns undefined when it is not one. */
export function parseIp(text: string): { family: IpFamily; bytes: Buffer } | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  if (v6) return { family: 6, bytes: v6 };
  return undefined;
}

/** Canonical text of a 4- or 16-byte address. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) {
    throw new HaagentError('HA_ERR_INTERNAL', `not an IP address: ${bytes.length} bytes`);
  }
  const buf = Buffer.from(bytes);
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(i * 2));
  // longest run of >= 2 zero groups, first one wins (RFC 5952 §4.2)
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
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
