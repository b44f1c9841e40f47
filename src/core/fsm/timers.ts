/**
 * Timer arithmetic, RFC 9568 §6.1 (v3) and RFC 3768 §6.1 (v2), in whole milliseconds.
 *
 * Rounding (deliberate, keepalived-compatible):
 * - v3: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256 is computed in integer
 *   CENTISECONDS, rounded down (as the RFC's units and keepalived's VRRP_TIMER_SKEW do), then
 *   converted to ms. E.g. priority 100, interval 100 cs -> floor(15600/256) = 60 cs = 600 ms.
 * - v2: Skew_Time = (256 - Priority) / 256 SECONDS, rounded down to whole ms
 *   (priority 100 -> floor(156000/256) = 609 ms). The v2 interval is whole seconds (cs = s*100).
 * Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time (exact in ms once skew is rounded).
 *
 * `priority` is the priority of the router computing the timer (a backup's OWN effective
 * priority), not the master's.
 */
import type { VrrpVersion } from './types.js';

/** Centiseconds -> milliseconds. */
export function csToMs(cs: number): number {
  return cs * 10;
}

/** Skew_Time in ms (RFC 9568 §6.1 / RFC 3768 §6.1). */
export function skewTimeMs(priority: number, masterAdverIntervalCs: number, version: VrrpVersion): number {
  if (version === 2) return Math.floor(((256 - priority) * 1000) / 256);
  return csToMs(Math.floor(((256 - priority) * masterAdverIntervalCs) / 256));
}

/** Master_Down_Interval in ms = 3 * Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(priority: number, masterAdverIntervalCs: number, version: VrrpVersion): number {
  return 3 * csToMs(masterAdverIntervalCs) + skewTimeMs(priority, masterAdverIntervalCs, version);
}

/**
 * When a master sends its next advertisement after one sent at `nowMs`: the first multiple of
 * `intervalMs` after `nowMs` on the monotonic clock, so every instance with the same interval
 * advertises on the same ticks, whatever moment it became master. The shell then serves all
 * due instances with one timer wake-up and their lease renewals with one netlink request,
 * instead of one wake-up per instance spread over the interval.
 *
 * Contract: nowMs < result <= nowMs + intervalMs. In steady state the gap is exactly the
 * interval (a timer that fires late does not push the next advertisement later: the grid does
 * not drift); only the advertisement right after becoming master, or an extra one (an answer
 * to a priority-0 or lower-priority advert) is followed by a shorter gap. A shorter gap is
 * harmless: a backup only needs one advertisement per Master_Down_Interval. `intervalMs` > 0.
 */
export function nextAdvertAtMs(nowMs: number, intervalMs: number): number {
  return (Math.floor(nowMs / intervalMs) + 1) * intervalMs;
}
