/**
 * When a lease holder must stop acting as holder (self-fence), from what it has seen itself.
 *
 * etcd expires a lease TTL seconds after the leader last renewed it, and a renewal is never
 * processed before the keepalive carrying it was sent. So "send time of the last keepalive that
 * was acknowledged, plus the granted TTL" is never later than the moment the server can expire
 * the lease, whatever the network did in between (a slow reply, a lost reply, a cut link). A
 * margin is taken off that, so the holder has stopped (taken its VIPs away) before anyone else
 * can be granted the key, even when its timer fires late on a loaded machine.
 *
 * Times are the caller's monotonic milliseconds (`nowMs`); nothing here reads a clock.
 * Deliberately not modelled: clock rate differences between hosts (negligible over a lease of
 * seconds) and etcd extending leases on a leader change (that only makes expiry later).
 */

/** What the fence deadline is computed from: the latest acknowledged renewal. */
export interface LeaseRenewal {
  /** When the acknowledged keepalive (or the grant) was SENT, monotonic ms. */
  readonly sentMs: number;
  /** The TTL the server reported with that acknowledgement, whole seconds (> 0). */
  readonly ttlS: number;
}

/**
 * The margin taken off the deadline: one request timeout (the longest a call is allowed to
 * take), never under 100 ms. Callers validate that keepalive interval + 2 x request timeout is
 * under the lease, so a renewal normally lands well before the deadline.
 */
export function fenceMarginMs(requestTimeoutMs: number): number {
  return Math.max(100, requestTimeoutMs);
}

/** The latest moment the holder may still act as holder: sentMs + TTL - margin. */
export function fenceDeadlineMs(renewal: LeaseRenewal, marginMs: number): number {
  return renewal.sentMs + renewal.ttlS * 1000 - marginMs;
}

/** True once `nowMs` is past the deadline (at the deadline itself the holder may still act). */
export function isFenced(nowMs: number, renewal: LeaseRenewal, marginMs: number): boolean {
  return nowMs > fenceDeadlineMs(renewal, marginMs);
}

/**
 * The renewal to keep after an acknowledgement of a keepalive sent at `sentMs`: replies may come
 * back out of order, and only the latest SEND time counts, so an older reply never moves the
 * deadline back, and a reply without a TTL (> 0) never moves it at all.
 */
export function afterAck(prev: LeaseRenewal | undefined, sentMs: number, ttlS: number): LeaseRenewal | undefined {
  if (!(ttlS > 0) || !Number.isFinite(sentMs)) return prev;
  if (prev !== undefined && fenceDeadlineMs(prev, 0) >= sentMs + ttlS * 1000) return prev;
  return { sentMs, ttlS };
}

/** Milliseconds from `nowMs` until the holder is fenced (0 when it already is). */
export function msUntilFence(nowMs: number, renewal: LeaseRenewal, marginMs: number): number {
  return Math.max(0, fenceDeadlineMs(renewal, marginMs) - nowMs + 1);
}
