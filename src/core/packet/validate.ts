/**
 * Compare a decoded advertisement with our instance's configuration (RFC 3768 §7.1, RFC 9568
 * §7.1, and keepalived's address-list check). Pure; the decoder has already checked the wire.
 *
 * Order: VRID, version, interval (v2 only: a v3 backup adopts the master's interval, RFC 9568
 * §6.4.2), address list (same addresses, same order, same count; prefixes ignored). An advert
 * with no address at all fails the address list (RFC 9568 §5.2.5: it "MUST be ignored").
 *
 * `advertNotes` lists what RFC 9568 asks a receiver to log about an advert it still ACCEPTS
 * (§7.1 interval check, §7.1 erratum 8298 owner check, §8.3.2 two owners); logging them, rate
 * limited, is the caller's job.
 */
import { formatIp, parseIp, stripPrefix } from './ip.js';
import type { Advertisement, DropReason, VrrpVersion } from './vrrp-types.js';

export interface InstanceExpectation {
  readonly vrid: number;
  readonly version: VrrpVersion;
  /** Our Advertisement_Interval in centiseconds (v2: seconds * 100). */
  readonly advertIntervalCs: number;
  /** Our VIPs in configured order, with or without a `/prefix`. */
  readonly vips: readonly string[];
}

export type AdvertCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** Canonical text of a configured VIP (prefix stripped), or the raw text if it does not parse. */
function canonicalVip(vip: string): string {
  const bare = stripPrefix(vip.trim());
  const bytes = parseIp(bare);
  return bytes === undefined ? bare : formatIp(bytes);
}

const canonicalLists = new WeakMap<readonly string[], readonly string[]>();

/**
 * canonicalVip of every entry of `vips`, computed once per frozen list (the instance's list from
 * vipAddresses is one, passed with every advert), so a backup does not re-parse it per advert.
 * A list that is not frozen could change: it is computed each time.
 */
function canonicalList(vips: readonly string[]): readonly string[] {
  if (!Object.isFrozen(vips)) return vips.map(canonicalVip);
  let out = canonicalLists.get(vips);
  if (out === undefined) {
    out = Object.freeze(vips.map(canonicalVip));
    canonicalLists.set(vips, out);
  }
  return out;
}

function fmtInterval(cs: number, version: VrrpVersion): string {
  return version === 2 ? `${cs / 100} s` : `${cs} cs`;
}

/** Something to log about an accepted advert (RFC 9568 §7.1, §8.3.2); never a reason to drop. */
export interface AdvertNote {
  /**
   * `interval-differs`: v3 Max Advertise Interval differs from ours (§7.1 SHOULD log).
   * `owner-receives`: we are configured as the address owner and hear another router (§7.1,
   * erratum 8298: SHOULD log). `another-owner`: that router also claims priority 255 (§8.3.2).
   */
  readonly kind: 'interval-differs' | 'owner-receives' | 'another-owner';
  readonly detail: string;
}

/**
 * Notes on an advert that passed `checkAgainstInstance`. `priority` is our CONFIGURED priority
 * (255 = owner). Does not decide anything: the advert is processed whatever the notes say.
 */
export function advertNotes(advert: Advertisement, ours: InstanceExpectation & { readonly priority: number }): AdvertNote[] {
  const notes: AdvertNote[] = [];
  if (advert.version === 3 && advert.maxAdvertIntervalCs !== ours.advertIntervalCs) {
    notes.push({
      kind: 'interval-differs',
      detail: `advertisement interval is ${fmtInterval(advert.maxAdvertIntervalCs, 3)}; this instance uses ${fmtInterval(ours.advertIntervalCs, 3)}`,
    });
  }
  if (ours.priority === 255) {
    notes.push(advert.priority === 255
      ? { kind: 'another-owner', detail: 'the sender advertises priority 255 too: two routers are configured as the address owner' }
      : { kind: 'owner-receives', detail: `this instance is the address owner (priority 255) and hears a router with priority ${advert.priority}` });
  }
  return notes;
}

export function checkAgainstInstance(advert: Advertisement, ours: InstanceExpectation): AdvertCheck {
  if (advert.vrid !== ours.vrid) {
    return { ok: false, reason: 'bad-vrid', detail: `VRID is ${advert.vrid}; this instance is VRID ${ours.vrid}` };
  }
  if (advert.version !== ours.version) {
    return {
      ok: false,
      reason: 'bad-version',
      detail: `VRRP version is ${advert.version}; this instance runs version ${ours.version}`,
    };
  }
  if (advert.version === 2 && advert.maxAdvertIntervalCs !== ours.advertIntervalCs) {
    return {
      ok: false,
      reason: 'bad-interval',
      detail: `advertisement interval is ${fmtInterval(advert.maxAdvertIntervalCs, 2)}; this instance uses ${fmtInterval(ours.advertIntervalCs, 2)}`,
    };
  }
  const theirs = advert.addresses.map(canonicalVip);
  const mine = canonicalList(ours.vips);
  if (theirs.length !== mine.length) {
    return {
      ok: false,
      reason: 'address-mismatch',
      detail: `advert carries ${theirs.length} address(es) [${theirs.join(', ')}]; this instance has ${mine.length} [${mine.join(', ')}]`,
    };
  }
  for (let i = 0; i < mine.length; i++) {
    if (theirs[i] !== mine[i]) {
      return {
        ok: false,
        reason: 'address-mismatch',
        detail: `address ${i} is ${theirs[i] ?? '?'}; this instance has ${mine[i] ?? '?'} there ([${theirs.join(', ')}] vs [${mine.join(', ')}])`,
      };
    }
  }
  return { ok: true };
}
