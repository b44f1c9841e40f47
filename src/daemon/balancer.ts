/**
 * The kernel load balancer on the VIPs (issue 6): only a MASTER's virtual services are in the
 * kernel. One nftables transaction (our own `table ip haagent`) is rebuilt from every MASTER
 * instance's services with the current real-server verdicts whenever a transition or a real-server
 * health change happens; with no master instance the table is deleted. Nobody else's rules are
 * touched. Applies are serialized (the last wanted state always wins).
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import type { VirtualServiceConfig } from '../core/config/services.js';
import { buildRuleset } from '../core/lb/ruleset.js';
import type { VirtualService } from '../core/lb/types.js';
import { applyRuleset, deleteTable } from '../adapters/nft.js';
import { HealthMonitor } from './health-monitor.js';
import { TcpProxy } from './tcp-proxy.js';

interface Tracked {
  readonly inst: InstanceConfig;
  master: boolean;
  /** `${service index}/${server index}` -> up */
  readonly up: Map<string, boolean>;
  readonly monitors: HealthMonitor[];
}

export class Balancer {
  private readonly tracked = new Map<string, Tracked>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Proxy-mode services running on this node, by `vip:port`. */
  private readonly proxies = new Map<string, TcpProxy>();
  /** The last apply's outcome, for status. */
  lastError: string | undefined;
  applies = 0;

  constructor(private readonly log: Logger) {}

  private cleaned = false;

  /** Starts the real-server checks of an instance's services (no-op without services). */
  add(inst: InstanceConfig): void {
    if (inst.virtualServices.length === 0) return;
    if (!this.cleaned) {
      // Rules a killed agent left behind (like stale VIPs at start): ours only, if nft exists.
      this.cleaned = true;
      this.chain = this.chain.then(() => deleteTable().catch(() => undefined));
    }
    if (inst.virtualServices.some((s) => s.mode === 'nftables')) this.hadKernel = true;
    const t: Tracked = { inst, master: false, up: new Map(), monitors: [] };
    inst.virtualServices.forEach((svc, si) => {
      svc.realServers.forEach((rs, ri) => {
        const key = `${si}/${ri}`;
        if (rs.check === undefined) {
          t.up.set(key, true);
          return;
        }
        t.up.set(key, false); // unknown = not in rotation until the first good result
        const m = new HealthMonitor([rs.check], 100, { clock: () => performance.now(), linkState: async () => ({ up: true, running: true }) });
        m.on('result', () => {
          const v = m.verdict();
          const up = v.faults.length === 0;
          if (t.up.get(key) === up) return;
          t.up.set(key, up);
          this.log.info({ instance: inst.name, realServer: `${rs.address}:${rs.port}`, up }, `real server ${up ? 'up' : 'down'}`);
          if (t.master) this.sync();
        });
        t.monitors.push(m);
        m.start();
      });
    });
    this.tracked.set(inst.name, t);
  }

  remove(name: string): void {
    const t = this.tracked.get(name);
    if (t === undefined) return;
    for (const m of t.monitors) m.stop();
    this.tracked.delete(name);
    if (t.master) this.sync();
  }

  /** A transition: MASTER gets the rules, anything else loses them. */
  setMaster(name: string, master: boolean): void {
    const t = this.tracked.get(name);
    if (t === undefined || t.master === master) return;
    t.master = master;
    this.sync();
  }

  /** The services this node should serve now: kernel (nftables) ones and proxied ones. */
  wanted(): { services: VirtualService[]; proxied: VirtualService[]; snat: string | undefined } {
    const services: VirtualService[] = [];
    const proxied: VirtualService[] = [];
    let snat: string | undefined;
    for (const t of this.tracked.values()) {
      if (!t.master) continue;
      t.inst.virtualServices.forEach((svc: VirtualServiceConfig, si) => {
        if (svc.mode === 'nftables') snat ??= svc.snat;
        (svc.mode === 'proxy' ? proxied : services).push({
          vip: svc.vip, port: svc.port, protocol: 'tcp', scheduler: svc.scheduler,
          realServers: svc.realServers.map((rs, ri) => ({ address: rs.address, port: rs.port, weight: rs.weight, up: t.up.get(`${si}/${ri}`) === true })),
        });
      });
    }
    return { services, proxied, snat };
  }

  /** Proxies follow the wanted set: started, updated with verdicts, or stopped. */
  private syncProxies(proxied: readonly VirtualService[]): void {
    const keep = new Set<string>();
    for (const svc of proxied) {
      const key = `${svc.vip}:${svc.port}`;
      keep.add(key);
      const running = this.proxies.get(key);
      if (running !== undefined) {
        running.update(svc);
        continue;
      }
      const p = new TcpProxy(svc, this.log);
      this.proxies.set(key, p);
      void p.start();
    }
    for (const [key, p] of this.proxies) {
      if (keep.has(key)) continue;
      p.stop();
      this.proxies.delete(key);
    }
  }

  private sync(): void {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      const { services, proxied, snat } = this.wanted();
      this.syncProxies(proxied);
      if (!this.hadKernel) return;
      try {
        if (services.length === 0) await deleteTable();
        else await applyRuleset(buildRuleset(services, snat === undefined ? {} : { snatAddress: snat }));
        this.applies += 1;
        this.lastError = undefined;
        this.log.info({ services: services.map((s) => ({ vip: s.vip, port: s.port, up: s.realServers.filter((r) => r.up).length })) }, 'load balancer rules applied');
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.log.error({ err }, 'applying the load balancer rules failed');
      }
    });
  }

  /** Some instance ever had kernel-mode services (else nft is never run, not even to clean up). */
  private hadKernel = false;

  /** Stops the checks and proxies and removes our table (idempotent). */
  async close(): Promise<void> {
    for (const t of this.tracked.values()) for (const m of t.monitors) m.stop();
    for (const p of this.proxies.values()) p.stop();
    this.proxies.clear();
    this.tracked.clear();
    await this.chain;
    this.closed = true;
    if (this.hadKernel) await deleteTable().catch((err: unknown) => this.log.error({ err }, 'removing the load balancer table failed'));
  }
}
