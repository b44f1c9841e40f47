/**
 * When a MASTER whose periodic adverts are repeated by a train (a native sender that needs no
 * wake-up of the agent per advert) wakes up to send one itself: on a coarser grid of the same
 * monotonic clock, every `advertWakeMs`, a whole number of advert intervals. The train sends
 * the grid ticks in between, with the bytes of the advert the agent sent last.
 *
 * The agent's own advert is where everything else a periodic advert does happens (the VIP lease
 * renewal, the silence check, counting), so the wake period is bounded by the lease: the agent
 * wakes at the first tick the renewal is due at (leaseRenewDue), exactly the tick it would renew
 * at without a train, and never later than MAX_ADVERT_WAKE_MS. A train that renews the lease
 * itself frees the wake-ups from the renew cadence, but not from the lease: it stops renewing
 * after a late tick (the process may have been stopped), and the agent must be awake to renew
 * again before the lease runs out, so it wakes at least twice per lease.
 */
import { leaseRenewEveryMs } from './lease.js';

/** The longest time a MASTER with a train goes without waking up for its own advert. */
export const MAX_ADVERT_WAKE_MS = 1000;

/**
 * The wake period (ms) at advert interval `intervalMs` and a VIP lease of `leaseSec` (0 = none):
 * K x intervalMs, K >= 1, at most MAX_ADVERT_WAKE_MS / interval. With a lease the agent renews
 * itself, K is the smallest number of intervals after which a renewal is due (renew interval
 * less half an interval, as leaseRenewDue); with one the train renews (`trainRenews`), the most
 * intervals that fit in half the lease. K = 1 (the interval itself: no train helps) at
 * intervals of 1 s and over.
 */
export function advertWakeMs(intervalMs: number, leaseSec: number, trainRenews = false): number {
  const most = Math.floor(MAX_ADVERT_WAKE_MS / intervalMs);
  let leaseTicks = most;
  if (leaseSec > 0) {
    leaseTicks = trainRenews
      ? Math.floor((leaseSec * 1000) / 2 / intervalMs)
      : Math.ceil((leaseRenewEveryMs(leaseSec) - intervalMs / 2) / intervalMs);
  }
  return Math.max(1, Math.min(most, leaseTicks)) * intervalMs;
}

/** A train for the ticks from an advert deadline to the next wake-up. */
export interface TrainPlan {
  /** When the agent wakes for its own advert: the first multiple of the wake period at or after the deadline. */
  readonly wakeAtMs: number;
  /** Ticks the train sends: the deadline, then every interval, before wakeAtMs (0 = no train). */
  readonly count: number;
  /** From `nowMs` to the deadline (whole ms, >= 0). */
  readonly firstDelayMs: number;
}

/**
 * The train after an advert sent at `nowMs` whose next one is due at `deadlineMs` (a tick of the
 * `intervalMs` grid, nextAdvertAtMs), with wake period `wakeMs` (advertWakeMs).
 */
export function trainPlan(nowMs: number, deadlineMs: number, intervalMs: number, wakeMs: number): TrainPlan {
  const wakeAtMs = Math.ceil(deadlineMs / wakeMs) * wakeMs;
  return {
    wakeAtMs,
    count: Math.max(0, Math.round((wakeAtMs - deadlineMs) / intervalMs)),
    firstDelayMs: Math.max(0, Math.round(deadlineMs - nowMs)),
  };
}
