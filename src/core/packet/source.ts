/**
 * Source filter for unicast peers: an instance configured with `peers` talks to those routers
 * only, so an advertisement from any other source is dropped ('unknown-source'). VRRP has no
 * authentication (v2's simple password is sent in clear; v3 removed it), so without this anyone
 * on the segment can send adverts that win elections or silence takeovers.
 *
 * Comparison is on the address itself: a zone index (`fe80::1%eth0`, however the socket or the
 * operator wrote it) is ignored, and text forms are canonicalised (`FE80:0::1` = `fe80::1`),
 * because the socket already scoped the packet to the instance's heartbeat interface.
 *
 * Deliberately NOT checked: that the source really is who it claims. A host on the segment can
 * still forge a peer's source address; this bounds who can interfere without spoofing, it is
 * not authentication. Pure; never throws.
 */
import { normalizeIp } from './ip.js';
import type { AdvertCheck } from './validate.js';

/** Canonical text of an address with any `%zone` removed, or undefined if it is not an address. */
export function canonicalAddress(text: string): string | undefined {
  const zone = text.indexOf('%');
  return normalizeIp((zone === -1 ? text : text.slice(0, zone)).trim());
}

/**
 * The canonical forms of a peer list, computed once per list: the config's lists are frozen and
 * live as long as the config, and this runs for every advert received.
 */
const canonicalCache = new WeakMap<readonly string[], ReadonlySet<string>>();
function canonicalPeers(peers: readonly string[]): ReadonlySet<string> {
  let set = canonicalCache.get(peers);
  if (set === undefined) {
    set = new Set(peers.map(canonicalAddress).filter((a): a is string => a !== undefined));
    canonicalCache.set(peers, set);
  }
  return set;
}

/**
 * `{ ok: true }` when `peers` is empty (multicast: any source on the link may be a router of
 * the group) or `src` is one of `peers`; otherwise a drop with reason 'unknown-source'.
 * A peer entry that is not an address never matches (config validation refuses those).
 */
export function checkSource(src: string, peers: readonly string[]): AdvertCheck {
  if (peers.length === 0) return { ok: true };
  const from = canonicalAddress(src);
  if (from !== undefined && canonicalPeers(peers).has(from)) return { ok: true };
  return {
    ok: false,
    reason: 'unknown-source',
    detail: `source ${from ?? JSON.stringify(src)} is not one of this instance's unicast peers [${peers.join(', ')}]`,
  };
}
