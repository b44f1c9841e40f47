/**
 * Client-visible outage from probe results: the time from the last successful answer before the
 * first failure at or after `fromMs` to the first successful answer after the last failure.
 * 0 when no request failed. Pure; used by the lab, the tests and the benchmark.
 */
export interface ProbeResult {
  readonly t: number;
  readonly ok: boolean;
  readonly host?: string;
  readonly error?: string;
}

export interface Outage {
  readonly outageMs: number;
  readonly failedRequests: number;
  readonly lastBefore: ProbeResult | undefined;
  readonly firstAfter: ProbeResult | undefined;
}

export function measureOutage(results: readonly ProbeResult[], fromMs: number): Outage {
  const after = results.filter((r) => r.t >= fromMs);
  const firstFail = after.findIndex((r) => !r.ok);
  if (firstFail < 0) return { outageMs: 0, failedRequests: 0, lastBefore: undefined, firstAfter: after[0] };
  let lastFail = firstFail;
  after.forEach((r, i) => { if (!r.ok) lastFail = i; });
  const failedAt = after[firstFail];
  const before = [...results].reverse().find((r) => r.ok && failedAt !== undefined && r.t < failedAt.t);
  const firstAfter = after.slice(lastFail + 1).find((r) => r.ok);
  const start = before?.t ?? fromMs;
  const end = firstAfter?.t ?? (after[after.length - 1]?.t ?? start);
  return { outageMs: end - start, failedRequests: after.filter((r) => !r.ok).length, lastBefore: before, firstAfter };
}
