/**
 * VIP lease arithmetic: the kernel lifetime a master gives its VIPs, how often it renews it, and
 * how long a silent old master's lease may still hold the VIP. Whole milliseconds, like the RFC
 * timers next door (timers.ts); the kernel counts address lifetimes in whole seconds.
 *
 * The lease is this agent's own fence, not part of VRRP: a master renews its VIPs' lifetime as
 * it advertises, so a killed or frozen agent's VIPs expire by themselves instead of staying on
 * the wire next to the new master's.
 */
import type { InstanceState } from './types.js';

/**
 * The kernel runs its address-expiry work on whole-second boundaries (round_jiffies_up): an
 * address may outlive its lifetime by up to one second.
 */
export const KERNEL_EXPIRY_SLACK_MS = 1000;

/**
 * The VIP lease lifetime in whole seconds; 0 = forever (no lease).
 *
 * 'auto' is 3 x Advertisement_Interval rounded DOWN to whole seconds, at least 1 s: the lease
 * then never outlasts the backup's Master_Down_Interval (3 x interval + Skew_Time) where the
 * kernel's 1 s granularity allows, so a dead master's VIP is gone about when a backup takes over.
 * The kernel counts lifetimes in whole seconds and a lease is never 0 s, so at intervals under
 * 34 cs the lease is 1 s, which can be longer than Master_Down_Interval. A number is the
 * operator's choice, returned as given (validated by the config parser, not here).
 */
export function vipLeaseSec(setting: number | 'auto', advertIntervalCs: number): number {
  if (setting !== 'auto') return setting;
  return Math.max(1, Math.floor((3 * advertIntervalCs) / 100));
}

/**
 * How long after its last renewal a master renews the lease again (ms): a third of the lease.
 * The VIP then never outlives the master's last renewal by more than the lease, and a slow or
 * lost renewal still has two more chances before the VIP expires under a live master. Renewing
 * with every advert instead (every 100 ms at the shortest interval) tripled the master's CPU.
 * Not an integer in general (1 s lease: 333.33 ms); compare against it, do not arm a timer.
 * Meaningless for a lease of 0 (forever): there is nothing to renew.
 */
export function leaseRenewEveryMs(leaseSec: number): number {
  return (leaseSec * 1000) / 3;
}

/**
 * Whether a master renews its lease with the advert it sends now, `sinceLastMs` after its last
 * renewal: once the renew interval has passed, less half an advert interval. Adverts come on a
 * tick grid (nextAdvertAtMs), and the tick of the last renewal may have run a little later
 * than this one: at 1 s adverts and a 3 s lease, the advert one whole interval after the last
 * renewal is then measured as 999.x ms after it, and without the tolerance about every other
 * renewal would be skipped, leaving one spare interval instead of two.
 */
export function leaseRenewDue(sinceLastMs: number, leaseSec: number, advertIntervalMs: number): boolean {
  return sinceLastMs >= leaseRenewEveryMs(leaseSec) - advertIntervalMs / 2;
}

/**
 * How long (ms, >= 0) the VIP lease of the master a BACKUP last heard may still hold its VIPs
 * at `nowMs`, for vip-lease-wait: a backup taking over from a silent master adds its VIPs only
 * once this has run out, so a frozen agent's VIP and ours never coexist.
 *
 * The old master renewed its lease with its last advert at the latest (`lastSeenMs`), so the
 * VIP is gone by `lastSeenMs + lease + KERNEL_EXPIRY_SLACK_MS`. 0 when there is no lease to wait
 * for: lease 0 (forever: waiting would never end, and the operator chose no fence), `before` not
 * BACKUP, no master heard, or a master that released (priority 0: it removed its VIPs itself).
 *
 * Deliberately assumes the old master used the same lease as ours (the same config); it does
 * not check whether the old master was actually silent (the caller uses it only for a takeover).
 */
export function oldLeaseLeftMs(before: Pick<InstanceState, 'state' | 'master'>, leaseSec: number, nowMs: number): number {
  if (leaseSec === 0) return 0;
  const m = before.master;
  if (before.state !== 'BACKUP' || m === null || m.priority === 0) return 0;
  return Math.max(0, m.lastSeenMs + leaseSec * 1000 + KERNEL_EXPIRY_SLACK_MS - nowMs);
}
