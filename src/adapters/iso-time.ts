/**
 * ISO 8601 UTC timestamps (`2026-12-01T10:53:19.969Z`), the same text as
 * `Date.prototype.toISOString`, built from the UTC fields in JS.
 *
 * Node 20's V8 looks up the local time zone's display name on every toISOString call (it shares
 * one routine with `toString`): the first call pages in ICU's time-zone name data and code, about
 * 1 MB of the node binary, and keeps ICU's name tables in memory, for a string that never shows a
 * time zone. The agent stamps every log line and event, so it would carry them for good.
 */

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

function year(y: number): string {
  if (y >= 0 && y <= 9999) return String(y).padStart(4, '0');
  // toISOString's expanded years: a sign and six digits.
  return `${y < 0 ? '-' : '+'}${String(Math.abs(y)).padStart(6, '0')}`;
}

/** `ms` (epoch milliseconds, default now) as toISOString writes it; a RangeError for an invalid time, as toISOString throws. */
export function isoTime(ms: number = Date.now()): string {
  const d = new Date(ms);
  const t = d.getTime();
  if (Number.isNaN(t)) throw new RangeError('Invalid time value');
  return `${year(d.getUTCFullYear())}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${pad3(d.getUTCMilliseconds())}Z`;
}
