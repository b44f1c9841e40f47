/**
 * What the election on etcd needs of the etcd client (src/adapters/etcd: the JSON gateway and
 * the lease keeper), as small interfaces the unit tests can fake. The real classes satisfy them
 * structurally.
 */
import type { EventEmitter } from 'node:events';

export interface EtcdKv {
  createIfAbsent(key: string, value: string, leaseId: string): Promise<{ held: boolean; createRevision: bigint; value: string; revision: bigint }>;
  range(prefix: string): Promise<Array<{ key: string; value: string; createRevision: bigint; leaseId: string }>>;
  put(key: string, value: string, leaseId?: string): Promise<{ revision: bigint }>;
  /** Deletes `key` only while its create revision is `createRevision` (still ours). */
  deleteIfOwned(key: string, createRevision: bigint): Promise<boolean>;
}

/**
 * The agent's lease. Events: 'fence' (its deadline passed without an ack: act as if it is gone),
 * 'lost' (etcd says it is gone; a new one follows with 'renewed'), 'renewed', 'reachable',
 * 'unreachable'.
 */
export interface LeasePort extends Pick<EventEmitter, 'on' | 'off'> {
  readonly leaseId: string | undefined;
  /** Latest moment (monotonic ms) this node may still act as a holder of keys on the lease. */
  fenceDeadlineMs(): number;
}

/** The agent's one etcd client: the gateway, the lease kept alive by the keeper. */
export interface EtcdClientPort {
  readonly kv: EtcdKv;
  readonly lease: LeasePort;
  /** Grants the lease and starts the keepalives. */
  start(): Promise<void>;
  /** Revokes the lease (its keys go with it), best effort and bounded; stops the timers. */
  stop(): Promise<void>;
}
