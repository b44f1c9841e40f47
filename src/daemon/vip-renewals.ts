/**
 * The agent's VIP lease renewals, coalesced: every instance hands the VIPs it renews to this one
 * batcher, which sends what was handed in for an interface as ONE batched netlink request
 * (`renewVips`, one datagram) instead of one request per VIP. Measured with 255 instances (one
 * VIP each, 1 s adverts) in a lab: the master's netlink datagrams fell from about 235 to about 19
 * a second (some 13 renewals per datagram), its getsockname calls from about 230 to about 50.
 *
 * When: at the end of the event-loop turn the renewal was handed in (setImmediate). Masters
 * advertise on a shared tick grid and the agent's timers run all instances due in the same
 * millisecond in one go (deadline-timers.ts), so the renewals of every instance advertising at
 * a tick are handed in during one turn and leave together, right after their adverts: the
 * renewal does not wait on a timer of its own, and a VIP outlives its master's last advert by
 * no more than the lease itself.
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

/** Called once with a submission's outcome, undefined when it was not sent; must not throw. */
export type RenewDone = (outcome: RenewOutcome | undefined) => void;

interface Submission {
  readonly owner: object;
  readonly entries: readonly RenewEntry[];
  readonly done: RenewDone;
}

interface InterfaceQueue {
  waiting: Submission[];
  /** The flush at the end of this turn, when one is scheduled. */
  immediate: NodeJS.Immediate | undefined;
  inFlight: boolean;
}

export class VipRenewals {
  private readonly byInterface = new Map<string, InterfaceQueue>();
  private closed = false;

  constructor(private readonly port: RenewPort) {}

  /** `submit` as a promise. */
  renew(ifname: string, entries: readonly RenewEntry[], owner: object): Promise<RenewOutcome | undefined> {
    return new Promise((resolve) => { this.submit(ifname, entries, owner, resolve); });
  }

  /** Hands `owner`'s `entries` of `ifname` in for the flush at the end of this turn; `done` gets the outcome. */
  submit(ifname: string, entries: readonly RenewEntry[], owner: object, done: RenewDone): void {
    if (this.closed) {
      done(undefined);
      return;
    }
    let queue = this.byInterface.get(ifname);
    if (queue === undefined) {
      queue = { waiting: [], immediate: undefined, inFlight: false };
      this.byInterface.set(ifname, queue);
    }
    queue.waiting.push({ owner, entries, done });
    // An in-flight flush is followed at once by the next (see flush).
    if (!queue.inFlight && queue.immediate === undefined) {
      const q = queue;
      queue.immediate = setImmediate(() => this.flush(ifname, q));
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
      clearImmediate(q.immediate);
      for (const s of q.waiting.splice(0)) s.done(undefined);
    }
    this.byInterface.clear();
  }

  private flush(ifname: string, q: InterfaceQueue): void {
    q.immediate = undefined;
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
      else if (this.byInterface.get(ifname) === q && q.immediate === undefined) this.byInterface.delete(ifname);
    });
  }
}
