/**
 * Timings derived from an instance's advert interval A for the peer guard (hellos, isolation,
 * witnesses), named here beside the RFC timers (../fsm/timers.ts) so nobody converts them by
 * hand. All in ms; A is in centiseconds as the config holds it.
 *
 * The rule they serve: an isolated master must let go BEFORE its peer takes over, i.e. before the
 * peer's Master_Down_Interval (3A + Skew_Time) runs out after the last advert it heard. It holds
 * for A >= 30 ms (test/unit/peer/timing.test.ts); below that the 50 ms of scheduling slack is
 * longer than the intervals themselves, and the peer may take over first.
 */
import { csToMs } from '../fsm/timers.js';

/** Hellos are sent once per advert interval on every path. */
export function helloIntervalMs(advertIntervalCs: number): number {
  return csToMs(advertIntervalCs);
}

/**
 * Peer silence after which a node that reaches no witness counts as isolated: two intervals plus
 * 50 ms of scheduling slack, well inside the peer's 3A + Skew_Time.
 */
export function isolationSilenceMs(advertIntervalCs: number): number {
  return 2 * csToMs(advertIntervalCs) + 50;
}

/**
 * The stricter silence checked right before this backup's own Master_Down expiry: one interval
 * plus slack (peers hello every interval, so a live one has been heard by then).
 */
export function preExpirySilenceMs(advertIntervalCs: number): number {
  return csToMs(advertIntervalCs) + 50;
}

/** How often isolation is re-evaluated without an event: twice per interval, at most every 20 ms. */
export function isolationCheckEveryMs(advertIntervalCs: number): number {
  return Math.max(20, csToMs(advertIntervalCs) / 2);
}

/** Witness probes: once per interval (at least 100 ms apart), half an interval to answer (50 ms..1 s). */
export function witnessTiming(advertIntervalCs: number): { readonly intervalMs: number; readonly timeoutMs: number } {
  const a = csToMs(advertIntervalCs);
  return { intervalMs: Math.max(100, a), timeoutMs: Math.max(50, Math.min(1000, a / 2)) };
}

/** Every timing of one instance's peer guard, derived from its advert interval. */
export interface GuardTiming {
  readonly helloIntervalMs: number;
  readonly isolationSilenceMs: number;
  readonly preExpirySilenceMs: number;
  readonly checkEveryMs: number;
  readonly witness: { readonly intervalMs: number; readonly timeoutMs: number };
}

/** The guard timings for advert interval `advertIntervalCs` (the functions above, together). */
export function guardTiming(advertIntervalCs: number): GuardTiming {
  return {
    helloIntervalMs: helloIntervalMs(advertIntervalCs),
    isolationSilenceMs: isolationSilenceMs(advertIntervalCs),
    preExpirySilenceMs: preExpirySilenceMs(advertIntervalCs),
    checkEveryMs: isolationCheckEveryMs(advertIntervalCs),
    witness: witnessTiming(advertIntervalCs),
  };
}
