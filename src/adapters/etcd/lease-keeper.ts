/**
 * Holds one etcd lease for as long as it runs: grants it, renews it every keepalive interval and
 * decides from its own observations when this node must stop acting as the lease's holder.
 *
 * Guarantees:
 * - 'fence' is emitted at most once per lease, as soon as the fence deadline (send time of the
 *   last acknowledged keepalive or grant + granted TTL - margin, src/core/etcd/fence-deadline.ts)
 *   has passed without a newer acknowledgement. That moment is never later than the earliest
 *   moment etcd can expire the lease, so a holder that stops on 'fence' has stopped before anyone
 *   else can be granted its keys. A fenced lease is abandoned: revoked (best effort, so its keys
 *   go at once when etcd is reachable) and replaced by a new one ('renewed').
 * - 'lost' (leaseId) when etcd says the lease is gone (keepalive TTL 0); 'fence' for that lease
 *   comes first if it had not yet. A new lease is granted at once ('renewed').
 * - 'renewed' (leaseId) for every lease granted, the first one included.
 * - 'reachable' / 'unreachable': the gateway's state changes, passed on.
 * - One call in flight at a time: keepalives are sent every keepalive interval after the
 *   previous call finished; while no lease is held a grant is tried at that pace.
 * - After stop() no event is emitted and no call is started.
 *
 * Deliberately not done here: what "acting as holder" means (the election modes decide), and
 * keeping keys alive (keys attached to the lease live and die with it).
 */
import { EventEmitter } from 'node:events';
import type { EtcdConfig } from '../../core/config/types.js';
import { afterAck, fenceDeadlineMs, fenceMarginMs, isFenced, msUntilFence, type LeaseRenewal } from '../../core/etcd/fence-deadline.js';
import type { EtcdGateway } from './gateway.js';

export interface MonotonicClock {
  nowMs(): number;
}

export class LeaseKeeper extends EventEmitter {
  private id: string | undefined;
  private renewal: LeaseRenewal | undefined;
  private loopTimer: NodeJS.Timeout | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  /** The last keepalive said the lease is gone: grant the next one without waiting. */
  private lostJustNow = false;
  private readonly marginMs: number;
  private readonly onReachable = (): boolean => this.emit('reachable');
  private readonly onUnreachable = (): boolean => this.emit('unreachable');

  constructor(private readonly gw: EtcdGateway, private readonly cfg: EtcdConfig, private readonly clock: MonotonicClock) {
    super();
    this.marginMs = fenceMarginMs(cfg.requestTimeoutMs);
  }

  /** The lease currently held (not yet fenced), or undefined. */
  get leaseId(): string | undefined {
    return this.id;
  }

  /**
   * Latest moment (clock ms) this node may still act as holder of the current lease;
   * -Infinity while no lease is held.
   */
  fenceDeadlineMs(): number {
    return this.id === undefined || this.renewal === undefined ? Number.NEGATIVE_INFINITY : fenceDeadlineMs(this.renewal, this.marginMs);
  }

  /**
   * Starts the keeper: resolves once the first grant was tried (leaseId is set when it
   * succeeded). When it failed, grants are retried every keepalive interval; never rejects.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.gw.on('reachable', this.onReachable);
    this.gw.on('unreachable', this.onUnreachable);
    await this.tick();
  }

  /** Stops timers and revokes the lease (best effort; bounded by endpoints x request-timeout). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.loopTimer);
    clearTimeout(this.fenceTimer);
    this.gw.off('reachable', this.onReachable);
    this.gw.off('unreachable', this.onUnreachable);
    const id = this.id;
    this.id = undefined;
    this.renewal = undefined;
    await this.inFlight?.catch(() => undefined);
    if (id !== undefined) await this.gw.revoke(id).catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.loopTimer);
    if (this.running) this.loopTimer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    if (!this.running || this.inFlight !== undefined) return;
    this.inFlight = this.id === undefined ? this.grant() : this.keepAlive(this.id);
    try {
      await this.inFlight;
    } finally {
      this.inFlight = undefined;
      // A lease just lost is replaced at once; otherwise wait one interval.
      this.schedule(this.id === undefined && this.lostJustNow ? 0 : this.cfg.keepaliveIntervalMs);
      this.lostJustNow = false;
    }
  }

  private async grant(): Promise<void> {
    const sentMs = this.clock.nowMs();
    let granted: { leaseId: string; ttlS: number };
    try {
      granted = await this.gw.grant(this.cfg.leaseTtlS);
    } catch {
      return; // the gateway reports unreachability; retried at the next tick
    }
    if (!this.running) {
      await this.gw.revoke(granted.leaseId).catch(() => undefined);
      return;
    }
    this.id = granted.leaseId;
    this.renewal = { sentMs, ttlS: granted.ttlS };
    this.armFence();
    this.emit('renewed', granted.leaseId);
  }

  private async keepAlive(id: string): Promise<void> {
    const sentMs = this.clock.nowMs();
    let ttlS: number;
    try {
      ({ ttlS } = await this.gw.keepAlive(id));
    } catch {
      return; // no acknowledgement: the fence timer decides
    }
    if (!this.running || this.id !== id) return; // fenced or stopped meanwhile: this reply is stale
    if (ttlS <= 0) {
      this.fence(id);
      this.lostJustNow = true;
      this.emit('lost', id);
      return;
    }
    this.renewal = afterAck(this.renewal, sentMs, ttlS);
    this.armFence();
  }

  private armFence(): void {
    clearTimeout(this.fenceTimer);
    const renewal = this.renewal;
    if (renewal === undefined || !this.running) return;
    const id = this.id;
    this.fenceTimer = setTimeout(() => this.checkFence(id), msUntilFence(this.clock.nowMs(), renewal, this.marginMs));
  }

  private checkFence(id: string | undefined): void {
    if (id === undefined || id !== this.id || this.renewal === undefined) return;
    if (isFenced(this.clock.nowMs(), this.renewal, this.marginMs)) {
      this.fence(id);
      void this.gw.revoke(id).catch(() => undefined);
    } else {
      this.armFence(); // a timer that fired early
    }
  }

  /** Abandons lease `id` (if still current) and emits 'fence' once for it. */
  private fence(id: string): void {
    if (this.id !== id) return;
    this.id = undefined;
    this.renewal = undefined;
    clearTimeout(this.fenceTimer);
    this.emit('fence', id);
  }
}
