/**
 * The masters' self-fence (src/core/fence/self-fence.ts for what it is and why): armed for an
 * instance just before it adds its VIPs as a new master, disarmed once they are removed, so the
 * fence exists exactly while this node holds fenced VIPs. From then on the kernel keeps it
 * alive with each advert that leaves; if the agent dies or freezes, the VIPs go dark by
 * themselves, before a backup takes over.
 *
 * Contract:
 * - Applies are serialized, and each one writes the state wanted when it runs (the last wanted
 *   state always wins), as one nft transaction that rebuilds our table whole. So a request made
 *   while an apply is queued and not started yet shares that apply (it will see the request's
 *   state): 255 instances becoming master together cost two or three nft runs, not 255 runs
 *   each rebuilding the whole table, and likewise at stop.
 * - `arm` never rejects and settles within `maxMs`: a fence that cannot be applied (no nft, a
 *   NIC gone) is logged at error and kept for status; the VIPs are added anyway (the VIP lease
 *   is still there), since refusing the takeover would turn a missing fence into an outage.
 * - `cleanup` (at start) removes a table an earlier agent left, whatever this config says;
 *   without nft it is silent unless an instance wants the fence.
 * - `learn` (self-fence-backup-priority: auto, from the peers' hellos) changes an armed fence
 *   only when its timeout changes, and then only the refresh rules (FenceKernel.retime): the
 *   elements keep the expiry their last advert gave them, so a new timeout never extends the
 *   life of a master that has just died. If that fails (the table is not as applied), the
 *   whole fence is applied instead.
 * Deliberately not done: per-advert work of any kind (the kernel refreshes the fence), and
 * fencing a BACKUP (it holds no VIP).
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import { fenceEnabled, fenceTimeoutMs, FENCE_ANY_BACKUP_PRIORITY, type FencedInstance } from '../core/fence/self-fence.js';
import { applyFence, removeFence, retimeFence } from '../adapters/nft-fence.js';
import { errorMessage } from '../core/errors.js';

/** The kernel side (src/adapters/nft-fence.ts); a fake in unit tests. */
export interface FenceKernel {
  apply(armed: readonly FencedInstance[]): Promise<void>;
  /** New timeouts for the fence last applied (same instances); the elements keep their expiry. */
  retime(armed: readonly FencedInstance[]): Promise<void>;
  remove(): Promise<void>;
}

export const NFT_FENCE: FenceKernel = { apply: (armed) => applyFence(armed), retime: (armed) => retimeFence(armed), remove: () => removeFence() };

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
  return timeoutFor(inst, fenceBackupPriority(inst).priority);
}

/** The element timeout (ms) of `inst`'s fence made for a backup of `backupPriority`. */
function timeoutFor(inst: InstanceConfig, backupPriority: number): number {
  return fenceTimeoutMs(inst.advertIntervalCs, backupPriority, inst.version);
}

/** The fence of `inst` (its VIP addresses, NICs, timeout for `backupPriority`). */
export function fencedInstance(inst: InstanceConfig, backupPriority = fenceBackupPriority(inst).priority): FencedInstance {
  return {
    vrid: inst.vrid, family: inst.family, interface: inst.interface, external: inst.external,
    addresses: inst.vips.map((v) => v.address), timeoutMs: timeoutFor(inst, backupPriority),
  };
}

export function fenceWanted(inst: InstanceConfig): boolean {
  return fenceEnabled(inst.selfFence, inst.advertIntervalCs, inst.election !== 'etcd');
}

export class SelfFence {
  /** Armed instances: their config and the fence wanted for them now. */
  private readonly armed = new Map<string, { readonly inst: InstanceConfig; readonly fence: FencedInstance }>();
  /** Instances whose fence is in the kernel (the last apply that included them worked). */
  private readonly applied = new Set<string>();
  /** What the last successful apply or retime put in the kernel (empty: nothing, or not known). */
  private inKernel: readonly FencedInstance[] = [];
  /** Backup priority learned from peers, per instance (absent: unknown). */
  private readonly learned = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  /** The sync queued and not started yet, which later requests share (`retime` false once any of them wants a whole apply). */
  private queuedSync: { retime: boolean; readonly done: Promise<void> } | undefined;
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
          this.lastError = `nftables unavailable: ${errorMessage(err)}`;
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
    this.armed.set(inst.name, { inst, fence: this.fencedOf(inst) });
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
    else this.armed.set(inst.name, { inst, fence: this.fencedOf(inst) });
    return this.sync();
  }

  /**
   * The backups' priority of `name` as learned from its peers' hellos (undefined: unknown, the
   * fence then assumes any backup). It matters only under self-fence-backup-priority: auto. An
   * armed fence whose timeout this changes is retimed (one nft run); otherwise nothing is
   * applied. Resolves once applied; never rejects.
   */
  learn(name: string, priority: number | undefined): Promise<void> {
    if (this.learned.get(name) === priority) return Promise.resolve();
    if (priority === undefined) this.learned.delete(name);
    else this.learned.set(name, priority);
    const entry = this.armed.get(name);
    if (entry === undefined) return Promise.resolve();
    const fence = this.fencedOf(entry.inst);
    if (fence.timeoutMs === entry.fence.timeoutMs) return Promise.resolve();
    this.armed.set(name, { inst: entry.inst, fence });
    this.log.info({ instance: name, timeoutMs: fence.timeoutMs, backupPriority: priority ?? 'unknown' }, 'self-fence timeout follows the backups\' priority');
    return this.sync(true);
  }

  status(inst: InstanceConfig): FenceStatus {
    const armed = this.applied.has(inst.name) && this.armed.has(inst.name);
    const backup = fenceBackupPriority(inst, this.learned.get(inst.name));
    return {
      enabled: fenceWanted(inst), armed, timeoutMs: timeoutFor(inst, backup.priority),
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

  /** The fence of `inst` for its backup priority (configured, learned, or any). */
  private fencedOf(inst: InstanceConfig): FencedInstance {
    return fencedInstance(inst, fenceBackupPriority(inst, this.learned.get(inst.name)).priority);
  }

  /**
   * Makes the kernel's fence the wanted one. `retime`: only timeouts changed; when the kernel
   * holds the same fence but for its timeouts (same instances, NICs and VIPs, in order), just
   * the rules are rewritten (the elements keep their expiry), else (or if that fails) the whole
   * fence is applied.
   */
  private sync(retime = false): Promise<void> {
    const queued = this.queuedSync;
    if (queued !== undefined) {
      if (!retime) queued.retime = false;
      return queued.done;
    }
    const entry: { retime: boolean; done: Promise<void> } = { retime, done: Promise.resolve() };
    entry.done = this.enqueue(async () => {
      // From here on the wanted state is read: later requests need a sync of their own.
      if (this.queuedSync === entry) this.queuedSync = undefined;
      await this.write(entry.retime);
    });
    this.queuedSync = entry;
    return entry.done;
  }

  /** One sync's kernel work (see sync). Never rejects. */
  private async write(retime: boolean): Promise<void> {
    if (this.closed) return;
    const wanted = [...this.armed];
    const fences = wanted.map(([, a]) => a.fence);
    const before = this.inKernel;
    this.inKernel = [];
    try {
      if (wanted.length === 0) await this.kernel.remove();
      else if (retime && sameButTimeouts(before, fences)) {
        await this.kernel.retime(fences).catch(async (err: unknown) => {
          this.log.warn({ err }, 'self-fence: the new timeout could not be set alone; applying the whole fence');
          await this.kernel.apply(fences);
        });
      } else await this.kernel.apply(fences);
      this.inKernel = fences;
      this.applied.clear();
      for (const [name] of wanted) this.applied.add(name);
      if (this.lastError !== undefined) this.log.info('self-fence applied again');
      this.lastError = undefined;
      this.log.debug({ instances: wanted.map(([name]) => name) }, 'self-fence applied');
    } catch (err) {
      this.lastError = `self-fence not applied: ${errorMessage(err)}`;
      this.log.error({ err }, 'applying the self-fence failed (the VIP lease still applies)');
    }
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(job, job);
    return this.chain;
  }
}

/** Whether `a` and `b` are the same fence (instances, NICs, VIPs, in order) but for their timeouts. */
function sameButTimeouts(a: readonly FencedInstance[], b: readonly FencedInstance[]): boolean {
  const key = (f: FencedInstance): string => JSON.stringify([f.vrid, f.family, f.interface, f.external, f.addresses]);
  return a.length > 0 && a.length === b.length && a.every((f, i) => key(f) === key(b[i] as FencedInstance));
}

