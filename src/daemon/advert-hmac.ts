/**
 * The daemon's HMAC state (keepalived 2.4 `auth_hmac`, instances with `auth.type: hmac`): the
 * last sequence each instance signed, and the last sequence accepted from each sender, per
 * instance. The crypto and the rules are the core's (core/packet/hmac-*.ts); this keeps the
 * state and reads the wall clock.
 *
 * Contract:
 * - `signing(inst)`: what the next advert of `inst` is signed with, or undefined when it does
 *   not sign (no hmac, or mode receive-only). Called once per advert: the copies sent to several
 *   unicast peers share one sequence, as keepalived's do. Sequences grow for as long as the
 *   agent runs, across reloads (kept by instance name);
 * - `authenticate(inst, ...)`: the core's verdict; on success the sender's mark is raised. Marks
 *   are kept per instance name and sender address, at most MAX_SENDERS per instance (the least
 *   recently heard one is forgotten first; only verified adverts are recorded);
 * - a `file:` key whose secret was not loaded is no key here (loadConfig loads them all; the
 *   agent refuses to start otherwise, see `unloadedKeys`).
 */
import type { HmacAuthConfig, InstanceConfig } from '../core/config/types.js';
import { authenticateAdvert, type AuthResult, type HmacPolicy, type SignedPart } from '../core/packet/hmac-auth.js';
import { ReplayMarks, nextSendSequence } from '../core/packet/hmac-replay.js';
import type { HmacBinding } from '../core/packet/hmac-trailer.js';
import type { HmacSigning } from '../core/packet/encode.js';

/** Senders remembered per instance: the peers of a unicast instance, or a few multicast senders. */
export const MAX_SENDERS = 16;

/** `file:` keys of `instances` whose secret was not read ("instances[0].auth.keys.2"). */
export function unloadedKeys(instances: readonly InstanceConfig[]): string[] {
  return instances.flatMap((inst, i) => (inst.auth.type !== 'hmac' ? [] : inst.auth.keys.filter((k) => k.secret === undefined).map((k) => `instances[${i}].auth.keys.${k.id}`)));
}

export class AdvertHmac {
  private readonly sent = new Map<string, bigint>();
  private readonly marks = new Map<string, ReplayMarks>();
  private readonly policies = new WeakMap<HmacAuthConfig, HmacPolicy>();

  constructor(private readonly wallClockMs: () => number = () => Date.now()) {}

  private policy(auth: HmacAuthConfig): HmacPolicy {
    let p = this.policies.get(auth);
    if (p === undefined) {
      const keys = new Map<number, Uint8Array>();
      for (const k of auth.keys) if (k.secret !== undefined) keys.set(k.id, k.secret);
      p = { keys, mode: auth.mode, antiReplay: auth.antiReplay, timeWindowSec: auth.timeWindowSec };
      this.policies.set(auth, p);
    }
    return p;
  }

  /** The signing of `inst`'s next advert, or undefined when it sends unsigned. */
  signing(inst: InstanceConfig): HmacSigning | undefined {
    const auth = inst.auth;
    if (auth.type !== 'hmac' || auth.mode === 'receive-only') return undefined;
    const key = this.policy(auth).keys.get(auth.activeKey);
    if (key === undefined) return undefined;
    const sequence = nextSendSequence(this.sent.get(inst.name), this.wallClockMs(), auth.antiReplay, auth.timeWindowSec);
    this.sent.set(inst.name, sequence);
    return { keyId: auth.activeKey, key, sequence };
  }

  /** Authenticates an advert `inst` received from `src` (text); raises the mark on success. */
  authenticate(inst: InstanceConfig, auth: HmacAuthConfig, signed: SignedPart | undefined, binding: HmacBinding, src: string): AuthResult {
    let marks = this.marks.get(inst.name);
    if (marks === undefined) {
      marks = new ReplayMarks(Math.max(MAX_SENDERS, inst.peers.length));
      this.marks.set(inst.name, marks);
    }
    const r = authenticateAdvert(signed, binding, this.policy(auth), marks.get(src), this.wallClockMs());
    if (r.ok && r.signed) marks.set(src, r.sequence);
    return r;
  }
}
