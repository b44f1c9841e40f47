/**
 * The masters' self-fence (src/core/fence/self-fence.ts for what it is and why): armed for an
 * instance just before it adds its VIPs as a new master, disarmed once they are removed, so the
 * fence exists exactly while this node holds fenced VIPs. From then on the kernel keeps it
 * alive with each advert that leaves; if the agent dies or freezes, the VIPs go dark by
 * themselves, before a backup takes over.
 *
 * Contract:
 * - Applies are serialized, and each one writes the state wanted when it runs (the last wanted
 *   state always wins), as one nft transaction that rebuilds our table whole.
 * - `arm` never rejects and settles within `maxMs`: a fence that cannot be applied (no nft, a
 *   NIC gone) is logged at error and kept for status; the VIPs are added anyway (the VIP lease
 *   is still there), since refusing the takeover would turn a missing fence into an outage.
 * - `cleanup` (at start) removes a table an earlier agent left, whatever this config says;
 *   without nft it is silent unless an instance wants the fence.
 * Deliberately not done: per-advert work of any kind (the kernel refreshes the fence), and
 * fencing a BACKUP (it holds no VIP).
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import { fenceEnabled, fenceTimeoutMs, FENCE_ANY_BACKUP_PRIORITY, type FencedInstance } from '../core/fence/self-fence.js';
import { applyFence, removeFence } from '../adapters/nft-fence.js';

/** The kernel side (src/adapters/nft-fence.ts); a fake in unit tests. */
export interface FenceKernel {
  apply(armed: readonly FencedInstance[]): Promise<void>;
  remove(): Promise<void>;
}

export const NFT_FENCE: FenceKernel = { apply: (armed) => applyFence(armed), remove: () => removeFence() };

/** What status shows of an instance's fence. */
export interface FenceStatus {
  /** The fence is configured for this instance (self-fence and its advert interval). */
  readonly enabled: boolean;
  /** Armed: this node is master and its fence is in the kernel. */
  readonly armed: boolean;
  /** Element timeout (ms): how long after its last advert a dead master goes dark. */
  readonly timeoutMs: number;
  /** The backup priority the timeout is made for (it expires just before that backup takes over). */
  readonly backupPriority: number;
  /** Where that priority comes from: self-fence-backup-priority, peers' hellos, or any backup (254). */
  readonly backupPriorityFrom: 'config' | 'peers' | 'any';
  /** The last apply's failure, until one works again. */
  readonly error?: string;
}

/**
 * The backup priority the fence of `inst` is made for: the configured one, else `learned`
 * (from peers, when known), else any backup's (254, the safe default).
 */
export function fenceBackupPriority(inst: InstanceConfig, learned?: number): { readonly priority: number; readonly from: FenceStatus['backupPriorityFrom'] } {
  if (inst.selfFenceBackupPriority !== undefined) return { priority: inst.selfFenceBackupPriority, from: 'config' };
  if (learned !== undefined) return { priority: learned, from: 'peers' };
  return { priority: FENCE_ANY_BACKUP_PRIORITY, from: 'any' };
}

/**
 * The element timeout (ms) of `inst`'s fence for its configured backup priority (auto: 254).
 * Never longer than the timeout a learned priority gives (a lower priority waits longer), so
 * it is the shortest silence after which the VIPs may have gone dark.
 */
export function configuredFenceTimeoutMs(inst: InstanceConfig): number {
  return fenceTimeoutMs(inst.advertIntervalCs, fenceBackupPriority(inst).priority, inst.version);
}

/** The fence of `inst` (its VIP addresses, NICs, timeout for `backupPriority`). */
export function fencedInstance(inst: InstanceConfig, backupPriority = fenceBackupPriority(inst).priority): FencedInstance {
  return {
    vrid: inst.vrid, family: inst.family, interface: inst.interface, external: inst.external,
    addresses: inst.vips.map((v) => v.address), timeoutMs: fenceTimeoutMs(inst.advertIntervalCs, backupPriority, inst.version),
  };
}

export function fenceWanted(inst: InstanceConfig): boolean {
  return fenceEnabled(inst.selfFence, inst.advertIntervalCs, inst.election !== 'etcd');
}

export class SelfFence {
  private readonly armed = new Map<string, FencedInstance>();
  /** Instances whose fence is in the kernel (the last apply that included them worked). */
  private readonly applied = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private lastError: string | undefined;
  private closed = false;

  constructor(private readonly log: Logger, private readonly kernel: FenceKernel) {}

  /** Removes a fence table an earlier (killed) agent left; call after its stale VIPs are gone. */
  cleanup(instances: readonly InstanceConfig[]): Promise<void> {
    return this.enqueue(async () => {
      try {
        await this.kernel.remove();
      } catch (err) {
        if (instances.some(fenceWanted)) {
          this.lastError = `nftables unavailable: ${describe(err)}`;
          this.log.error({ err }, 'self-fence: nft cannot be run (install nftables); masters will not be fenced');
        }
      }
    });
  }

  /**
   * Becoming MASTER, before the VIPs are added: resolves once the fence including `inst` is in
   * the kernel (or failed: logged), or after `maxMs` with a warning. Immediate when the fence
   * is off for this instance.
   */
  async arm(inst: InstanceConfig, maxMs: number): Promise<void> {
    if (!fenceWanted(inst) || this.closed) return;
    this.armed.set(inst.name, fencedInstance(inst));
    const done = this.sync();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), maxMs); });
    const r = await Promise.race([done.then(() => 'done' as const), late]);
    clearTimeout(timer);
    if (r === 'late') this.log.warn({ instance: inst.name, waitedMs: maxMs }, 'self-fence not applied yet; adding the VIPs anyway');
  }

  /** The VIPs of `name` are gone (or never came): its fence goes. Resolves once applied; never rejects. */
  disarm(name: string): Promise<void> {
    if (!this.armed.delete(name)) return Promise.resolve();
    return this.sync();
  }

  /** A reload changed the instance's VIPs (same name): an armed fence follows them. */
  update(inst: InstanceConfig): Promise<void> {
    if (!this.armed.has(inst.name)) return Promise.resolve();
    if (!fenceWanted(inst)) this.armed.delete(inst.name);
    else this.armed.set(inst.name, fencedInstance(inst));
    return this.sync();
  }

  status(inst: InstanceConfig): FenceStatus {
    const armed = this.applied.has(inst.name) && this.armed.has(inst.name);
    const backup = fenceBackupPriority(inst);
    return {
      enabled: fenceWanted(inst), armed, timeoutMs: fencedInstance(inst, backup.priority).timeoutMs,
      backupPriority: backup.priority, backupPriorityFrom: backup.from,
      ...(fenceWanted(inst) && this.lastError !== undefined ? { error: this.lastError } : {}),
    };
  }

  /** Removes our table (after every instance has released its VIPs); idempotent. */
  async close(): Promise<void> {
    this.armed.clear();
    await this.sync();
    this.closed = true;
  }

  private sync(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      const wanted = [...this.armed];
      try {
        if (wanted.length === 0) await this.kernel.remove();
        else await this.kernel.apply(wanted.map(([, f]) => f));
        this.applied.clear();
        for (const [name] of wanted) this.applied.add(name);
        if (this.lastError !== undefined) this.log.info('self-fence applied again');
        this.lastError = undefined;
        this.log.debug({ instances: wanted.map(([name]) => name) }, 'self-fence applied');
      } catch (err) {
        this.lastError = `self-fence not applied: ${describe(err)}`;
        this.log.error({ err }, 'applying the self-fence failed (the VIP lease still applies)');
      }
    });
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(job, job);
    return this.chain;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
