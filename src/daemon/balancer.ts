/**
 * The load balancer on the VIPs: only a MASTER's virtual services are served. One
 * nftables transaction (our own `table inet haagent`) is rebuilt from every MASTER instance's
 * kernel-mode services with the current real-server verdicts whenever a transition, a
 * real-server health change or a reload happens; with no master instance the table is deleted.
 * Proxy-mode services run a TcpProxy on the master instead. Nobody else's rules are touched.
 * Applies are serialized (the last wanted state always wins).
 *
 * Real servers are identified by service (vip, port) and server (address, port): a reload that
 * keeps a server keeps its verdict (and, with the same check, its running check), so a live
 * update never takes a healthy server out of the rotation. A verdict changes only on a decided
 * check status (healthy or failing), never on "unknown": a new checked server starts out of
 * the rotation, a kept one whose check changed stays where it was until the new check decides.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { InstanceConfig, RealServerConfig, VirtualServiceConfig } from '../core/config/types.js';
import type { RealServerStatus, VirtualServiceStatus } from '../core/control/types.js';
import { buildRuleset } from '../core/lb/ruleset.js';
import { serviceName } from '../core/lb/name.js';
import { hostPort } from '../core/packet/ip.js';
import { NFT_KERNEL, removeStaleTables, type BalancerKernel } from './balancer-kernel.js';
import type { EventBus } from './event-bus.js';
import { HealthMonitor } from './health-monitor.js';
import { TcpProxy } from './tcp-proxy.js';
import { errorMessage } from '../core/errors.js';

export type { BalancerKernel } from './balancer-kernel.js';

/** The events the balancer publishes (the bus stamps `at`). */
export type BalancerEvent = Extract<Parameters<EventBus['publish']>[0], { type: 'real-server' | 'lb-rules' }>;

/** One real server of one service, with its check (absent: always up) and verdict. */
interface ServerState {
  /** Replaced in place by a reload that keeps the server (weight may change). */
  config: RealServerConfig;
  /** Unknown counts as down: a checked server joins the rotation on its first good result. */
  up: boolean;
  readonly monitor: HealthMonitor | undefined;
}

/** Services to serve and their real servers' verdicts, index for index (UpFlags). */
interface Served {
  readonly services: VirtualServiceConfig[];
  readonly up: boolean[][];
}

interface Tracked {
  inst: InstanceConfig;
  master: boolean;
  /** Per service of inst.virtualServices (same order): its servers' states, in config order. */
  servers: ServerState[][];
}

function serverKey(svc: VirtualServiceConfig, rs: RealServerConfig): string {
  return `${hostPort(svc.vip, svc.port)}>${hostPort(rs.address, rs.port)}`;
}

export class Balancer {
  private readonly tracked = new Map<string, Tracked>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private cleaned = false;
  /** Some instance ever had kernel-mode services (else nft is never run, not even to clean up). */
  private hadKernel = false;
  /** Proxy-mode services running on this node, by `vip:port`. */
  private readonly proxies = new Map<string, TcpProxy>();
  /** The last kernel apply's failure (undefined after a success), for status. */
  private lastError: string | undefined;

  /** `publish`: where real-server and lb-rules events go (the agent's event bus). */
  constructor(
    private readonly log: Logger,
    private readonly publish: (ev: BalancerEvent) => void = () => undefined,
    private readonly kernel: BalancerKernel = NFT_KERNEL,
  ) {}

  /**
   * Starts tracking an instance (every instance, so a reload may give it services later): its
   * real-server checks run from now on.
   */
  add(inst: InstanceConfig): void {
    this.noteKernel(inst);
    const t: Tracked = { inst, master: false, servers: [] };
    t.servers = this.serverStates(t, inst, new Map());
    this.tracked.set(inst.name, t);
  }

  /**
   * A reload changed the instance's virtual services (nothing else that needs a restart): the
   * new set is served at once, without a transition. Kept servers keep their verdict (see the
   * module comment); new checked servers start down until their first good result.
   */
  update(inst: InstanceConfig): void {
    const t = this.tracked.get(inst.name);
    if (t === undefined) {
      this.add(inst);
      return;
    }
    this.noteKernel(inst);
    const old = new Map<string, ServerState>();
    t.inst.virtualServices.forEach((svc, si) => svc.realServers.forEach((rs, ri) => {
      const s = t.servers[si]?.[ri];
      if (s !== undefined) old.set(serverKey(svc, rs), s);
    }));
    const next = this.serverStates(t, inst, old);
    for (const s of old.values()) s.monitor?.stop(); // what serverStates did not take over
    t.inst = inst;
    t.servers = next;
    if (t.master) this.sync();
  }

  remove(name: string): void {
    const t = this.tracked.get(name);
    if (t === undefined) return;
    for (const s of t.servers.flat()) s.monitor?.stop();
    this.tracked.delete(name);
    if (t.master) this.sync();
  }

  /** A transition: MASTER gets the rules, anything else loses them. */
  setMaster(name: string, master: boolean): void {
    const t = this.tracked.get(name);
    if (t === undefined || t.master === master) return;
    t.master = master;
    if (t.inst.virtualServices.length > 0) this.sync();
  }

  /**
   * Becoming MASTER, before the VIPs are added: resolves once the rules that include this
   * instance's services are applied (or failed: reported as usual), or after `maxMs` with a
   * warning, so a hung nft delays the VIPs by at most that. Immediate without services.
   */
  async becomeMaster(name: string, maxMs: number): Promise<void> {
    this.setMaster(name, true);
    if (this.tracked.get(name)?.inst.virtualServices.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), maxMs); });
    const r = await Promise.race([this.chain.then(() => 'done' as const), late]);
    clearTimeout(timer);
    if (r === 'late') this.log.warn({ instance: name, waitedMs: maxMs }, 'load balancer rules not applied yet; adding the VIPs anyway');
  }

  /** The instance's services and real-server verdicts, for status (empty when it has none). */
  status(name: string): VirtualServiceStatus[] {
    const t = this.tracked.get(name);
    if (t === undefined) return [];
    return t.inst.virtualServices.map((svc, si) => {
      const proxy = svc.mode === 'proxy' ? this.proxies.get(hostPort(svc.vip, svc.port)) : undefined;
      const realServers = svc.realServers.map((rs, ri): RealServerStatus => {
        const s = t.servers[si]?.[ri];
        const check = s?.monitor?.status()[0];
        return {
          address: rs.address, port: rs.port, weight: rs.weight, up: s?.up === true,
          check: check === undefined ? null : { type: check.type, status: check.status, detail: check.lastResult?.detail ?? null },
        };
      });
      // A backup shows a kernel it could not use at start: it could not serve after a takeover.
      const error = svc.mode === 'proxy' ? (t.master ? proxy?.error : undefined) : t.master ? this.lastError : this.kernelProblem;
      return {
        vip: svc.vip, port: svc.port, protocol: svc.protocol, mode: svc.mode, scheduler: svc.scheduler,
        active: t.master, realServers, ...(error !== undefined ? { error } : {}),
      };
    });
  }

  private noteKernel(inst: InstanceConfig): void {
    if (!this.cleaned) {
      // Rules a killed agent left behind (like stale VIPs at start), whatever this config says:
      // a stale DNAT would keep capturing the VIP's traffic. Ours only; skipped without nft.
      this.cleaned = true;
      this.chain = this.chain.then(async () => {
        try {
          await removeStaleTables(this.kernel);
        } catch (err) {
          // No nft (or no permission): only a problem for nftables-mode services, said at once.
          this.kernelProblem = `nftables unavailable on this host: ${errorMessage(err)}`;
          if (this.hadKernel) this.log.error({ err }, `${this.kernelProblem}; nftables-mode services cannot be served (install nftables, or use mode: proxy)`);
        }
      });
    }
    if (inst.virtualServices.some((s) => s.mode === 'nftables')) this.hadKernel = true;
  }

  /** Why the start-up cleanup could not run nft; cleared by the first successful apply. */
  private kernelProblem: string | undefined;

  /** States for inst's servers: taken from `old` when the server and its check are unchanged (and removed from it). */
  private serverStates(t: Tracked, inst: InstanceConfig, old: Map<string, ServerState>): ServerState[][] {
    return inst.virtualServices.map((svc) => svc.realServers.map((rs) => {
      const key = serverKey(svc, rs);
      const prev = old.get(key);
      if (prev === undefined) return this.newServer(t, inst.name, key, svc, rs, false);
      old.delete(key);
      if (isDeepStrictEqual(prev.config.check, rs.check)) {
        prev.config = rs;
        return prev;
      }
      prev.monitor?.stop();
      return this.newServer(t, inst.name, key, svc, rs, prev.up); // same server, new check: keep its verdict until decided
    }));
  }

  /** `up`: the verdict until the check decides (false for a new server). */
  private newServer(t: Tracked, instance: string, key: string, svc: VirtualServiceConfig, rs: RealServerConfig, up: boolean): ServerState {
    if (rs.check === undefined) return { config: rs, up: true, monitor: undefined };
    const monitor = new HealthMonitor([rs.check], 100, { clock: () => performance.now(), linkState: async () => ({ up: true, running: true }) });
    const state: ServerState = { config: rs, up, monitor };
    monitor.on('result', (r) => {
      if (r.status === 'unknown') return; // not decided yet (rise/fall not reached)
      const up = r.status === 'healthy';
      if (state.up === up) return;
      state.up = up;
      this.log.info({ instance, realServer: key, up }, `real server ${up ? 'up' : 'down'}`);
      this.publish({ type: 'real-server', instance, service: serviceName(svc), server: hostPort(rs.address, rs.port), up });
      if (t.master) this.sync();
    });
    monitor.start();
    return state;
  }

  /**
   * The services this node should serve now, kernel (nftables) ones and proxied ones, each with
   * its real servers' current verdicts (`up[i][j]` for `services[i].realServers[j]`).
   */
  private wanted(): { kernel: Served; proxied: Served } {
    const kernel: Served = { services: [], up: [] };
    const proxied: Served = { services: [], up: [] };
    for (const t of this.tracked.values()) {
      if (!t.master) continue;
      t.inst.virtualServices.forEach((svc, si) => {
        const into = svc.mode === 'proxy' ? proxied : kernel;
        into.services.push(svc);
        into.up.push(svc.realServers.map((_, ri) => t.servers[si]?.[ri]?.up === true));
      });
    }
    return { kernel, proxied };
  }

  /** Proxies follow the wanted set: started, updated with verdicts, or stopped. */
  private syncProxies(proxied: Served): void {
    const keep = new Set<string>();
    for (const [i, svc] of proxied.services.entries()) {
      const up = proxied.up[i] ?? [];
      const key = hostPort(svc.vip, svc.port);
      keep.add(key);
      const running = this.proxies.get(key);
      if (running !== undefined) {
        running.update(svc, up);
        continue;
      }
      const p = new TcpProxy(svc, up, this.log);
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
      const { kernel, proxied } = this.wanted();
      const { services } = kernel;
      this.syncProxies(proxied);
      if (!this.hadKernel) return;
      try {
        if (services.length === 0) await this.kernel.deleteTable();
        else await this.kernel.applyRuleset(buildRuleset(services, kernel.up));
        this.lastError = undefined;
        this.kernelProblem = undefined;
        const up = kernel.up.map((flags) => flags.filter((u) => u).length);
        const summary = services.map((s, i) => `${serviceName(s)} ${up[i] ?? 0}/${s.realServers.length} up`);
        this.log.info({ services: services.map((s, i) => ({ vip: s.vip, port: s.port, up: up[i] ?? 0 })) }, 'load balancer rules applied');
        this.publish({ type: 'lb-rules', ok: true, services: services.length, detail: summary.length === 0 ? 'no master instance: table removed' : summary.join(', ') });
      } catch (err) {
        this.lastError = `nftables rules not applied: ${errorMessage(err)}`;
        this.log.error({ err }, 'applying the load balancer rules failed');
        this.publish({ type: 'lb-rules', ok: false, services: services.length, detail: this.lastError });
      }
    });
  }

  /** Stops the checks and proxies and removes our table (idempotent). */
  async close(): Promise<void> {
    for (const t of this.tracked.values()) for (const s of t.servers.flat()) s.monitor?.stop();
    for (const p of this.proxies.values()) p.stop();
    this.proxies.clear();
    this.tracked.clear();
    await this.chain;
    this.closed = true;
    if (this.hadKernel) await this.kernel.deleteTable().catch((err: unknown) => this.log.error({ err }, 'removing the load balancer table failed'));
  }
}
