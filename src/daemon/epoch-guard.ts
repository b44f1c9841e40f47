/**
 * One instance's fencing epoch as the runner sees it (the store's policy is in
 * src/adapters/epoch-store.ts): a new epoch at each takeover, problems of the epoch file made
 * loud, and the one refusal, an epoch at its bound.
 *
 * Contract: a failed write never stops a takeover (the epoch is held in memory, the failure is
 * logged at error, published once as 'epoch-state' and shown in status; the store retries). An
 * epoch at its bound (MAX_EPOCH), ours or a peer's, is reported once and raises the permanent
 * fault `epoch-limit` through `raiseFault`; `takeover` then returns undefined and the caller
 * adds no VIP. Publishing goes through `publish`, which must not throw.
 */
import type { Logger } from 'pino';
import type { InstanceStatus } from '../core/control/types.js';
import { MAX_EPOCH, type EpochHealth, type EpochPort } from '../adapters/epoch-store.js';
import type { UnstampedEvent } from './event-bus.js';

export interface EpochGuardDeps {
  readonly epochs: EpochPort;
  readonly log: Logger;
  readonly instance: () => string;
  readonly publish: (ev: UnstampedEvent) => void;
  /** Raises a permanent fault of this instance (fed to the core after the current effects). */
  readonly raiseFault: (source: string) => void;
}

/** One line for status and events: the failing write and/or the recovered corrupt file. */
function epochProblem(h: EpochHealth): string | undefined {
  const parts = [h.writeError, h.recovered].filter((x): x is string => x !== undefined);
  return parts.length === 0 ? undefined : parts.join('; ');
}

export class EpochGuard {
  /** Set once the bound was reached (the fault `epoch-limit` is raised then, for good). */
  private limitError: string | undefined;

  /** Subscribes to the store's health and reports a problem it already has (a corrupt file moved aside). */
  constructor(private readonly deps: EpochGuardDeps) {
    deps.epochs.onHealth((h) => this.onHealth(h, false));
    const h = deps.epochs.health();
    if (epochProblem(h) !== undefined) this.onHealth(h, true);
  }

  /** A peer reported its fencing epoch (a value at the bound puts this instance in FAULT). */
  observe(epoch: number): void {
    this.deps.epochs.observe(epoch);
    this.checkBound();
  }

  /**
   * A new epoch for a takeover, durable before anything else happens as master when the disk
   * allows; undefined when the bound refuses it (reported, fault raised: add no VIP).
   */
  takeover(): number | undefined {
    const { epochs, log } = this.deps;
    let epoch: number;
    try {
      epoch = epochs.bump();
    } catch (err) {
      this.checkBound(err);
      return undefined;
    }
    if (epochs.health().persisted) log.info({ epoch }, 'new fencing epoch');
    else log.error({ epoch, problem: epochs.health().writeError }, 'new fencing epoch NOT persisted: taking over anyway, holding it in memory and retrying the write');
    return epoch;
  }

  /** The epoch fields of status: persisted, and every current problem on one line. */
  status(): Pick<InstanceStatus, 'epochPersisted' | 'epochStateError'> {
    const h = this.deps.epochs.health();
    const problem = [this.limitError, epochProblem(h)].filter((x): x is string => x !== undefined).join('; ');
    return { epochPersisted: h.persisted, ...(problem === '' ? {} : { epochStateError: problem }) };
  }

  /**
   * Logs (at error) and publishes a problem of the epoch file: at start (`initial`: a corrupt
   * file moved aside, a failing write) and each time the store reports a new one; a write that
   * works again is logged at info. The store retries by itself.
   */
  private onHealth(h: EpochHealth, initial: boolean): void {
    const epoch = this.deps.epochs.current();
    if (h.writeError === undefined && !initial) {
      this.deps.log.info({ epoch }, 'fencing epoch written to disk again');
      this.deps.publish({ type: 'epoch-state', instance: this.deps.instance(), ok: true, persisted: h.persisted, detail: 'written to disk again' });
      return;
    }
    const problem = (h.writeError ?? h.recovered) ?? '';
    this.deps.log.error({ epoch, persisted: h.persisted, problem }, `fencing epoch: ${problem}`);
    this.deps.publish({ type: 'epoch-state', instance: this.deps.instance(), ok: false, persisted: h.persisted, detail: problem });
  }

  /** The epoch can no longer grow: refuse to be master (FAULT) rather than reuse one. */
  private checkBound(err?: unknown): void {
    const { epochs, log } = this.deps;
    if (err === undefined && Math.max(epochs.current(), epochs.maxSeen()) < MAX_EPOCH) return;
    if (this.limitError !== undefined) return;
    this.limitError = err instanceof Error ? err.message : `the fencing epoch has reached its bound ${MAX_EPOCH}; refusing to become master`;
    log.error({ err, epoch: epochs.current(), maxSeen: epochs.maxSeen() }, `entering FAULT: ${this.limitError}`);
    this.deps.publish({ type: 'epoch-state', instance: this.deps.instance(), ok: false, persisted: epochs.health().persisted, detail: this.limitError });
    this.deps.raiseFault('epoch-limit');
  }
}
