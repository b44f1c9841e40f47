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
