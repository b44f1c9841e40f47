/**
 * IPv4/IPv6 text <-> bytes, and address comparison.
 *
 * Parsers return `undefined` for text that is not an address (they never throw); callers that
 * hold already-validated config may use the `*OrThrow` form. No zone ids (`fe80::1%eth0`) and no
 * prefix lengths: strip those before calling (see `stripPrefix`).
 */
import { HaagentError } from '../errors.js';

export type IpFamily = 4 | 6;

const IPV4_OCTET = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Dotted quad -> 4 bytes. Strict: four decimal octets 0..255, no leading zeros. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!IPV4_OCTET.test(part)) return undefined;
    out[i] = Number(part);
  }
  return out;
}

/** 4 bytes -> dotted quad. */
export function formatIpv4(bytes: Uint8Array): string {
  return `${bytes[0] ?? 0}.${bytes[1] ?? 0}.${bytes[2] ?? 0}.${bytes[3] ?? 0}`;
}

/**
 * IPv6 text -> 16 bytes. Accepts `::` compression (once), upper or lower case hex, and a
 * trailing embedded dotted quad (`::ffff:192.0.2.1`).
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : (halves[0] ?? '').split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] ?? '').split(':')) : [];
  const words: number[] = [];
  const tailWords: number[] = [];
  const groups = [...head, ...tail];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] ?? '';
    const target = i < head.length ? words : tailWords;
    const last = i === groups.length - 1 && (halves.length === 1 || i >= head.length);
    if (last && group.includes('.')) {
      const v4 = parseIpv4(group);
      if (v4 === undefined) return undefined;
      target.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!HEX_GROUP.test(group)) return undefined;
      target.push(parseInt(group, 16));
    }
  }
  const present = words.length + tailWords.length;
  if (halves.length === 2) {
    // `::` stands for at least one zero group.
    if (present > 7) return undefined;
    while (words.length + tailWords.length < 8) words.push(0);
  } else if (present !== 8) {
    return undefined;
  }
  const all = [...words, ...tailWords];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = all[i] ?? 0;
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  }
  return out;
}

/**
 * 16 bytes -> canonical text (RFC 5952): lower case, no leading zeros, the longest run of two or
 * more zero groups (the first if tied) compressed to `::`, IPv4-mapped addresses as
 * `::ffff:a.b.c.d`.
 */
export function formatIpv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes.subarray(12, 16))}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestLen < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** Family of an address text, or undefined if it is neither. */
export function ipFamily(text: string): IpFamily | undefined {
  if (parseIpv4(text) !== undefined) return 4;
  if (parseIpv6(text) !== undefined) return 6;
  return undefined;
}

/** `addr:port`, or `[addr]:port` for IPv6: an endpoint as logs, comments and URLs write it. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Parse as the given family (or either when omitted). */
export function parseIp(text: string, family?: IpFamily): Uint8Array | undefined {
  if (family === 4) return parseIpv4(text);
  if (family === 6) return parseIpv6(text);
  return parseIpv4(text) ?? parseIpv6(text);
}

/** Bytes (4 or 16) -> canonical text. */
export function formatIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

/** Like `parseIp`, for input already validated: throws HaagentError(code) if it is not. */
export function parseIpOrThrow(
  text: string,
  family: IpFamily,
  what: string,
  code: 'HA_ERR_ENCODE' | 'HA_ERR_INVALID_ARGUMENT' = 'HA_ERR_INVALID_ARGUMENT',
): Uint8Array {
  const bytes = parseIp(text, family);
  if (bytes === undefined) {
    throw new HaagentError(code, `${what} ${JSON.stringify(text)} is not an IPv${family} address`);
  }
  return bytes;
}

/** Canonical text of an address text, or undefined if it is not one. */
export function normalizeIp(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes === undefined ? undefined : formatIp(bytes);
}

/** `10.0.0.1/24` -> `10.0.0.1`; text without a prefix is returned unchanged. */
export function stripPrefix(cidr: string): string {
  const slash = cidr.indexOf('/');
  return slash === -1 ? cidr : cidr.slice(0, slash);
}

/**
 * Compare two addresses of the same length as unsigned big-endian numbers: -1, 0 or 1.
 * This is the comparison of the equal-priority tie-break (RFC 9568 §6.4.3: the higher primary
 * address wins). Addresses of different lengths compare by length (shorter first).
 */
export function compareAddressBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
