/**
 * The running agent: wires every configured instance to the adapters (raw VRRP socket,
 * rtnetlink, AF_PACKET announcer, health checks, hooks, peer hellos), hands received adverts to
 * the intake (advert-intake.ts), serves the control requests, and owns the one idempotent
 * shutdown. The jobs around it have their own files: the heartbeat interfaces and sockets
 * (heartbeats.ts), starting and stopping one instance (bound-instance.ts), kernel link events
 * (link-events.ts), reload (agent-reload.ts), status (agent-status.ts), and the ports it is
 * built on (agent-ports.ts: real adapters in production, fakes in unit tests).
 *
 * Start order (nothing is touched before the config and the interfaces check out):
 *  0. the state directory (fencing epochs) must be private to root: an insecure one refuses the start;
 *  1. resolve every interface (must exist) and each heartbeat NIC's primary IPv4 address;
 *  2. remove our own VIPs left behind by an earlier crash (exact address/prefix only);
 *  3. open one VRRP socket per heartbeat interface, start the instances, watch netlink events.
 */
import type { Logger } from 'pino';
import { HaagentError } from '../core/errors.js';
import type { AgentConfig, InstanceConfig } from '../core/config/types.js';
import type { AgentStatus } from '../core/control/types.js';
import type { NetlinkWatcher } from '../adapters/netlink/index.js';
import { EventBus } from './event-bus.js';
import type { PeerLink } from './peer-link.js';
import { LazyBalancer } from './lazy-balancer.js';
import { SelfFence } from './self-fence.js';
import { LazyAlerter } from './lazy-alerter.js';
import { AdvertIntake } from './advert-intake.js';
import { AdvertHmac, unloadedKeys } from './advert-hmac.js';
import { productionPorts, type AgentPorts } from './agent-ports.js';
import { peerLinkFor, startInstance, stopInstance, type Bound } from './bound-instance.js';
import { Heartbeats } from './heartbeats.js';
import { onNetlinkEvent } from './link-events.js';
import { reloadAgent } from './agent-reload.js';
import { agentStatus } from './agent-status.js';
import { EtcdShared } from './etcd-shared.js';
import { VipRenewals } from './vip-renewals.js';
import { DeadlineTimers } from './deadline-timers.js';
import { isoTime } from '../adapters/iso-time.js';

export interface AgentOptions {
  readonly config: AgentConfig;
  /** Where the config came from (file path or "command-line flags"), for status. */
  readonly configSource: string;
  readonly log: Logger;
  readonly version: string;
  /** Loads the config again for a reload (same file, same flags); throws on a bad config. */
  readonly reloadConfig?: () => AgentConfig;
}

export type { AgentPorts } from './agent-ports.js';

/** How long shutdown waits for alerts under way (within the one-second shutdown bound). */
const ALERT_FLUSH_BOUND_MS = 200;

/** How long shutdown waits for the instances elected on etcd to free their keys before the lease is revoked. */
const ETCD_STOP_BOUND_MS = 300;

/** How long shutdown waits for stop hooks (the whole shutdown is bounded to one second). */
const STOP_HOOKS_BOUND_MS = 600;

export class Agent {
  private bound: Bound[] = [];
  private readonly heartbeats: Heartbeats;
  private watcher: NetlinkWatcher | undefined;
  private shuttingDown: Promise<void> | undefined;
  private readonly startedAt = isoTime();
  private config: AgentConfig;
  private configLoadedAt = isoTime();
  private reloading: Promise<string> | undefined;
  private peerLink: PeerLink | undefined;
  readonly events = new EventBus();
  private readonly balancer: LazyBalancer;
  private readonly fence: SelfFence;
  /** The VIP lease renewals of every instance, one batched request per interface. */
  private readonly renewals: VipRenewals;
  /** The protocol timers of every instance, one Node timer per distinct deadline millisecond. */
  private readonly deadlines: DeadlineTimers;
  private readonly alerter: LazyAlerter;
  private readonly intake: AdvertIntake<Bound>;
  /** The agent's boot (monotonic ms) and the instances that heard a peer since: the cold-start wait counts from there. */
  private readonly bootMs: number;
  private readonly heardPeer = new Set<string>();
  /** Promotion backoffs of instances stopped by a reload (name -> until, monotonic ms), for their restart. */
  private readonly backoffs = new Map<string, number>();

  /** The etcd client and lease shared by the instances elected on etcd. */
  private readonly etcd: EtcdShared;
  /** Unsubscribes the alerter; set only while alert targets are configured (no cost otherwise). */
  private alertSubscription: (() => void) | undefined;

  private constructor(private readonly opts: AgentOptions, private readonly ports: AgentPorts) {
    this.config = opts.config;
    this.bootMs = ports.clock();
    this.balancer = new LazyBalancer(opts.log, (ev) => this.events.publish(ev));
    this.etcd = new EtcdShared(ports.etcdClient, opts.log);
    this.renewals = new VipRenewals(ports.netlink);
    this.deadlines = ports.deadlines ?? new DeadlineTimers(ports.clock);
    this.fence = new SelfFence(opts.log, ports.fence ?? { apply: async () => undefined, retime: async () => undefined, remove: async () => undefined });
    this.alerter = new LazyAlerter(opts.config.alerts, { log: opts.log.child({ component: 'alerts' }), clock: ports.clock });
    const hmac = new AdvertHmac();
    this.intake = new AdvertIntake<Bound>({
      log: opts.log, events: this.events, clock: ports.clock, targets: () => this.bound, configured: () => this.config.instances,
      heard: (b) => b.peer.heard(), hmac,
    });
    this.heartbeats = new Heartbeats(ports, this.intake, opts.log, hmac);
    this.applyAlerts(opts.config.alerts);
    this.events.subscribeTo('transition', (ev) => {
      // Peers learn the new state and epoch at once, not at the next hello tick.
      const b = this.bound.find((x) => x.config.name === ev.instance);
      if (b !== undefined && b.config.paths.length > 0) setImmediate(() => this.peerLink?.sendNow(b.config));
    });
  }

  /** Production: the real adapters (rtnetlink, raw sockets, AF_PACKET, epoch files, probes). */
  static async start(opts: AgentOptions): Promise<Agent> {
    return Agent.create(opts, await productionPorts());
  }

  /** An agent on the given ports (fakes in unit tests); same start and failure path as start(). */
  static async create(opts: AgentOptions, ports: AgentPorts): Promise<Agent> {
    const agent = new Agent(opts, ports);
    try {
      await agent.setUp();
    } catch (err) {
      await agent.shutdown();
      throw err;
    }
    return agent;
  }

  private get log(): Logger {
    return this.opts.log;
  }

  private async setUp(): Promise<void> {
    const { netlink } = this.ports;
    // Before any address is touched: root must not write its epochs where others can plant links.
    this.ports.ensureStateDir(this.config.stateDir);
    const unloaded = unloadedKeys(this.config.instances);
    if (unloaded.length > 0) throw new HaagentError('HA_ERR_CONFIG', `HMAC key files not loaded: ${unloaded.join(', ')} (load the config with loadConfig)`);
    await this.heartbeats.resolve(this.config.instances);
    const containment = this.ports.containment();
    this.log[containment.mode === 'cgroup' ? 'info' : 'warn']({ containment: containment.mode, detail: containment.detail },
      containment.mode === 'cgroup' ? 'hooks and exec checks run in their own cgroups'
        : 'hooks and exec checks are contained by process group only: a descendant that calls setsid and is orphaned can outlive a timeout');
    for (const inst of this.config.instances) {
      for (const { cidr } of inst.vips) await netlink.removeVip(inst.external, cidr);
    }
    // A killed agent's fence, once its VIPs are gone; not awaited (the start does not wait for
    // nft), but ahead of any arm in the fence's own queue.
    void this.fence.cleanup(this.config.instances);
    this.heartbeats.open();
    // Only links and removed addresses matter here (link-events.ts); the kernel drops the
    // address-added notifications, one per VIP lease renewal, before they reach us.
    this.watcher = await netlink.watch({ addressAdded: false });
    if (this.watcher.kernelFilterError !== undefined) {
      this.log.info({ detail: this.watcher.kernelFilterError }, 'address notifications are read and dropped in JavaScript');
    }
    this.watcher.on('event', (ev) => onNetlinkEvent(ev, this.bound, { netlink, log: this.log }));
    for (const inst of this.config.instances) await this.startInstance(inst);
  }

  private async startInstance(inst: InstanceConfig): Promise<void> {
    await startInstance(inst, {
      log: this.log, events: this.events, ports: this.ports, balancer: this.balancer, fence: this.fence, heartbeats: this.heartbeats,
      stateDir: this.config.stateDir, renewals: this.renewals, deadlines: this.deadlines,
      peerLink: (i) => (this.peerLink = peerLinkFor(this.peerLink, i, { peerKey: this.config.peerKey, peerPort: this.config.peerPort, log: this.log, ports: this.ports })),
      register: (b) => { this.bound.push(b); },
      etcdFor: (i, node) => this.etcd.forInstance(i, this.config, node),
      boot: { atMs: this.bootMs, peerHeard: this.heardPeer.has(inst.name), ...this.backoffOf(inst.name) },
    });
  }

  /** The promotion backoff a reload kept for `name` (taken: given once, to its restart). */
  private backoffOf(name: string): { backoffUntilMs?: number } {
    const until = this.backoffs.get(name);
    this.backoffs.delete(name);
    return until === undefined ? {} : { backoffUntilMs: until };
  }

  private select(instance: string | undefined): Bound[] {
    if (instance === undefined) return this.bound;
    const found = this.bound.filter((b) => b.config.name === instance);
    if (found.length === 0) {
      throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `no instance named "${instance}" (have: ${this.bound.map((b) => b.config.name).join(', ')})`);
    }
    return found;
  }

  /** `haagent maintenance on|off`: a master hands over (priority 0) and the node stays BACKUP. */
  maintenance(on: boolean, instance: string | undefined): string {
    const targets = this.select(instance);
    const lines: string[] = [];
    for (const b of targets) {
      const was = b.runner.vrrpState;
      b.runner.input({ type: 'maintenance', on });
      this.events.publish({ type: 'maintenance', instance: b.config.name, on });
      this.log.info({ instance: b.config.name, on }, `maintenance ${on ? 'on' : 'off'}`);
      lines.push(`${b.config.name}: maintenance ${on ? 'on' : 'off'}${on && was === 'MASTER' ? ' (was MASTER: handing over to the peer)' : ''}`);
    }
    return lines.join('\n');
  }

  /** `haagent switchover`: every selected master hands over to the best backup. */
  switchover(instance: string | undefined): string {
    const targets = this.select(instance);
    const masters = targets.filter((b) => b.runner.vrrpState === 'MASTER');
    if (masters.length === 0) {
      throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `this node is not MASTER of ${instance === undefined ? 'any instance' : `"${instance}"`}: run switchover on the master`);
    }
    for (const b of masters) {
      b.runner.input({ type: 'switchover' });
      this.log.info({ instance: b.config.name }, 'switchover requested');
    }
    return masters.map((b) => `${b.config.name}: handing over to the peer`).join('\n');
  }

  /**
   * `haagent promote --force`: the selected instance (or the only one this node is BACKUP of)
   * takes over now, past its guards, cold-start wait and backoff, if no live master is heard.
   * Refused otherwise, with the reason (HA_ERR_INVALID_ARGUMENT).
   */
  promote(instance: string | undefined): string {
    const backups = this.select(instance).filter((b) => instance !== undefined || b.runner.vrrpState === 'BACKUP');
    if (backups.length !== 1) {
      throw new HaagentError('HA_ERR_INVALID_ARGUMENT', backups.length === 0
        ? 'this node is BACKUP of no instance: nothing to promote'
        : `several instances could be promoted (${backups.map((b) => b.config.name).join(', ')}): name one with --instance`);
    }
    const b = backups[0] as Bound;
    const refusal = b.runner.forcePromote();
    if (refusal !== undefined) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `promote refused: ${refusal}`);
    return `${b.config.name}: taking over (forced past the takeover guards)`;
  }

  /**
   * Reload (SIGHUP, `haagent reload`): see agent-reload.ts. One at a time: a reload asked for
   * while one runs gets that one's result.
   */
  reload(): Promise<string> {
    this.reloading ??= this.doReload().finally(() => { this.reloading = undefined; });
    return this.reloading;
  }

  private doReload(): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the host reads and replaces the agent's fields
    const agent = this;
    return reloadAgent({
      log: this.log, events: this.events, balancer: this.balancer, fence: this.fence, heartbeats: this.heartbeats,
      get running() { return agent.config; },
      started: this.opts.config,
      get bound() { return agent.bound; },
      set bound(list) { agent.bound = list; },
      startInstance: (inst) => this.startInstance(inst),
      stopInstance: (b) => {
        if (b.runner.peerHeard) this.heardPeer.add(b.config.name); // a restarted instance does not wait for a peer again
        const until = b.runner.backoffUntilMs;
        if (until !== null) this.backoffs.set(b.config.name, until); // nor gets its promotion backoff cut short
        return stopInstance(b, this.peerLink, this.balancer);
      },
      commit: (next) => {
        this.config = next;
        this.configLoadedAt = isoTime();
        this.applyAlerts(next.alerts);
      },
    }, this.opts.reloadConfig);
  }

  /** Takes the alert targets of `config` (start, reload); subscribes only when there are any. */
  private applyAlerts(config: AgentConfig['alerts']): void {
    this.alerter.update(config);
    if (config.targets.length > 0 && this.alertSubscription === undefined) {
      this.alertSubscription = this.events.subscribe((ev) => this.alerter.onEvent(ev));
      void this.alerter.ready().then(() => { if (this.alerter.targets.length > 0) this.log.info({ targets: this.alerter.targets }, 'alerts on'); });
    } else if (config.targets.length === 0 && this.alertSubscription !== undefined) {
      this.alertSubscription();
      this.alertSubscription = undefined;
      this.log.info('alerts off');
    }
  }

  status(): AgentStatus {
    return agentStatus({
      version: this.opts.version, startedAt: this.startedAt, configSource: this.opts.configSource, configLoadedAt: this.configLoadedAt,
      bound: this.bound, balancer: this.balancer, fence: this.fence, interfaceDrops: this.intake.interfaceDrops, peerLink: this.peerLink,
      containment: this.ports.containment(),
    });
  }

  /**
   * Idempotent: priority-0 advert from a master, VIPs removed, sockets closed. Bounded by the
   * caller (the CLI exits within one second whatever happens here).
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      for (const b of this.bound) {
        b.peer.stop(this.peerLink);
        b.health.stop();
        b.runner.input({ type: 'shutdown' });
      }
      await Promise.all(this.bound.map((b) => b.runner.drain()));
      // Elected on etcd: keys freed, then the lease revoked, alongside the stop hooks (bounded).
      const etcdDone = Promise.race([
        Promise.all(this.bound.map((b) => b.runner.stopElection())),
        new Promise((r) => setTimeout(r, ETCD_STOP_BOUND_MS)),
      ]).then(() => this.etcd.stop());
      // Let the priority-0 adverts leave before the sockets close.
      await new Promise((r) => setImmediate(r));
      // Give the stop hooks (queued by the shutdown transition) time to run; what is still
      // running when the bound is reached is killed by close().
      const until = performance.now() + STOP_HOOKS_BOUND_MS;
      while (this.bound.some((b) => b.hooks.pending() > 0) && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await etcdDone;
      for (const b of this.bound) {
        b.runner.close();
        b.announcer.close();
        b.hooks.close();
        b.conntrack?.floating.close();
      }
      await Promise.all(this.bound.map((b) => b.conntrack?.sync.stop()));
      await this.balancer.close();
      await this.fence.close(); // after every instance removed its VIPs
      this.alertSubscription?.();
      // Alerts of the shutdown itself (a master leaving) get a moment to leave, within the bound.
      await Promise.race([this.alerter.flush(), new Promise((r) => setTimeout(r, ALERT_FLUSH_BOUND_MS))]);
      this.heartbeats.close();
      this.peerLink?.close();
      this.watcher?.close();
      this.renewals.close();
      this.ports.netlink.close();
    })();
    return this.shuttingDown;
  }
}
