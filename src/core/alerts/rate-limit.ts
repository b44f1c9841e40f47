/**
 * Alert rate limiting: one token bucket per alert key (kind and instance), `burst` tokens refilled
 * at `burst` per `perMs`. An alert that finds its bucket empty is suppressed and counted; the next
 * admitted alert of that key carries the count, so nothing is lost silently, only folded.
 * Pure: the caller keeps the state and passes `nowMs` (monotonic).
 */
export interface RateLimit {
  readonly burst: number;
  readonly perMs: number;
}

interface Bucket {
  readonly tokens: number;
  readonly atMs: number;
  readonly suppressed: number;
}

export type RateState = ReadonlyMap<string, Bucket>;

export const EMPTY_RATE_STATE: RateState = new Map();

/** Most keys remembered; the least recently used ones are forgotten beyond it. */
export const RATE_STATE_MAX_KEYS = 1024;

export interface Admission {
  readonly state: RateState;
  readonly admitted: boolean;
  /** Alerts of this key suppressed since the last admitted one (when admitted), else 0. */
  readonly suppressedBefore: number;
}

export function admit(state: RateState, key: string, nowMs: number, limit: RateLimit): Admission {
  const prev = state.get(key) ?? { tokens: limit.burst, atMs: nowMs, suppressed: 0 };
  const elapsed = Math.max(0, nowMs - prev.atMs);
  const tokens = Math.min(limit.burst, prev.tokens + (elapsed * limit.burst) / limit.perMs);
  const next = new Map(state);
  next.delete(key); // re-inserted last: Map order is least recently used first
  if (tokens >= 1) {
    next.set(key, { tokens: tokens - 1, atMs: nowMs, suppressed: 0 });
    trim(next);
    return { state: next, admitted: true, suppressedBefore: prev.suppressed };
  }
  next.set(key, { tokens, atMs: nowMs, suppressed: prev.suppressed + 1 });
  trim(next);
  return { state: next, admitted: false, suppressedBefore: 0 };
}

function trim(m: Map<string, Bucket>): void {
  for (const k of m.keys()) {
    if (m.size <= RATE_STATE_MAX_KEYS) return;
    m.delete(k);
  }
}
