/**
 * The agent's load balancer, loaded (balancer.ts, the TCP proxy, the nftables rulesets) only
 * once an instance has virtual services; until then this stands in for it.
 *
 * Contract (as Balancer's, see balancer.ts, for instances without services):
 * - It tracks every instance added (config and MASTER or not). The first instance with virtual
 *   services (at add or update) starts the load; once loaded, the real balancer is given every
 *   tracked instance and its MASTER state, and gets every call from then on.
 * - Before the load, for instances without services: becomeMaster resolves at once, status is
 *   empty, and the first add removes the tables a killed agent may have left (as Balancer does,
 *   failures ignored since no service needs nft). becomeMaster of an instance whose services
 *   wait for the load waits for it, within `maxMs` like the real one's wait for its rules.
 * - A failed load is logged and published (lb-rules, ok: false) with HA_ERR_LOAD; the instances
 *   run on without their services, and the next add or update with services tries again.
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import type { VirtualServiceStatus } from '../core/control/types.js';
import type { Balancer, BalancerEvent } from './balancer.js';
import { NFT_KERNEL, removeStaleTables, type BalancerKernel } from './balancer-kernel.js';
import { balancerPart, type LazyModule } from './lazy-parts.js';
import { errorMessage } from '../core/errors.js';

/** What the agent, the instances, reload and status use of the balancer. */
export type BalancerPort = Pick<Balancer, 'add' | 'update' | 'remove' | 'setMaster' | 'becomeMaster' | 'status' | 'close'>;

export class LazyBalancer implements BalancerPort {
  private real: Balancer | undefined;
  private loading: Promise<void> | undefined;
  private readonly tracked = new Map<string, { inst: InstanceConfig; master: boolean }>();
  /** The start-up removal of stale tables, run by the first add while nothing is loaded. */
  private cleanup: Promise<void> | undefined;
  private closed = false;

  /**
   * `opts.kernel`: nftables for the cleanup and the real balancer (default: the nft command);
   * `opts.part`: where the real balancer is loaded from (default: balancer.ts). Fakes in unit tests.
   */
  constructor(
    private readonly log: Logger,
    private readonly publish: (ev: BalancerEvent) => void = () => undefined,
    private readonly opts: { readonly kernel?: BalancerKernel; readonly part?: LazyModule<{ readonly Balancer: typeof Balancer }> } = {},
  ) {}

  add(inst: InstanceConfig): void {
    if (this.real !== undefined) return this.real.add(inst);
    // A config with services from the start leaves the cleanup to the real balancer.
    if (this.cleanup === undefined && this.loading === undefined && inst.virtualServices.length === 0) {
      this.cleanup = removeStaleTables(this.opts.kernel ?? NFT_KERNEL).catch(() => undefined);
    }
    this.tracked.set(inst.name, { inst, master: false });
    this.loadFor(inst);
  }

  update(inst: InstanceConfig): void {
    if (this.real !== undefined) return this.real.update(inst);
    const t = this.tracked.get(inst.name);
    if (t === undefined) return this.add(inst);
    t.inst = inst;
    this.loadFor(inst);
  }

  remove(name: string): void {
    if (this.real !== undefined) return this.real.remove(name);
    this.tracked.delete(name);
  }

  setMaster(name: string, master: boolean): void {
    if (this.real !== undefined) return this.real.setMaster(name, master);
    const t = this.tracked.get(name);
    if (t !== undefined) t.master = master;
  }

  async becomeMaster(name: string, maxMs: number): Promise<void> {
    if (this.real === undefined) {
      this.setMaster(name, true);
      const loading = this.loading;
      if (loading === undefined || this.tracked.get(name)?.inst.virtualServices.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([loading, new Promise((r) => { timer = setTimeout(r, maxMs); })]);
      clearTimeout(timer);
      if (this.real === undefined) return; // not loaded (yet): the load hands the state over
    }
    return this.real.becomeMaster(name, maxMs);
  }

  status(name: string): VirtualServiceStatus[] {
    return this.real?.status(name) ?? [];
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.loading;
    await this.cleanup;
    await this.real?.close();
  }

  private loadFor(inst: InstanceConfig): void {
    if (inst.virtualServices.length === 0 || this.closed) return;
    this.loading ??= this.load().finally(() => { this.loading = undefined; });
  }

  private async load(): Promise<void> {
    let code: { readonly Balancer: typeof Balancer };
    try {
      code = await (this.opts.part ?? balancerPart).get();
    } catch (err) {
      const detail = errorMessage(err);
      this.log.error({ err }, `${detail}: virtual services are not served`);
      this.publish({ type: 'lb-rules', ok: false, services: 0, detail });
      return;
    }
    await this.cleanup; // its deletes must not land after the real balancer's first rules
    if (this.closed || this.real !== undefined) return;
    const real = new code.Balancer(this.log, this.publish, this.opts.kernel);
    for (const [name, t] of this.tracked) {
      real.add(t.inst);
      if (t.master) real.setMaster(name, true);
    }
    this.tracked.clear();
    this.real = real;
  }
}
