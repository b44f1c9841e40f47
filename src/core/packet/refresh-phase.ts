/**
 * Where in the refresh period an instance's periodic gratuitous ARP goes, so that the refreshes
 * of many instances that became master together are spread over the period instead of all
 * leaving in one burst every period.
 *
 * `slot` is a small per-announcer number handed out in creation order (0, 1, 2, ...). The phase
 * is the fractional part of slot x (golden ratio - 1), scaled to the period: a low-discrepancy
 * sequence, so for any number n of slots the phases fall in distinct, nearly evenly sized gaps
 * (at most three gap lengths, the largest under about 2.7 x period / n) without knowing n in
 * advance. Deterministic; no clock involved.
 *
 * Contract: returns an integer in [0, periodMs) for periodMs >= 1, and 0 for periodMs <= 0 (no
 * refresh). It does not check that slot is an integer; any finite number gives a phase in range.
 */
const GOLDEN_FRACTION = (Math.sqrt(5) - 1) / 2;

export function refreshPhaseMs(slot: number, periodMs: number): number {
  if (!(periodMs >= 1) || !Number.isFinite(slot)) return 0;
  const x = slot * GOLDEN_FRACTION;
  const phase = Math.floor((x - Math.floor(x)) * periodMs);
  return Math.min(Math.max(phase, 0), Math.floor(periodMs) - 1);
}

/**
 * When a refresh meant for `baseMs` is sent: the first advert tick at or after it (a multiple of
 * `tickMs`, the advert interval, on the agent's monotonic clock), so the refresh goes out in
 * the wake-up that sends the adverts of that tick instead of waking the agent on its own.
 * The refreshes of many instances stay spread over the period, a share of them at each tick.
 * Contract: result >= baseMs, result - baseMs < tickMs; `tickMs` <= 0 leaves baseMs as it is.
 */
export function refreshAtMs(baseMs: number, tickMs: number): number {
  if (!(tickMs > 0)) return baseMs;
  return Math.ceil(baseMs / tickMs) * tickMs;
}
