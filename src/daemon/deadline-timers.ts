/**
 * The protocol timers of every instance of the agent on one Node timer per distinct deadline
 * millisecond, instead of one Node timer each. Masters advertise on a shared tick grid
 * (nextAdvertAtMs), so the advert timers of all instances with the same interval fall on the
 * same millisecond: one Node timer fires for all of them and they run in one go, in the order
 * they were scheduled, within one event-loop turn. Their lease renewals, handed in during that
 * turn, then go out together (VipRenewals).
 *
 * Contract:
 * - `at(atMs, fn)` calls `fn` once, when the monotonic clock reads >= atMs (ms, fractional),
 *   unless cancelled first; the returned entry is the handle for `cancel`. Entries due in the
 *   same whole millisecond share one bucket; a bucket runs its entries in scheduling order.
 * - Node timers have whole-millisecond resolution and may fire up to 1 ms early: a bucket that
 *   fires before the clock reaches its millisecond starts again for the remainder.
 * - `fn` may schedule and cancel entries, its own bucket's included: an entry cancelled while
 *   its bucket runs is skipped; one scheduled for a moment already past goes in a new bucket
 *   (its own Node timer) that runs after the running one, never within it.
 * - A throwing `fn` does not stop the rest of its bucket: the error is rethrown once the bucket
 *   is done (the first one, as an uncaught exception would have been for its own timer).
 * - `cancel` is idempotent; a bucket left empty clears its Node timer.
 */
import type { MonotonicClock } from '../adapters/ports.js';

/** A scheduled call; the handle `cancel` takes. */
export interface DeadlineEntry {
  readonly atMs: number;
}

interface Entry extends DeadlineEntry {
  readonly fn: () => void;
  bucket: Bucket | undefined;
}

interface Bucket {
  /** The whole millisecond its entries are due by (ceil of their atMs). */
  readonly dueMs: number;
  readonly entries: Set<Entry>;
  timer: NodeJS.Timeout | undefined;
}

export class DeadlineTimers {
  private readonly buckets = new Map<number, Bucket>();

  constructor(private readonly clock: MonotonicClock) {}

  /** Calls `fn` once the clock reads >= `atMs` (see the contract). */
  at(atMs: number, fn: () => void): DeadlineEntry {
    const dueMs = Math.ceil(atMs);
    let bucket = this.buckets.get(dueMs);
    if (bucket === undefined) {
      bucket = { dueMs, entries: new Set(), timer: undefined };
      this.buckets.set(dueMs, bucket);
      this.start(bucket);
    }
    const entry: Entry = { atMs, fn, bucket };
    bucket.entries.add(entry);
    return entry;
  }

  cancel(handle: DeadlineEntry): void {
    const entry = handle as Entry;
    const bucket = entry.bucket;
    if (bucket === undefined) return;
    entry.bucket = undefined;
    bucket.entries.delete(entry);
    if (bucket.entries.size === 0 && this.buckets.get(bucket.dueMs) === bucket) {
      clearTimeout(bucket.timer);
      this.buckets.delete(bucket.dueMs);
    }
  }

  /** Node timers in use (one per distinct pending millisecond). */
  get pending(): number {
    return this.buckets.size;
  }

  private start(bucket: Bucket): void {
    bucket.timer = setTimeout(() => this.fire(bucket), Math.max(0, Math.ceil(bucket.dueMs - this.clock())));
  }

  private fire(bucket: Bucket): void {
    if (this.clock() < bucket.dueMs) {
      this.start(bucket); // early by Node's rounding
      return;
    }
    // Detached first: what the entries schedule for this millisecond goes in a new bucket.
    this.buckets.delete(bucket.dueMs);
    bucket.timer = undefined;
    let failure: { err: unknown } | undefined;
    for (const entry of bucket.entries) {
      if (entry.bucket !== bucket) continue; // cancelled meanwhile
      entry.bucket = undefined;
      try {
        entry.fn();
      } catch (err) {
        failure ??= { err };
      }
    }
    bucket.entries.clear();
    if (failure !== undefined) throw failure.err;
  }
}
