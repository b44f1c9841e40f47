/**
 * Config fingerprint: a short digest of the settings that must match on both nodes of one VRRP
 * instance ("configs that differ between the two nodes silently cause two masters" — we detect
 * and report instead). Carried in every hello; compared by presence.ts.
 *
 * Covered, exactly: vrid, VRRP version, the VIP set, the advert interval, and the auth type with
 * a SHA-256 of the password (never the password itself). Not covered on purpose: priority, role,
 * preempt, interfaces, checks, hooks — they legitimately differ between the nodes; and HMAC
 * authentication (counted as none here): its mode and keys differ between the nodes during a
 * roll-out or a key rotation, and a real key mismatch shows as `auth-*` drops on the wire.
 * The VIP list is compared as a set of normalized CIDRs: order and address spelling do not
 * matter, a prefix length does.
 */
import { nodeCrypto } from '../lazy-crypto.js';
import type { AuthConfig, InstanceConfig } from '../config/types.js';

function sha256Hex(text: string): string {
  return nodeCrypto().createHash('sha256').update(text, 'utf8').digest('hex');
}

export type FingerprintInput = Pick<InstanceConfig, 'vrid' | 'version' | 'vips' | 'advertIntervalCs'> & {
  readonly auth: AuthConfig;
};

/** Hex digits kept of the SHA-256 (64 bits: collisions are not a concern between two nodes). */
export const FINGERPRINT_HEX_LENGTH = 16;
/** Bumped when the canonical form changes, so old and new agents report a mismatch, not a lie. */
const FINGERPRINT_SCHEMA = 1;

/** The canonical JSON the fingerprint is taken over (exported for tests and debugging). */
export function fingerprintCanonical(inst: FingerprintInput): string {
  const vips = [...new Set(inst.vips.map((v) => v.cidr))].sort();
  const auth = inst.auth.type === 'pass' ? { type: 'pass', passwordSha256: sha256Hex(inst.auth.password) } : { type: 'none' };
  return JSON.stringify({
    schema: FINGERPRINT_SCHEMA,
    vrid: inst.vrid,
    version: inst.version,
    vips,
    advertIntervalCs: inst.advertIntervalCs,
    auth,
  });
}

/** First FINGERPRINT_HEX_LENGTH lower-case hex digits of SHA-256(canonical JSON). */
export function configFingerprint(inst: FingerprintInput): string {
  return sha256Hex(fingerprintCanonical(inst)).slice(0, FINGERPRINT_HEX_LENGTH);
}
