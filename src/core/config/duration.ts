/**
 * Durations as operators write them: "1s", "100ms", "1.5s", "2m". A bare number means seconds
 * (keepalived's `advert_int 1`). Returns milliseconds, or a reason string on bad input.
 */
export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

export function parseDurationMs(value: unknown): DurationResult {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { ok: false, reason: `duration ${value} must be a non-negative number of seconds` };
    return { ok: true, ms: Math.round(value * 1000) };
  }
  if (typeof value !== 'string') return { ok: false, reason: 'duration must be a string like "1s" or "100ms"' };
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
  if (m === null) return { ok: false, reason: `"${value}" is not a duration (examples: "1s", "100ms", "1.5s")` };
  const unit = UNIT_MS[m[2] ?? 's'] ?? 1000;
  return { ok: true, ms: Math.round(Number(m[1]) * unit) };
}
