/**
 * Carries out the effects one step of the core returned, in order: adverts and timers at once,
 * address work (VIPs, announcements, the hooks and load balancer steps around them) on the
 * instance's ordered queue.
 *
 * The ordering the operator relies on, all through the one queue:
 * - taking over: the before-master hook and the load balancer's rules (both started at once) are
 *   awaited, then vip-lease-wait if due, then the floating addresses (`floating`) and the VIPs
 *   are added, then the master hook starts;
 *   a before-master that fails or times out aborts the claim: no VIP is added, nothing is
 *   announced, no master hook runs, and the core is told (`promotion-failed`);
 * - leaving: the VIPs and floating addresses are removed, then the load balancer's rules go
 *   (`afterVipsRemoved`), then
 *   the backup hook starts; when a demote hook (backup/fault/stop after MASTER) has ended, the
 *   core is told (`demote-hook-done`), which may hold a new takeover back until then;
 * - a remove never overtakes an add (the queue runs one job at a time, in order).
 * Adverts and timers never wait for the queue, nor for a hook.
 *
 * Contract: `run` throws only on a bug (the runner turns that into a fault); a promise it starts
 * has its rejection handled at once. A takeover the epoch bound refuses adds, announces and
 * hooks nothing as master.
 */
import { vipCidrs } from '../core/net/address.js';
import { advertWakeMs, trainPlan } from '../core/fsm/advert-wake.js';
import { advertIntervalMs } from '../core/fsm/transitions.js';
import { NO_TRAIN, type TrainReport } from '../adapters/ports.js';
import type { InstanceConfig } from '../core/config/types.js';
import type { Effect, Input, InstanceState, VrrpState } from '../core/fsm/types.js';
import type { AddressQueue } from './address-queue.js';
import type { EpochGuard } from './epoch-guard.js';
import type { UnstampedEvent } from './event-bus.js';
import type { InstanceDeps } from './instance-ports.js';
import type { InstanceRecord } from './instance-status.js';
import type { InstanceTakeover } from './instance-takeover.js';
import type { InstanceTimers } from './instance-timers.js';
import type { VipLease } from './vip-lease.js';
import { configuredFenceTimeoutMs, fenceWanted } from './self-fence.js';

/** The runner's parts the effects act on. `config` and `state` are read when used (they change). */
export interface EffectContext {
  readonly deps: InstanceDeps;
  readonly queue: AddressQueue;
  readonly lease: VipLease;
  readonly timers: InstanceTimers;
  readonly epochs: EpochGuard;
  readonly record: InstanceRecord;
  readonly takeover: InstanceTakeover;
  readonly config: () => InstanceConfig;
  readonly state: () => InstanceState;
  /** Publishes on the bus; never throws. */
  readonly publish: (ev: UnstampedEvent) => void;
  /** Feeds an input to the core (from a queued job or a settled promise, never inside a step). */
  readonly input: (input: Input) => void;
}

/** What the effects of one step share. */
export interface StepFacts {
  /** The state before the step. */
  readonly from: VrrpState;
  /** vip-lease-wait: how long the silent old master's lease may still last (ms), 0 = no wait. */
  readonly leaseWaitMs: number;
  /** The epoch bound refused this step's takeover: add, announce and hook nothing as master. */
  epochRefused: boolean;
  /** This step's before-master failed (set from the queue): add, announce and hook nothing as master. */
  promotionFailed?: boolean;
}

/** Calls `fn` now and returns a promise that never rejects (a throw and a rejection go to onError). */
function settle<T>(fn: () => Promise<T>, onError: (err: unknown) => void): Promise<T | undefined> {
  try {
    return fn().catch((err: unknown) => { onError(err); return undefined; });
  } catch (err) {
    onError(err);
    return Promise.resolve(undefined);
  }
}

export class InstanceEffects {
  /** Counts takeovers (add-vips effects): a failure is reported only for the latest one. */
  private takeovers = 0;
  /** When this MASTER last sent an advert, itself or by its train (monotonic ms); undefined while not MASTER. */
  private lastMasterAdvertMs: number | undefined;
  /** The longest gap between adverts inside the trains reported since the runner's last advert (ms). */
  private trainGapMs = 0;
  /** The priority the running advert train sends; undefined = no train. */
  private trainPriority: number | undefined;

  constructor(private readonly ctx: EffectContext) {}

  run(effect: Effect, step: StepFacts): void {
    const { deps, queue, timers, record } = this.ctx;
    switch (effect.type) {
      case 'send-advert': {
        // A master's periodic advert (not the one entering MASTER: the VIPs are being added with a
        // fresh lifetime right after it) renews the VIP lease and may end a silence.
        const periodic = step.from === 'MASTER' && this.ctx.state().state === 'MASTER' && effect.priority > 0;
        // Leaving or releasing: the train stops before this advert goes, so none follows it.
        if (effect.priority === 0 || this.ctx.state().state !== 'MASTER') this.stopTrain();
        if (periodic) this.trainReport(false);
        if (periodic) this.ctx.lease.renew();
        this.afterSilence(periodic);
        // Elected on etcd: no VRRP packet at all (the advert timer still paces the lease renewal).
        if (this.ctx.config().election === 'etcd') return;
        record.advertsSent += 1;
        this.ctx.publish({ type: 'advert-sent', instance: this.ctx.config().name });
        deps.sendAdvert(effect.priority).catch((err: unknown) => {
          deps.log.warn({ err, priority: effect.priority }, 'sending advert failed');
        });
        return;
      }
      case 'arm-timer':
        if (effect.timer === 'advert') this.armAdvert(effect.deadlineMs);
        else timers.arm(effect.timer, effect.deadlineMs);
        return;
      case 'cancel-timer':
        if (effect.timer === 'advert') this.stopTrain();
        timers.cancel(effect.timer);
        return;
      case 'add-vips':
        this.addVips(step);
        return;
      case 'remove-vips':
        this.removeVips();
        return;
      case 'announce':
        if (step.epochRefused) return; // no VIP was added: claim nothing
        queue.enqueue('gratuitous ARP', async () => {
          if (step.promotionFailed !== true) await deps.announce();
        });
        deps.log.debug({ reason: effect.reason }, 'announcing VIPs');
        return;
      case 'state-changed': {
        const cfg = this.ctx.config();
        record.transition(effect.from, effect.to, effect.reason);
        this.ctx.publish({ type: 'transition', instance: cfg.name, vrid: cfg.vrid, from: effect.from, to: effect.to, reason: effect.reason });
        deps.log.info({ from: effect.from, to: effect.to, reason: effect.reason, priority: this.ctx.state().effectivePriority }, `${effect.from} -> ${effect.to}: ${effect.reason}`);
        return;
      }
      case 'run-hook': {
        // Handed to the hook runner (its FIFO keeps transition order) from the address queue, so
        // a master hook starts after the VIPs were added and a backup hook after they were
        // removed; the queue does not wait for the hook itself, and the protocol never does.
        // Results are logged and published by the agent from the runner's 'result' events.
        const hook = effect.hook;
        if (step.epochRefused && effect.to === 'MASTER') return; // not really master: FAULT follows
        const ctx = { from: effect.from, to: effect.to, priority: this.ctx.state().effectivePriority, epoch: deps.epochs.current() };
        const demote = effect.from === 'MASTER' && effect.to !== 'MASTER';
        queue.enqueue(`${hook} hook`, async () => {
          if (effect.to === 'MASTER' && step.promotionFailed === true) return; // the claim was given up
          const ran = deps.hooks.run(hook, ctx).catch((err: unknown) => deps.log.error({ err, hook }, 'hook runner failed'));
          if (demote) void ran.then(() => this.ctx.input({ type: 'demote-hook-done' }));
        });
        return;
      }
      case 'run-guards':
      case 'arm-guard-retry':
      case 'cancel-guard-retry':
      case 'takeover-blocked':
        this.ctx.takeover.run(effect);
        return;
    }
  }

  /**
   * A master whose adverts stopped for longer than its self-fence timeout (frozen, starved) was
   * dark meanwhile, and its clients may have followed a backup's announcement: when it
   * advertises again and is still MASTER once the adverts that queued up meanwhile have been
   * read (setImmediate: after this loop turn's I/O), it announces its VIPs again. Nothing to
   * watch without a self-fence: an instance elected over etcd (no adverts, no fence) or one
   * with the fence off (neither changes without a restart).
   */
  private afterSilence(steadyMaster: boolean): void {
    const cfg = this.ctx.config();
    if (!fenceWanted(cfg)) return;
    const now = this.ctx.deps.clock();
    const last = this.lastMasterAdvertMs;
    const trainGapMs = this.trainGapMs;
    // Entering MASTER announces anyway; any other advert (priority 0, not MASTER) ends the watch.
    this.lastMasterAdvertMs = this.ctx.state().state === 'MASTER' ? now : undefined;
    this.trainGapMs = 0;
    if (!steadyMaster || last === undefined) return;
    // The longest gap since our last advert: inside the trains (account) or since the last advert of either.
    const silentMs = Math.max(trainGapMs, now - last);
    if (silentMs <= configuredFenceTimeoutMs(cfg)) return;
    this.ctx.deps.log.warn({ silentMs: Math.round(silentMs) }, 'adverts resumed after the self-fence had expired: announcing the VIPs again');
    this.ctx.queue.enqueue('gratuitous ARP after a silence', async () => {
      await new Promise((r) => setImmediate(r));
      if (this.ctx.state().state === 'MASTER') await this.ctx.deps.announce();
    });
  }

  /**
   * The Adver_Timer the core armed for `deadlineMs`. A MASTER with a train (not elected on
   * etcd, where no advert is sent) hands the ticks until its next wake-up (advert-wake.ts) to the
   * train, with the advert it just sent, and is woken then; otherwise the timer wakes it at the
   * deadline. A train that cannot run (the port says so) leaves every advert to the runner.
   */
  private armAdvert(deadlineMs: number): void {
    const { deps, timers } = this.ctx;
    const s = this.ctx.state();
    const train = deps.advertTrain;
    if (train !== undefined && s.state === 'MASTER' && this.ctx.config().election !== 'etcd') {
      const intervalMs = advertIntervalMs(s);
      // What the running train did (its renewals, a failed one) counts before the next is planned.
      this.trainReport(false);
      // A train that renews the lease frees the wake-ups from the renew cadence (advert-wake.ts).
      const renewal = this.ctx.lease.trainRenewal();
      const plan = trainPlan(deps.clock(), deadlineMs, intervalMs, advertWakeMs(intervalMs, this.ctx.lease.lifetimeSec, renewal !== undefined));
      const replaced = plan.count === 0 ? undefined : train.schedule(s.effectivePriority, {
        firstDelayMs: plan.firstDelayMs, everyMs: intervalMs, count: plan.count, ...(renewal === undefined ? {} : { renewal }),
      });
      if (replaced !== undefined) {
        this.trainPriority = s.effectivePriority;
        this.account(replaced);
        timers.arm('advert', deadlineMs, plan.wakeAtMs);
        return;
      }
    }
    this.stopTrain();
    timers.arm('advert', deadlineMs);
  }

  /**
   * A running train whose advert is no longer what the core would send (the priority changed,
   * or the VIP list by a reload) is stopped and the Adver_Timer set back to the core's deadline,
   * now past or within an interval: the next advert is the runner's, with the new bytes.
   */
  refreshTrain(changed: boolean): void {
    if (this.trainPriority === undefined) return;
    const s = this.ctx.state();
    if (!changed && s.state === 'MASTER' && s.effectivePriority === this.trainPriority) return;
    this.stopTrain();
  }

  /**
   * Ends the running train (nothing more is sent for it once this returns), counting what it
   * sent. A MASTER's Adver_Timer is set back to the core's deadline: its adverts are the
   * runner's again from the next tick on (a timer the core cancels next is simply cancelled).
   */
  stopTrain(): void {
    if (this.trainPriority === undefined) return;
    this.trainReport(true);
    this.trainPriority = undefined;
    const s = this.ctx.state();
    const deadline = s.timers.advert;
    if (s.state === 'MASTER' && deadline !== null) this.ctx.timers.arm('advert', deadline);
  }

  /** The running train's report since the last one (NO_TRAIN without a train), counted. */
  private trainReport(stop: boolean): TrainReport {
    const train = this.ctx.deps.advertTrain;
    if (this.trainPriority === undefined || train === undefined) return NO_TRAIN;
    const r = train.report(stop);
    this.account(r);
    return r;
  }

  /**
   * Counts and publishes what a train sent, says when one of its sends failed, hands its
   * renewals to the lease, and keeps its gaps and last advert for the silence check.
   */
  private account(r: TrainReport): void {
    this.ctx.lease.renewedByTrain(r);
    if (r.sinceLastMs >= 0 && this.lastMasterAdvertMs !== undefined) {
      this.trainGapMs = Math.max(this.trainGapMs, r.maxGapMs);
      if (r.sent > 0) this.lastMasterAdvertMs = Math.max(this.lastMasterAdvertMs, this.ctx.deps.clock() - r.sinceLastMs);
    }
    const name = this.ctx.config().name;
    this.ctx.record.advertsSent += r.sent;
    for (let i = 0; i < r.sent; i++) this.ctx.publish({ type: 'advert-sent', instance: name });
    if (r.errno !== 0) this.ctx.deps.log.warn({ errno: r.errno }, 'sending advert failed (advert train)');
  }

  /**
   * Taking over. A new fencing epoch first (only its bound refuses: no VIP, FAULT follows). The
   * before-master hook is handed to the hook runner now, so it is ahead of this transition's
   * master hook, and awaited in the queue before the VIPs; so is the load balancer's
   * preparation. A before-master that ran and failed (or timed out) gives the claim up: the
   * VIPs of this step are skipped and the core gets `promotion-failed` (priority 0, BACKUP,
   * backoff). A hook runner that could not run it at all, and a failed load balancer
   * preparation, are logged and the VIPs are still added.
   */
  private addVips(step: StepFacts): void {
    const { deps, queue, lease } = this.ctx;
    const epoch = this.ctx.epochs.takeover();
    if (epoch === undefined) {
      step.epochRefused = true;
      return;
    }
    // Started now, awaited in the queue: their rejections are handled here, at once.
    const beforeMaster = settle(() => deps.hooks.run('before-master', { from: step.from, to: 'MASTER', priority: this.ctx.state().effectivePriority, epoch }), (err) => {
      deps.log.error({ err }, 'before-master hook could not be run; adding the VIPs anyway');
    });
    const beforeVips = deps.beforeVips;
    const prepared = beforeVips === undefined ? undefined : settle(beforeVips, (err) => {
      deps.log.error({ err }, 'preparing the load balancer rules failed; adding the VIPs anyway');
    });
    const takeover = ++this.takeovers;
    queue.enqueue('before-master hook', async () => {
      const r = await beforeMaster;
      if (r === undefined || r.ok) return;
      step.promotionFailed = true;
      const detail = r.timedOut ? 'before-master timed out' : `before-master exited ${r.exitCode === null ? 'by a signal' : String(r.exitCode)}`;
      // The core hears of it only while this takeover is the current one: a slow hook of an
      // earlier takeover that was already left must not demote a later one.
      if (takeover !== this.takeovers || this.ctx.state().state !== 'MASTER') {
        deps.log.error({ exitCode: r.exitCode, timedOut: r.timedOut }, `${detail} for a takeover already left: its VIPs are not added`);
        return;
      }
      deps.log.error({ exitCode: r.exitCode, timedOut: r.timedOut }, `${detail}: no VIP is added and the takeover is given up`);
      this.ctx.input({ type: 'promotion-failed', detail });
    });
    if (prepared !== undefined) queue.enqueue('load balancer rules before the VIPs', () => prepared);
    if (step.leaseWaitMs > 0) {
      const wait = step.leaseWaitMs;
      deps.log.info({ waitMs: Math.round(wait) }, 'vip-lease-wait: the old master went silent; adding the VIPs once its lease has run out');
      queue.enqueue('waiting for the old lease', () => new Promise((r) => setTimeout(r, wait)));
    }
    for (const { ifname, cidr } of deps.floating ?? []) {
      queue.enqueue(`adding ${cidr} to ${ifname}`, async () => {
        if (step.promotionFailed !== true) await deps.vips.addVip(ifname, cidr);
      });
    }
    for (const { cidr } of this.ctx.config().vips) {
      const opts = lease.vipOpts(this.ctx.config());
      queue.enqueue(`adding VIP ${cidr}`, async () => {
        if (step.promotionFailed !== true) await deps.vips.addVip(this.ctx.config().external, cidr, opts);
      });
    }
    queue.enqueue('logging VIPs added', async () => {
      if (step.promotionFailed === true) return;
      const s = this.ctx.state();
      lease.inPlace = s.state === 'MASTER' || s.releasing;
      deps.log.info({ vips: vipCidrs(this.ctx.config().vips), external: this.ctx.config().external }, 'VIPs added');
    });
  }

  /** Leaving MASTER (or releasing, or shutting down): the VIPs go, then the balancer's rules. */
  private removeVips(): void {
    const { deps, queue } = this.ctx;
    this.stopTrain(); // its lease renewal would add the VIPs back
    this.ctx.lease.inPlace = false;
    deps.quiet();
    for (const { cidr } of this.ctx.config().vips) {
      queue.enqueue(`removing VIP ${cidr}`, () => deps.vips.removeVip(this.ctx.config().external, cidr));
    }
    for (const { ifname, cidr } of deps.floating ?? []) queue.enqueue(`removing ${cidr} from ${ifname}`, () => deps.vips.removeVip(ifname, cidr));
    queue.enqueue('logging VIPs removed', async () => {
      deps.log.info({ vips: vipCidrs(this.ctx.config().vips) }, 'VIPs removed');
      deps.afterVipsRemoved?.();
    });
  }
}
