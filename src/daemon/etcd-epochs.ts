/**
 * The fencing epoch of an instance elected on etcd: the create revision of the leader key this
 * node holds (etcd's cluster-wide revision, so every later tenure, on any node, has a greater
 * one). Stands in for the epoch file: nothing is written locally, etcd keeps it durably.
 *
 * Contract: `hold(epoch)` is called by the election when it has won the key, before the state
 * machine enters MASTER; `bump()` then returns that epoch. A `bump()` with no key won is a bug
 * (the only way to MASTER is through the key): it throws HA_ERR_STATE, and the epoch guard
 * refuses the takeover (no VIP). Peers' epochs are kept for status only.
 */
import { HaagentError } from '../core/errors.js';
import type { EpochHealth, EpochPort } from '../adapters/epoch-store.js';

export class EtcdEpochs implements EpochPort {
  private held = 0;
  private pending: number | undefined;
  private seen = 0;

  /** The key was won with this create revision: the next takeover uses it. */
  hold(epoch: number): void {
    this.pending = epoch;
  }

  current(): number { return this.held; }
  maxSeen(): number { return this.seen; }

  bump(): number {
    const e = this.pending;
    if (e === undefined) throw new HaagentError('HA_ERR_STATE', 'no leader key won in etcd: refusing to take over without its epoch');
    this.pending = undefined;
    this.held = e;
    return e;
  }

  observe(epoch: number): void {
    if (Number.isSafeInteger(epoch) && epoch > this.seen) this.seen = epoch;
  }

  health(): EpochHealth { return { persisted: true }; }
  onHealth(): void { /* never changes: etcd holds it */ }
  close(): void { /* nothing to stop */ }
}
