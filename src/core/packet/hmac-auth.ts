/**
 * Receiving side of HMAC authentication: given what the decoder found (the message and its
 * trailer, or no trailer), the instance's policy and the sender's last accepted sequence, is
 * the advert authentic and fresh? Never throws; every rejection is a drop reason with a detail
 * that names no secret.
 *
 * Order, as keepalived 2.4.3: no trailer (dropped only when enforcing); malformed trailer
 * (unknown extension type, reserved bits set); stale (time mode, before any HMAC is computed,
 * so a flood of old captures costs no digest); unknown key id; HMAC; replay (the sender's
 * sequence must grow). The caller records `sequence` as the sender's new mark only on success.
 *
 * Modes: enforce (a trailer is required), permissive and receive-only (an advert without one is
 * accepted; a trailer that is present must still verify). Whether we sign is the sender's
 * business (receive-only does not).
 * Deliberately not here: the mark table (ReplayMarks, hmac-replay.ts) and the clock.
 */
import { nodeCrypto } from '../lazy-crypto.js';
import { HMAC_EXT_SHA256, formatSequence, hmacTag, readTrailer, type HmacBinding } from './hmac-trailer.js';
import { markStillValid, sequenceAfter, skewSeconds, type AntiReplay } from './hmac-replay.js';
import type { HmacDropReason } from './vrrp-types.js';

export type HmacMode = 'enforce' | 'permissive' | 'receive-only';

/** What an instance verifies with. */
export interface HmacPolicy {
  /** Key id -> key bytes (32..64). */
  readonly keys: ReadonlyMap<number, Uint8Array>;
  readonly mode: HmacMode;
  readonly antiReplay: AntiReplay;
  /** Freshness window in time mode, seconds. */
  readonly timeWindowSec: number;
}

/** The signed part of a received advert (see DecodeResult.signed). */
export interface SignedPart {
  /** The VRRP message without the trailer, as received. */
  readonly message: Uint8Array;
  /** The 28 trailer bytes. */
  readonly trailer: Uint8Array;
}

export type AuthResult =
  | { readonly ok: true; readonly signed: false }
  | {
    readonly ok: true;
    readonly signed: true;
    readonly keyId: number;
    readonly sequence: bigint;
    /** Our clock minus the advert's seconds (time mode; 0 in monotonic mode). */
    readonly skewSec: number;
  }
  | { readonly ok: false; readonly reason: HmacDropReason; readonly detail: string };

function drop(reason: HmacDropReason, detail: string): AuthResult {
  return { ok: false, reason, detail };
}

/**
 * Authenticates one advert. `signed` is undefined when it carried no trailer; `binding` names
 * its family, version, VRID and IP source; `lastSequence` is the sender's mark, if any.
 */
export function authenticateAdvert(
  signed: SignedPart | undefined,
  binding: HmacBinding,
  policy: HmacPolicy,
  lastSequence: bigint | undefined,
  nowMs: number,
): AuthResult {
  if (signed === undefined) {
    if (policy.mode === 'enforce') return drop('auth-missing', 'advert carries no HMAC trailer; this instance enforces HMAC authentication');
    return { ok: true, signed: false };
  }
  const f = readTrailer(signed.trailer);
  if (f.extType !== HMAC_EXT_SHA256) return drop('auth-malformed', `HMAC trailer extension type is ${f.extType}; should be ${HMAC_EXT_SHA256} (HMAC-SHA256)`);
  if (f.reserved !== 0) return drop('auth-malformed', `HMAC trailer reserved field is 0x${f.reserved.toString(16)}; should be 0`);
  const skewSec = policy.antiReplay === 'time' ? skewSeconds(f.sequence, nowMs) : 0;
  if (Math.abs(skewSec) > policy.timeWindowSec && policy.antiReplay === 'time') {
    return drop('auth-stale', `HMAC trailer time is ${skewSec > 0 ? `${skewSec} s behind` : `${-skewSec} s ahead of`} our clock; the window is ${policy.timeWindowSec} s (check NTP, or a replayed advert)`);
  }
  const key = policy.keys.get(f.keyId);
  if (key === undefined) {
    return drop('auth-unknown-key', `HMAC key id ${f.keyId} is not configured here (configured: ${[...policy.keys.keys()].join(', ')})`);
  }
  if (binding.src.length !== (binding.family === 4 ? 4 : 16)) return drop('auth-bad-hmac', 'source address does not match the address family');
  const expected = hmacTag(key, binding, signed.message, signed.trailer);
  if (f.tag.length !== expected.length || !nodeCrypto().timingSafeEqual(f.tag, expected)) {
    return drop('auth-bad-hmac', `HMAC does not verify with key id ${f.keyId} (different key on the sender, or a forged or altered advert)`);
  }
  const mark = lastSequence !== undefined && markStillValid(lastSequence, nowMs, policy.antiReplay, policy.timeWindowSec) ? lastSequence : undefined;
  if (mark !== undefined && !sequenceAfter(f.sequence, mark)) {
    return drop('auth-replay', `HMAC sequence ${formatSequence(f.sequence)} is not after the last accepted ${formatSequence(mark)} from this sender (replayed advert)`);
  }
  return { ok: true, signed: true, keyId: f.keyId, sequence: f.sequence, skewSec };
}
