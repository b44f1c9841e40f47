/**
 * "Warn about the first, then at most once per interval", per key (a drop reason, a limit): a
 * flood of the same problem gives one log line per interval, never silence and never a flood.
 *
 * Contract: `admit(key, nowMs, total)` says whether to warn about `key` now. The first call for
 * a key is admitted; a later one only when `everyMs` or more have passed since the last admitted
 * one. An admitted call reports `sinceLast`, how much `total` (the caller's running count for the
 * key) grew since the previous admitted call, undefined for the first. `nowMs` is monotonic and
 * read by the caller. Deliberately not bounded: keys must come from a fixed set (reasons), never
 * from input such as addresses.
 */
export interface WarnAdmission {
  /** Growth of the caller's count since the previous warning; undefined for the first. */
  readonly sinceLast: number | undefined;
}

export class WarnThrottle {
  private readonly last = new Map<string, { readonly atMs: number; readonly total: number }>();

  constructor(private readonly everyMs: number) {}

  /** The admission when a warning is due now, else undefined. */
  admit(key: string, nowMs: number, total = 0): WarnAdmission | undefined {
    const last = this.last.get(key);
    if (last !== undefined && nowMs - last.atMs < this.everyMs) return undefined;
    this.last.set(key, { atMs: nowMs, total });
    return { sinceLast: last === undefined ? undefined : total - last.total };
  }
}
