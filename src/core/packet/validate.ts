/**
 * Compare a decoded advertisement with our instance's configuration (RFC 3768 §7.1, RFC 5798
 * §7.1, and keepalived's address-list check). Pure; the decoder has already checked the wire.
 *
 * Order: VRID, version, interval (v2 only: a v3 backup adopts the master's interval, RFC 5798
 * §6.4.2), address list (same addresses, same order, same count; prefixes ignored).
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
