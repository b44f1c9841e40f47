/**
 * A master's VIP lease: the kernel lifetime its VIPs are added with, renewed as it advertises,
 * so a killed or frozen agent's VIPs expire by themselves. The arithmetic (lifetime, renew
 * cadence, how long an old master's lease may last) is the core's (src/core/fsm/lease.ts); this
 * file applies it to the live VIPs.
 *
 * Contract: at most one renewal is in flight; a renewal runs at most once per renew interval and
 * only while the VIPs are in place. A failed renewal is logged at error, kept for status, and
 * reported through `onRenewFailed` (the runner makes the master step down: it can no longer
 * promise its VIPs go away if it dies); it never throws into the caller. With the agent's
 * batcher (`renewals`) the VIPs of many instances share one request, but each instance's outcome
 * is its own: only the instance whose VIP failed fails. A renewal the batcher dropped unsent
 * (the agent is shutting down) changes nothing. A master with an advert train may hand the
 * renewals to the train (`trainRenewal`), which then renews with its adverts by the same rule;
 * its reports come back through `renewedByTrain`, and the runner stops the train before the
 * VIPs are removed.
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import type { InstanceState } from '../core/fsm/types.js';
import { leaseRenewDue, leaseRenewEveryMs, oldLeaseLeftMs, vipLeaseSec } from '../core/fsm/lease.js';
import { csToMs } from '../core/fsm/timers.js';
import type { LeaseRenewal, MonotonicClock, TrainReport } from '../adapters/ports.js';
import type { VipPort } from './instance-ports.js';
import type { RenewEntry, RenewOutcome, VipRenewals } from './vip-renewals.js';

/** errno of a renewal sent to an interface index that no longer exists. */
const ENODEV = 19;

/** The options a VIP is added with (the port's). */
export type VipOpts = NonNullable<Parameters<VipPort['addVip']>[2]>;

export interface VipLeaseDeps {
  readonly clock: MonotonicClock;
  readonly log: Logger;
  readonly vips: VipPort;
  /** The instance's current config (a reload may change the VIPs and the lifetime). */
  readonly config: () => InstanceConfig;
  /**
   * The agent's renewal batcher (vip-renewals.ts), shared by its instances: the VIPs go out in
   * one batched request per interface. Absent: each VIP is renewed with its own `vips.addVip`.
   */
  readonly renewals?: Pick<VipRenewals, 'submit' | 'withdraw'>;
  /** A renewal failed (already logged and kept for status). */
  readonly onRenewFailed: () => void;
}

export class VipLease {
  private renewing = false;
  private lastRenewalMs = -Infinity;
  private lastError: string | undefined;
  private placed = false;
  /** What a renewal hands the batcher, for the config it was made from (the same every time). */
  private handed: { readonly cfg: InstanceConfig; readonly life: number; readonly entries: readonly RenewEntry[] } | undefined;
  /**
   * The datagram an advert train renews with, for the config, lease and link generation
   * (VipPort.linkGeneration: it names the interface by index) it was made for; null = the port
   * cannot make one.
   */
  private trainDatagram: { readonly cfg: InstanceConfig; readonly life: number; readonly links: number | undefined; readonly datagram: Uint8Array | null } | undefined;
  private preparing = false;
  /** A failed train renewal's step down is on its way (a microtask): nothing is renewed meanwhile. */
  private stepDownPending = false;

  constructor(private readonly deps: VipLeaseDeps) {}

  /**
   * The VIPs are in place (after the add job ran; false from the remove effect on). Set false,
   * a renewal still waiting in the batcher is withdrawn: sent after the removal, it would add
   * the VIPs back. Set true, the add counts as a renewal (it gave the VIPs the whole lease): the
   * next one is due a renew interval later, not with the first advert after the takeover.
   */
  get inPlace(): boolean {
    return this.placed;
  }
  set inPlace(v: boolean) {
    if (v && !this.placed) this.lastRenewalMs = this.deps.clock();
    this.placed = v;
    if (!v) this.deps.renewals?.withdraw(this);
  }

  /** Kernel lifetime of the VIPs while master (s), 0 = forever. */
  get lifetimeSec(): number {
    const cfg = this.deps.config();
    return vipLeaseSec(cfg.vipLifetimeSec, cfg.advertIntervalCs);
  }

  /** The last renewal's error, until a renewal works again. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** Options for adding `cfg`'s VIPs: its label, and the lease as both kernel lifetimes. */
  vipOpts(cfg: InstanceConfig): VipOpts {
    const life = this.lifetimeSec;
    return {
      ...(cfg.vipLabel === undefined ? {} : { label: cfg.vipLabel }),
      ...(life > 0 ? { validLftSec: life, preferredLftSec: life } : {}),
    };
  }

  /**
   * Renews every VIP's lifetime if a renewal is due (a master calls this with each periodic
   * advert). Not due: no lease, a renewal in flight, the VIPs not in place, or the last renewal
   * less than the renew interval ago.
   */
  renew(): void {
    const life = this.lifetimeSec;
    if (life === 0 || this.renewing || !this.inPlace || this.stepDownPending) return;
    const now = this.deps.clock();
    const cfg = this.deps.config();
    if (!leaseRenewDue(now - this.lastRenewalMs, life, csToMs(cfg.advertIntervalCs))) return;
    this.lastRenewalMs = now;
    this.renewing = true;
    const renewals = this.deps.renewals;
    if (renewals !== undefined) {
      renewals.submit(cfg.external, this.entriesOf(cfg, life), this, this.renewed);
      return;
    }
    const opts = this.vipOpts(cfg);
    Promise.resolve().then(() => Promise.all(cfg.vips.map(({ cidr }) => this.deps.vips.addVip(cfg.external, cidr, opts)))).then(
      () => this.renewed([]),
      (err: unknown) => this.renewed([err instanceof Error ? err : new Error(String(err))]),
    );
  }

  /**
   * What an advert train renews this lease with from now on (LeaseRenewal: due a renew interval
   * less half an advert interval after the last renewal, as leaseRenewDue; one of ours still in
   * flight counts from when it was sent), or undefined: no lease, VIPs not in place, or no
   * datagram for the current config yet (its making is started here; a port that cannot make
   * one leaves every renewal to renew()).
   */
  trainRenewal(): LeaseRenewal | undefined {
    const life = this.lifetimeSec;
    if (life === 0 || !this.placed || this.stepDownPending) return undefined;
    const cfg = this.deps.config();
    const d = this.trainDatagram;
    // A datagram made before a link change may name the wrong link: made again (NaN: not known, never reused).
    if (d === undefined || d.cfg !== cfg || d.life !== life || (d.datagram !== null && d.links !== this.linkGeneration())) {
      this.prepareTrainDatagram(cfg, life);
      return undefined;
    }
    if (d.datagram === null) return undefined;
    return {
      datagram: d.datagram,
      dueAfterMs: leaseRenewEveryMs(life) - csToMs(cfg.advertIntervalCs) / 2,
      lastAgoMs: this.deps.clock() - this.lastRenewalMs,
    };
  }

  /**
   * What an advert train did to this lease (its report): a renewal counts as ours did; a failed
   * one is a failed renewal (logged, kept for status, onRenewFailed), except ENODEV (the
   * interface has a new index), after which renew() renews at once with the current index; either
   * way the datagram is made again before a train renews again. onRenewFailed runs after the
   * caller's current step (a microtask), never inside it, and nothing renews until it has run.
   */
  renewedByTrain(r: TrainReport): void {
    if (r.renewedAgoMs >= 0 && this.placed) {
      this.lastRenewalMs = Math.max(this.lastRenewalMs, this.deps.clock() - r.renewedAgoMs);
      this.lastError = undefined;
    }
    if (r.renewErrno === 0) return;
    this.trainDatagram = undefined;
    if (r.renewErrno === ENODEV && this.placed) {
      // The interface has a new index: our own renewal, due at once, asks the kernel for it.
      this.deps.log.warn('the advert train renewed the VIP lease on an interface index that is gone; renewing it here');
      this.lastRenewalMs = -Infinity;
      return;
    }
    const err = new Error(`the advert train's lease renewal failed: errno ${r.renewErrno}`);
    this.lastError = err.message;
    this.deps.log.error({ err, errno: r.renewErrno }, 'refreshing the VIP lifetime failed: stepping down');
    // Reports are read in the middle of an effect (the advert being sent): the step down runs
    // once that step is done, so its priority-0 advert is the last one sent, not followed by it.
    // Until then nothing renews the lease (a renewal that worked would hide the failure).
    this.stepDownPending = true;
    queueMicrotask(() => {
      this.stepDownPending = false;
      this.deps.onRenewFailed();
    });
  }

  /** The port's link generation now (undefined when it has none: indexes never change under it). */
  private linkGeneration(): number | undefined {
    return this.deps.vips.linkGeneration?.();
  }

  private prepareTrainDatagram(cfg: InstanceConfig, life: number): void {
    const make = this.deps.vips.renewalDatagram;
    if (make === undefined) {
      this.trainDatagram = { cfg, life, links: undefined, datagram: null };
      return;
    }
    if (this.preparing) return;
    this.preparing = true;
    // Read before the lookup: a change while it runs makes the result stale at once.
    const links = this.linkGeneration();
    make.call(this.deps.vips, cfg.external, this.entriesOf(cfg, life)).then(
      (datagram) => { this.trainDatagram = { cfg, life, links, datagram }; },
      (err: unknown) => {
        this.deps.log.warn({ err }, 'the lease renewal for the advert train could not be made; the agent renews it itself');
        this.trainDatagram = { cfg, life, links, datagram: null };
      },
    ).finally(() => { this.preparing = false; });
  }

  /** A renewal's outcome (undefined: dropped unsent, nothing changes). Never throws. */
  private readonly renewed = (outcome: RenewOutcome | undefined): void => {
    this.renewing = false;
    if (outcome === undefined) return;
    const failed = outcome.find((e) => e !== undefined);
    if (failed === undefined) {
      this.lastError = undefined;
      return;
    }
    this.lastError = failed.message;
    this.deps.log.error({ err: failed }, 'refreshing the VIP lifetime failed: stepping down');
    this.deps.onRenewFailed();
  };

  /** The entries handed to the batcher for `cfg`'s VIPs with a `life`-second lease, made once per config. */
  private entriesOf(cfg: InstanceConfig, life: number): readonly RenewEntry[] {
    const h = this.handed;
    if (h !== undefined && h.cfg === cfg && h.life === life) return h.entries;
    const opts = this.vipOpts(cfg);
    const entries = cfg.vips.map(({ cidr }) => ({ cidr, opts }));
    this.handed = { cfg, life, entries };
    return entries;
  }

  /**
   * For vip-lease-wait: how long (ms) to wait before adding the VIPs after a step from `before`
   * at `nowMs`, that is how long the silent old master's lease may still last; 0 when the
   * option is off (see oldLeaseLeftMs for the rest). The batcher sends a renewal in the turn
   * of its advert, so the old master's last renewal left with its last advert.
   */
  waitBeforeAddMs(before: InstanceState, nowMs: number): number {
    if (!this.deps.config().vipLeaseWait) return 0;
    return oldLeaseLeftMs(before, this.lifetimeSec, nowMs);
  }
}
