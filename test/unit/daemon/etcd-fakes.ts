/**
 * Fakes for the election-on-etcd tests of the daemon: an in-memory etcd (keys with create
 * revisions from one global revision counter, leases whose expiry deletes their keys, a switch
 * that makes every call fail like an unreachable cluster) and a lease keeper per node that the
 * test drives ('fence', 'lost', 'renewed'). Real timers; no sockets.
 */
import { EventEmitter } from 'node:events';
import { HaagentError } from '../../../src/core/errors.js';
import type { EtcdKv, LeasePort } from '../../../src/daemon/etcd-ports.js';

interface Entry { value: string; createRevision: bigint; leaseId: string }

export class FakeEtcd {
  revision = 1n;
  readonly keys = new Map<string, Entry>();
  /** Every call fails while set (the node's view: etcd unreachable). */
  down = false;
  private nextLease = 100;

  grant(): string {
    this.nextLease += 1;
    return String(this.nextLease);
  }

  /** The lease is gone on the server: its keys are deleted. */
  expire(leaseId: string): void {
    for (const [k, e] of this.keys) if (e.leaseId === leaseId) this.keys.delete(k);
    this.revision += 1n;
  }

  /** A client view; `isDown` adds a per-node cut on top of the global switch. */
  client(isDown: () => boolean = () => false): EtcdKv {
    const check = (): void => {
      if (this.down || isDown()) throw new HaagentError('HA_ERR_ETCD', 'etcd unreachable (fake)');
    };
    return {
      createIfAbsent: async (key, value, leaseId) => {
        check();
        const e = this.keys.get(key);
        if (e !== undefined) return { held: false, createRevision: e.createRevision, value: e.value, revision: this.revision };
        this.revision += 1n;
        this.keys.set(key, { value, createRevision: this.revision, leaseId });
        return { held: true, createRevision: this.revision, value, revision: this.revision };
      },
      range: async (prefix) => {
        check();
        return [...this.keys].filter(([k]) => k.startsWith(prefix)).map(([key, e]) => ({ key, value: e.value, createRevision: e.createRevision, leaseId: e.leaseId }));
      },
      put: async (key, value, leaseId) => {
        check();
        this.revision += 1n;
        const e = this.keys.get(key);
        this.keys.set(key, { value, createRevision: e?.createRevision ?? this.revision, leaseId: leaseId ?? '0' });
        return { revision: this.revision };
      },
      deleteIfOwned: async (key, createRevision) => {
        check();
        const e = this.keys.get(key);
        if (e === undefined || e.createRevision !== createRevision) return false;
        this.keys.delete(key);
        this.revision += 1n;
        return true;
      },
    };
  }
}

/** One node's lease keeper as the election sees it; the test moves its deadline and emits its events. */
export class FakeLease extends EventEmitter implements LeasePort {
  leaseId: string | undefined;
  deadlineMs = Number.POSITIVE_INFINITY;

  constructor(etcd: FakeEtcd) {
    super();
    this.leaseId = etcd.grant();
  }

  fenceDeadlineMs(): number {
    return this.deadlineMs;
  }

  /** The deadline passed without an ack: the lease is abandoned, as the real keeper does. */
  fence(): string {
    const id = this.leaseId ?? '';
    this.leaseId = undefined;
    this.deadlineMs = Number.NEGATIVE_INFINITY;
    this.emit('fence', id);
    return id;
  }

  /** A new lease was granted (after 'lost'). */
  renew(etcd: FakeEtcd): void {
    this.leaseId = etcd.grant();
    this.deadlineMs = Number.POSITIVE_INFINITY;
    this.emit('renewed');
  }
}
