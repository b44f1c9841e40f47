/**
 * Validation of addresses as operators write them. Returns canonical text (IPv6 lower-case,
 * compressed as the codec formats it) or a reason naming what is wrong.
 */
import { formatIp, parseIp } from '../packet/ip.js';
import type { AddressFamily } from '../fsm/types.js';

export type AddressResult = { ok: true; address: string; family: AddressFamily } | { ok: false; reason: string };
export type CidrResult =
  | { ok: true; cidr: string; address: string; prefixLength: number; family: AddressFamily }
  | { ok: false; reason: string };

export function parseIpAddress(text: string): AddressResult {
  const bytes = parseIp(text.trim());
  if (bytes === undefined) return { ok: false, reason: `"${text}" is not an IPv4 or IPv6 address` };
  return { ok: true, address: formatIp(bytes), family: bytes.length === 4 ? 4 : 6 };
}

export function parseCidr(text: string): CidrResult {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (m === null) return { ok: false, reason: `"${text}" is not in CIDR form (address/prefix, e.g. 192.0.2.10/24)` };
  const addr = parseIpAddress(m[1] ?? '');
  if (!addr.ok) return addr;
  const prefixLength = Number(m[2]);
  const max = addr.family === 4 ? 32 : 128;
  if (prefixLength > max) return { ok: false, reason: `prefix /${prefixLength} is longer than ${max} bits in "${text}"` };
  return { ok: true, cidr: `${addr.address}/${prefixLength}`, address: addr.address, prefixLength, family: addr.family };
}
