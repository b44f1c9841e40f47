/**
 * The agent's VIP lease renewals, coalesced: every instance hands the VIPs it renews to this one
 * batcher, which sends what was handed in for an interface as ONE batched netlink request
 * (`renewVips`, one datagram) instead of one request per VIP. Measured with 255 instances (one
 * VIP each, 1 s adverts) in a lab: the master's netlink datagrams fell from about 235 to about 19
 * a second (some 13 renewals per datagram), its getsockname calls from about 230 to about 50.
 *
 * The coalescing window: a submission is sent at most `coalesceWindowMs(renewEveryMs)` after it
 * was handed in, min(20 ms, a tenth of the renew interval). The renew interval is a third of the
 * lease (>= 333 ms), so the renewal still lands within the first tenth of its interval and the
 * two spare intervals before the VIP would expire under a live master are untouched. It is also
 * how much longer than before a VIP may outlive its master's last advert (the renewal handed in
 * with that advert is sent up to one window later): 20 ms at most, against a lease of whole
 * seconds that the kernel itself expires up to a second late, and vip-lease-wait waits that much
 * longer (VipLease.waitBeforeAddMs). Wider windows would coalesce more but blur that fence.
 *
 * Contract:
 * - `submit` calls `done` once with one outcome per entry handed in (undefined = in place, else
 *   the error), or with undefined when the entries were not sent: withdrawn by their owner
 *   (`withdraw`) or the batcher closed first (then possibly before `submit` returns). `done`
 *   must not throw. `renew` is the same as a promise that never rejects. A master's periodic
 *   renewal uses `submit`: no promise per instance and advert.
 * - `withdraw(owner)` takes back what `owner` handed in and is not sent yet: an instance whose
 *   VIPs are being removed calls it, so a renewal (NLM_F_CREATE) waiting in the window cannot
 *   re-add a VIP after its removal. What was already sent was queued on the netlink socket
 *   before any request of the removal, so the kernel renews first and removes after.
 * - One batched request per interface per flush; a flush never starts while the previous one of
 *   the same interface is in flight (what arrives meanwhile waits and goes out together right
 *   after it): the adapter serializes its requests anyway.
 * - It does not decide whether a renewal is due, nor fence anything: the caller (VipLease) hands
 *   in only due renewals, with its instance's own periodic advert.
 */
import type { AddVipOptionsExt, NetlinkPort } from '../adapters/netlink/index.js';

/** What the batcher needs of the netlink adapter. */
export type RenewPort = Pick<NetlinkPort, 'renewVips'>;

/** One VIP to renew: its CIDR and the options it is added with (label, lifetimes). */
export interface RenewEntry {
  readonly cidr: string;
  readonly opts?: AddVipOptionsExt;
}

export type RenewOutcome = readonly (Error | undefined)[];

/** Longest coalescing window (ms). */
export const MAX_COALESCE_MS = 20;

/** How long a renewal may wait for others (ms): min(MAX_COALESCE_MS, renewEveryMs / 10); see above. */
export function coalesceWindowMs(renewEveryMs: number): number {
  return Math.max(0, Math.min(MAX_COALESCE_MS, renewEveryMs / 10));
}

/** Called once with a submission's outcome, undefined when it was not sent; must not throw. */
export type RenewDone = (outcome: RenewOutcome | undefined) => void;

interface Submission {
  readonly owner: object;
  readonly entries: readonly RenewEntry[];
  readonly done: RenewDone;
}

interface InterfaceQueue {
  waiting: Submission[];
  timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (ms, the batcher's clock). */
  dueMs: number;
  inFlight: boolean;
}

export class VipRenewals {
  private readonly byInterface = new Map<string, InterfaceQueue>();
  private closed = false;

  constructor(private readonly port: RenewPort, private readonly nowMs: () => number = () => performance.now()) {}

  /** `submit` as a promise. */
  renew(ifname: string, entries: readonly RenewEntry[], renewEveryMs: number, owner: object): Promise<RenewOutcome | undefined> {
    return new Promise((resolve) => { this.submit(ifname, entries, renewEveryMs, owner, resolve); });
  }

  /** Hands `owner`'s `entries` of `ifname` in for the next flush, within coalesceWindowMs(renewEveryMs); `done` gets the outcome. */
  submit(ifname: string, entries: readonly RenewEntry[], renewEveryMs: number, owner: object, done: RenewDone): void {
    if (this.closed) {
      done(undefined);
      return;
    }
    let queue = this.byInterface.get(ifname);
    if (queue === undefined) {
      queue = { waiting: [], timer: undefined, dueMs: Infinity, inFlight: false };
      this.byInterface.set(ifname, queue);
    }
    queue.waiting.push({ owner, entries, done });
    // The earliest deadline of what is waiting wins; an in-flight flush is followed at once by the next.
    const dueMs = this.nowMs() + coalesceWindowMs(renewEveryMs);
    if (!queue.inFlight && dueMs < queue.dueMs) {
      clearTimeout(queue.timer);
      queue.dueMs = dueMs;
      const q = queue;
      queue.timer = setTimeout(() => this.flush(ifname, q), Math.max(0, dueMs - this.nowMs()));
    }
  }

  /** Takes back what `owner` handed in and is not sent yet (its outcomes are undefined). */
  withdraw(owner: object): void {
    for (const q of this.byInterface.values()) {
      const mine = q.waiting.filter((s) => s.owner === owner);
      if (mine.length === 0) continue;
      q.waiting = q.waiting.filter((s) => s.owner !== owner);
      for (const s of mine) s.done(undefined);
    }
  }

  /** Drops what waits (its outcomes are undefined) and refuses new renewals. Idempotent. */
  close(): void {
    this.closed = true;
    for (const q of this.byInterface.values()) {
      clearTimeout(q.timer);
      for (const s of q.waiting.splice(0)) s.done(undefined);
    }
    this.byInterface.clear();
  }

  private flush(ifname: string, q: InterfaceQueue): void {
    q.timer = undefined;
    q.dueMs = Infinity;
    const batch = q.waiting.splice(0);
    if (batch.length === 0 || this.closed) return;
    q.inFlight = true;
    const entries = batch.flatMap((s) => s.entries);
    this.port.renewVips(ifname, entries).then(
      (outcomes) => (outcomes.length === entries.length ? outcomes
        : entries.map(() => new Error(`renewing VIPs on ${ifname}: ${outcomes.length} outcomes for ${entries.length} entries`))),
      (err: unknown) => entries.map(() => (err instanceof Error ? err : new Error(String(err)))),
    ).then((outcomes) => {
      let at = 0;
      for (const s of batch) {
        s.done(s.entries.map((_, i) => outcomes[at + i]));
        at += s.entries.length;
      }
    }).finally(() => {
      q.inFlight = false;
      if (this.closed) return;
      if (q.waiting.length > 0) this.flush(ifname, q);
      else if (this.byInterface.get(ifname) === q && q.timer === undefined) this.byInterface.delete(ifname);
    });
  }
}
