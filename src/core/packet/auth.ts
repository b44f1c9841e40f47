/**
 * VRRPv2 authentication data: the 8 bytes at the end of a v2 message (RFC 3768 §5.3.10).
 * Type 0: zeros. Type 1 (simple text password, keepalived `auth_type PASS`): the password's
 * UTF-8 bytes, NUL-padded or truncated to 8 bytes, as keepalived does.
 */
import type { VrrpAuth } from './vrrp-types.js';

export const AUTH_DATA_LENGTH = 8;

/** The 8 authentication-data bytes for `auth` (type 0 or absent: zeros). */
export function authData(auth: VrrpAuth | undefined): Uint8Array {
  const out = new Uint8Array(AUTH_DATA_LENGTH);
  if (auth?.type === 1) out.set(new TextEncoder().encode(auth.password).subarray(0, AUTH_DATA_LENGTH));
  return out;
}

/**
 * The password carried in authentication data: the bytes before the first NUL, decoded as UTF-8
 * (invalid sequences become U+FFFD; compare passwords with `sameAuthData`, not as text).
 */
export function passwordFromAuthData(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return new TextDecoder().decode(nul === -1 ? data : data.subarray(0, nul));
}

/** Byte-wise comparison of two 8-byte authentication data fields. */
export function sameAuthData(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
