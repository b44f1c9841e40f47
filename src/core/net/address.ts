/**
 * Addresses as the config holds them: parsed once, at config time, into frozen values with
 * their canonical text, so nothing later splits a `/prefix` off or parses an address again.
 * The byte-level codec is ../packet/ip.ts (one parser: parseIp); this module builds on it.
 *
 * - parseAddress / parseVip never throw: they return the value or a reason naming the text.
 * - vipOf is for text already known good (tests, built-in defaults): it throws
 *   HA_ERR_INVALID_ARGUMENT instead.
 * - compareAddresses is the one ordering of addresses (the RFC 9568 §6.4.3 tie-break).
 */
import { HaagentError } from '../errors.js';
import { compareAddressBytes, formatIp, parseIp, type IpFamily } from '../packet/ip.js';

/** A virtual IP as configured: `address/prefixLength`, both canonical. */
export interface Vip {
  /** Canonical `address/prefixLength` (IPv6 lower-case and compressed as the codec formats it). */
  readonly cidr: string;
  /** Canonical address text, without the prefix: what adverts carry. */
  readonly address: string;
  readonly prefixLength: number;
  readonly family: IpFamily;
}

export type AddressResult = { ok: true; address: string; family: IpFamily } | { ok: false; reason: string };
export type VipResult = { ok: true; vip: Vip } | { ok: false; reason: string };

/** An IPv4 or IPv6 address (surrounding blanks ignored) -> its canonical text and family. */
export function parseAddress(text: string): AddressResult {
  const bytes = parseIp(text.trim());
  if (bytes === undefined) return { ok: false, reason: `"${text}" is not an IPv4 or IPv6 address` };
  return { ok: true, address: formatIp(bytes), family: bytes.length === 4 ? 4 : 6 };
}

/** `address/prefix` -> a frozen Vip; the prefix must fit the family (32 or 128 bits). */
export function parseVip(text: string): VipResult {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (m === null) return { ok: false, reason: `"${text}" is not in CIDR form (address/prefix, e.g. 192.0.2.10/24)` };
  const addr = parseAddress(m[1] ?? '');
  if (!addr.ok) return addr;
  const prefixLength = Number(m[2]);
  const max = addr.family === 4 ? 32 : 128;
  if (prefixLength > max) return { ok: false, reason: `prefix /${prefixLength} is longer than ${max} bits in "${text}"` };
  return { ok: true, vip: Object.freeze({ cidr: `${addr.address}/${prefixLength}`, address: addr.address, prefixLength, family: addr.family }) };
}

/** parseVip for text known to be good; throws HA_ERR_INVALID_ARGUMENT with the reason otherwise. */
export function vipOf(text: string): Vip {
  const r = parseVip(text);
  if (!r.ok) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', r.reason);
  return r.vip;
}

/** The bytes of an address text (a `%zone` suffix ignored), or null when it is not one. */
export function parseAddressBytes(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  return parseIp(zone === -1 ? text : text.slice(0, zone)) ?? null;
}

/**
 * Total order on address text: unsigned byte-wise comparison of the parsed addresses, the
 * equal-priority tie-break of RFC 9568 §6.4.3 ("the primary IPvX Address of the sender is
 * greater than the local primary IPvX Address"). Returns -1, 0 or 1. Not expected in practice
 * but still ordered: unparsable text sorts below any address (two unparsable texts compare as
 * strings), and IPv4 sorts below IPv6.
 */
export function compareAddresses(a: string, b: string): number {
  const x = parseAddressBytes(a);
  const y = parseAddressBytes(b);
  if (x === null || y === null) {
    if (x !== null) return 1;
    if (y !== null) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return compareAddressBytes(x, y);
}

const addressLists = new WeakMap<readonly Vip[], readonly string[]>();

/**
 * The canonical addresses of a VIP list, in order (what adverts carry). Computed once per list
 * (lists are frozen config values), so the per-advert path allocates nothing for it.
 */
export function vipAddresses(vips: readonly Vip[]): readonly string[] {
  let out = addressLists.get(vips);
  if (out === undefined) {
    out = Object.freeze(vips.map((v) => v.address));
    addressLists.set(vips, out);
  }
  return out;
}

/** The CIDR texts of a VIP list, in order (logs, status, the hooks' HAAGENT_VIPS). */
export function vipCidrs(vips: readonly Vip[]): string[] {
  return vips.map((v) => v.cidr);
}
