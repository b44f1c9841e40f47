/**
 * The Master_Adver_Interval a backup takes from an advertisement, and its upper bound.
 *
 * RFC 9568 §6.4.2 (as RFC 5798 before it) tells a v3 backup to "Set the Active_Adver_Interval
 * to the Max Advertise Interval contained in the ADVERTISEMENT" and §6.4.3 tells a master that
 * steps down to do the same; keepalived's backup adopts it too, with no bound. (RFC 9568 names
 * it Active_Adver_Interval; this code keeps RFC 5798's Master_Adver_Interval, see types.ts.)
 * Taken literally, one forged advertisement claiming the largest interval the 12-bit field
 * holds (4095 cs = 40.95 s) stretches the Master_Down_Interval to 3 x 40.95 s + Skew_Time (up
 * to about 2.5 minutes), during which no backup takes over if the master dies or was itself
 * demoted by that advertisement.
 *
 * Choice: the advertisement is still ACCEPTED (it counts as the master being alive, its
 * priority is used), but the adopted interval is CLAMPED to `settings.maxAdvertIntervalCs`.
 * Dropping such adverts instead would make a legitimate master with a longer interval than
 * ours look dead: we would take over while it still holds the VIPs (two masters), which is
 * worse than the attack. Clamping keeps interop with any master whose interval is up to
 * 3 x the bound + Skew_Time (its adverts still arrive before our Master_Down_Timer fires), and
 * bounds what a forged interval can do to 3 x the bound + Skew_Time after the last advert.
 * v2 never adopts (RFC 3768 §7.1: an advert whose interval differs from ours is discarded).
 */
import type { AdvertInput, InstanceState, VrrpVersion } from './types.js';

/** Largest v3 Max Advertise Interval on the wire (12 bits), centiseconds. */
export const V3_MAX_INTERVAL_CS = 4095;

/** How many of our own intervals a master's advertised one may be by default. */
export const DEFAULT_MAX_INTERVAL_FACTOR = 3;

/**
 * Floor of the default bound, cs: 1 s, keepalived's default `advert_int` (and the shortest v2
 * interval). A fast haagent backup (say 100 ms) then follows a keepalived master left at its
 * default exactly as the RFC says; with 3 x 100 ms alone, its clamped Master_Down_Interval
 * (1.08 s) would exceed that master's 1 s interval by a mere 80 ms, a flap waiting for jitter.
 */
export const DEFAULT_MAX_INTERVAL_FLOOR_CS = 100;

/**
 * Default bound on an adopted Master_Adver_Interval (cs): v3, 3 x our own Advertisement_Interval
 * but at least 1 s and at most 4095 cs; v2, our own interval (v2 never adopts).
 */
export function defaultMaxAdvertIntervalCs(version: VrrpVersion, advertIntervalCs: number): number {
  if (version === 2) return advertIntervalCs;
  const wanted = Math.max(DEFAULT_MAX_INTERVAL_FACTOR * advertIntervalCs, DEFAULT_MAX_INTERVAL_FLOOR_CS);
  return Math.min(wanted, V3_MAX_INTERVAL_CS);
}

/** The bound in effect: the configured one (never below our own interval), else the default. */
export function maxAdoptedIntervalCs(state: InstanceState): number {
  const s = state.settings;
  const configured = s.maxAdvertIntervalCs ?? defaultMaxAdvertIntervalCs(s.version, s.advertIntervalCs);
  return Math.max(configured, s.advertIntervalCs);
}

/**
 * Master_Adver_Interval after accepting this advertisement: v2 keeps its own; v3 adopts the
 * advertised interval, clamped to `maxAdoptedIntervalCs`; a value that is not a positive
 * integer (the codec never delivers one) keeps the current interval.
 */
export function adoptedIntervalCs(state: InstanceState, advert: AdvertInput): number {
  const cs = advert.maxAdvertIntervalCs;
  if (state.settings.version === 2 || !Number.isInteger(cs) || cs < 1) return state.masterAdverIntervalCs;
  return Math.min(cs, maxAdoptedIntervalCs(state));
}
