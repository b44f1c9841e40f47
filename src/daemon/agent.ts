/**
 * The running agent: wires every configured instance to the real adapters (raw VRRP socket,
 * rtnetlink, AF_PACKET announcer, health checks, hooks), hands received adverts to the intake
 * (advert-intake.ts), serves the control requests, applies reloads, and owns the one idempotent
 * shutdown.
 *
 * Start order (nothing is touched before the config and the interfaces check out):
 *  0. the state directory (fencing epochs) must be private to root: an insecure one refuses the start;
 *  1. resolve every interface (must exist) and each heartbeat NIC's primary IPv4 address;
 *  2. remove our own VIPs left behind by an earlier crash (exact address/prefix only);
 *  3. open one VRRP socket per heartbeat interface, start the instances, watch netlink events.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { HaagentError } from '../core/errors.js';
import type { AgentConfig, InstanceConfig } from '../core/config/types.js';
import type { AgentStatus, InstanceStatus } from '../core/control/types.js';
import { encodeAdvertisement } from '../core/packet/encode.js';
import { vipAddresses, vipCidrs } from '../core/net/address.js';
import type { Advertisement } from '../core/packet/vrrp-types.js';
import { RawVrrpSocket, VRRP_MULTICAST_V4 } from '../adapters/vrrp-socket.js';
import { Vrrp6Socket, VRRP_MULTICAST_V6 } from '../adapters/vrrp6-socket.js';
import type { VrrpTransport } from '../adapters/ports.js';
import { createNetlink, type NetlinkPort, type NetlinkWatcher } from '../adapters/netlink/index.js';
import { Announcer } from './announcer.js';
import { EventBus } from './event-bus.js';
import { HealthMonitor } from './health-monitor.js';
import { HookRunner } from './hook-runner.js';
import { sharedContainment } from '../adapters/containment.js';
import { FileEpochStore } from '../adapters/epoch-store.js';
import { ensurePrivateDir } from '../adapters/secure-dir.js';
import { InstanceRunner } from './instance-runner.js';
import { diffConfigs } from './reload-plan.js';
import { PeerLink } from './peer-link.js';
import { Balancer } from './balancer.js';
import { Alerter } from './alerter.js';
import { MismatchWatch } from './mismatch-watch.js';
import { AdvertIntake, authOf } from './advert-intake.js';
import { WitnessMonitor } from '../adapters/witness.js';
import { configFingerprint } from '../core/peer/fingerprint.js';
import { emptyPeerTable, expirePeers, maxEpochSeen, notePeer, peerExpiryMs, peersHeardSince, type PeerTable } from '../core/peer/presence.js';
import { acceptPeerEpoch, helloAsAdvert, isIsolated } from '../core/peer/rules.js';
import type { Hello } from '../core/peer/hello.js';
import { isolationCheckEveryMs, isolationSilenceMs, preExpirySilenceMs, witnessTiming } from '../core/peer/timing.js';

export interface AgentOptions {
  readonly config: AgentConfig;
  /** Where the config came from (file path or "command-line flags"), for status. */
  readonly configSource: string;
  readonly log: Logger;
  readonly version: string;
  /** Loads the config again for a reload (same file, same flags); throws on a bad config. */
  readonly reloadConfig?: () => AgentConfig;
}

const monotonicMs = (): number => performance.now();

/** How long shutdown waits for alerts under way (within the one-second shutdown bound). */
const ALERT_FLUSH_BOUND_MS = 200;

/** How long shutdown waits for stop hooks (the whole shutdown is bounded to one second). */
const STOP_HOOKS_BOUND_MS = 600;

const transportKey = (inst: { interface: string; family: 4 | 6 }): string => `${inst.family}:${inst.interface}`;

interface Bound {
  readonly runner: InstanceRunner;
  readonly announcer: Announcer;
  readonly hooks: HookRunner;
  readonly health: HealthMonitor;
  readonly config: InstanceConfig;
  readonly peer: PeerState;
}

/** What we know of our haagent peers for one instance (hellos, VRRP, witness). */
interface PeerState {
  table: PeerTable;
  /** Monotonic ms of the last accepted VRRP advert (any sender). */
  lastVrrpRxMs: number;
  /** Recomputed when a reload changes the VIP list in place. */
  fingerprint: string;
  readonly witness: WitnessMonitor | undefined;
  isolationTimer: NodeJS.Timeout | undefined;
  isolated: boolean;
  /** Peers whose fingerprint differs from ours (node -> their fingerprint), warned once each. */
  readonly mismatches: Map<string, string>;
  /** VRRP senders whose adverts we drop because their settings differ (address list, ...). */
  readonly vrrpMismatch: MismatchWatch;
}

/** Bound on waiting for the load balancer's rules before adding the VIPs as a new master. */
const BEFORE_VIPS_MAX_MS = 1000;

/** The config fingerprint sent in hellos: what two peers of one instance must agree on. */
function fingerprintOf(inst: InstanceConfig): string {
  return configFingerprint({ vrid: inst.vrid, version: inst.version, vips: inst.vips, advertIntervalCs: inst.advertIntervalCs, auth: inst.auth });
}

export class Agent {
  private bound: Bound[] = [];
  /** Keyed by transportKey(): one VRRP socket per heartbeat interface and address family. */
  private readonly sockets = new Map<string, VrrpTransport>();
  /** Source address per heartbeat interface and family: primary IPv4, or the IPv6 link-local. */
  private readonly primary = new Map<string, { address: string; ifindex: number; ifname: string; family: 4 | 6 }>();
  private watcher: NetlinkWatcher | undefined;
  private shuttingDown: Promise<void> | undefined;
  private readonly startedAt = new Date().toISOString();
  private config: AgentConfig;
  private configLoadedAt = new Date().toISOString();
  private reloading: Promise<string> | undefined;
  private peerLink: PeerLink | undefined;
  readonly events = new EventBus();
  private readonly balancer: Balancer;
  private readonly alerter: Alerter;
  private readonly intake: AdvertIntake<Bound>;
  /** Unsubscribes the alerter; set only while alert targets are configured (no cost otherwise). */
  private alertSubscription: (() => void) | undefined;

  private constructor(private readonly opts: AgentOptions, private readonly netlink: NetlinkPort) {
    this.config = opts.config;
    this.balancer = new Balancer(opts.log, (ev) => this.events.publish(ev));
    this.alerter = new Alerter(opts.config.alerts, { log: opts.log.child({ component: 'alerts' }), clock: monotonicMs });
    this.intake = new AdvertIntake<Bound>({
      log: opts.log, events: this.events, clock: monotonicMs, targets: () => this.bound,
      heard: (b) => {
        b.peer.lastVrrpRxMs = monotonicMs();
        this.evaluateIsolation(b);
      },
    });
    this.applyAlerts(opts.config.alerts);
    this.events.subscribe((ev) => {
      if (ev.type !== 'transition') return;
      // Peers learn the new state and epoch at once, not at the next hello tick.
      const b = this.bound.find((x) => x.config.name === ev.instance);
      if (b !== undefined && b.config.paths.length > 0) setImmediate(() => this.peerLink?.sendNow(b.config));
    });
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const netlink = await createNetlink();
    const agent = new Agent(opts, netlink);
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

  /** Checks interfaces and addresses of `instances` without touching anything. */
  private async resolve(instances: readonly InstanceConfig[]): Promise<void> {
    for (const [i, inst] of instances.entries()) {
      for (const [key, ifname] of [['interface', inst.interface], ['external', inst.external]] as const) {
        const link = await this.netlink.getLink(ifname).catch((cause: unknown) => {
          throw new HaagentError('HA_ERR_CONFIG', `instances[${i}].${key}: interface "${ifname}" not found on this host`, { cause });
        });
        const tkey = transportKey(inst);
        if (key !== 'interface' || this.primary.has(tkey)) continue;
        // IPv6 adverts come from the link-local address (RFC 5798 §5.1.2.1); a fresh link may
        // still be doing DAD, so wait for it a little.
        let address = inst.family === 4 ? await this.netlink.primaryIpv4(ifname) : await this.netlink.linkLocalIpv6(ifname);
        for (let tries = 0; address === undefined && inst.family === 6 && tries < 30; tries++) {
          await new Promise((r) => setTimeout(r, 100));
          address = await this.netlink.linkLocalIpv6(ifname);
        }
        if (address === undefined) {
          throw new HaagentError('HA_ERR_CONFIG', `instances[${i}].interface: "${ifname}" has no ${inst.family === 4 ? 'IPv4 address' : 'usable IPv6 link-local address'} to send adverts from`);
        }
        this.primary.set(tkey, { address, ifindex: link.ifindex, ifname, family: inst.family });
      }
    }
  }

  private openSockets(): void {
    for (const [key, p] of this.primary) {
      if (this.sockets.has(key)) continue;
      const onError = (err: Error): void => { this.log.error({ err, iface: p.ifname }, 'VRRP socket error'); };
      const sock = p.family === 4
        ? RawVrrpSocket.open(p.ifname, p.ifindex, (d) => this.intake.onDatagram(p.ifname, d), onError)
        : Vrrp6Socket.open(p.ifname, p.address, (m) => this.intake.onMessage6(p.ifname, m), onError);
      this.sockets.set(key, sock);
    }
  }

  private async setUp(): Promise<void> {
    // Before any address is touched: root must not write its epochs where others can plant links.
    ensurePrivateDir(this.config.stateDir, 'state directory');
    await this.resolve(this.config.instances);
    const containment = sharedContainment();
    this.log[containment.mode === 'cgroup' ? 'info' : 'warn']({ containment: containment.mode, detail: containment.detail },
      containment.mode === 'cgroup' ? 'hooks and exec checks run in their own cgroups'
        : 'hooks and exec checks are contained by process group only: a descendant that calls setsid and is orphaned can outlive a timeout');
    for (const inst of this.config.instances) {
      for (const { cidr } of inst.vips) await this.netlink.removeVip(inst.external, cidr);
    }
    this.openSockets();
    this.watcher = await this.netlink.watch();
    this.watcher.on('event', (ev) => {
      if (ev.type === 'link') {
        for (const b of this.bound) {
          b.health.onLink(ev.ifname, ev.up, ev.running);
          // Loss of carrier on the heartbeat link alone is not a reason to refuse the VIP
          // (direct-cable case, VRRP-NOTES.md); only the external NIC being down is FAULT.
          if (b.config.external === ev.ifname) b.runner.input({ type: 'fault', source: `interface:${ev.ifname}`, active: !ev.up || !ev.running });
          // A heartbeat link coming back may end a split brain: the other node may have taken
          // the VIP meanwhile and pointed clients at itself. A master re-announces at once.
          if (b.config.interface === ev.ifname && ev.up && ev.running && b.runner.vrrpState === 'MASTER') {
            b.announcer.announce().catch((err: unknown) => this.log.warn({ err }, 'gratuitous ARP after link up failed'));
          }
        }
      } else if (ev.type === 'address-removed') {
        for (const b of this.bound) {
          if (b.config.external !== ev.ifname || b.runner.vrrpState !== 'MASTER') continue;
          const cidr = `${ev.address}/${ev.prefixLength}`;
          if (!b.config.vips.some((v) => v.cidr === cidr)) continue;
          this.log.warn({ instance: b.config.name, vip: cidr, iface: ev.ifname }, 'VIP removed by someone else while master; re-adding it');
          this.netlink.addVip(b.config.external, cidr).catch((err: unknown) => this.log.error({ err, vip: cidr }, 're-adding VIP failed'));
        }
      }
    });
    for (const inst of this.config.instances) await this.startInstance(inst);
  }

  private async startInstance(inst: InstanceConfig): Promise<void> {
    const p = this.primary.get(transportKey(inst));
    if (p === undefined) throw new HaagentError('HA_ERR_INTERNAL', `interface ${inst.interface} was not resolved`);
    const ilog = this.log.child({ instance: inst.name, vrid: inst.vrid, iface: inst.interface });
    const announcer = new Announcer(inst.external, inst.vips, inst.garp);
    const hooks = new HookRunner(inst.hooks, { instance: inst.name, vrid: inst.vrid, vips: vipCidrs(inst.vips) }, { environment: inst.environment });
    hooks.on('result', (r) => {
      ilog[r.ok ? 'info' : 'warn']({ hook: r.hook, containment: r.containment, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, durationMs: r.durationMs, output: r.outputTail.slice(-500) }, `${r.hook} hook ${r.ok ? 'finished' : 'failed'}`);
      this.events.publish({ type: 'hook', instance: inst.name, hook: r.hook, ok: r.ok, exitCode: r.exitCode, timedOut: r.timedOut, durationMs: r.durationMs });
    });
    const health = new HealthMonitor(inst.checks, inst.priority, {
      exec: { environment: inst.environment },
      clock: monotonicMs,
      linkState: async (ifname) => {
        const l = await this.netlink.getLink(ifname);
        return { up: l.up, running: l.running };
      },
    });
    // Never throws for the file itself (a corrupt one is moved aside and reported by the runner);
    // only an insecure or uncreatable directory does, and that was checked before anything ran.
    const epochs = new FileEpochStore(this.config.stateDir, inst.name);
    // Assigned once everything exists; the runner's callbacks only run after start.
    let bound: Bound | undefined; // eslint-disable-line prefer-const -- assigned after the runner that refers to it
    const runner: InstanceRunner = new InstanceRunner(inst, p.address, {
      epochs,
      // Stricter just before taking over: a backup that heard nobody for one advert interval
      // (peers hello every interval) and reaches no witness fences itself instead.
      beforeMasterDown: () => { if (bound !== undefined) this.evaluateIsolation(bound, preExpirySilenceMs(inst.advertIntervalCs)); },
      // The load balancer's rules follow the VIPs: in before they are added, out after they are removed.
      beforeVips: () => this.balancer.becomeMaster(inst.name, BEFORE_VIPS_MAX_MS),
      afterVipsRemoved: () => this.balancer.setMaster(inst.name, false),
      clock: monotonicMs,
      log: ilog,
      sendAdvert: (priority): Promise<void> => this.sendAdvert(runner.config, p.address, priority),
      vips: this.netlink,
      announce: () => announcer.announce(),
      quiet: () => announcer.quiet(),
      hooks,
      events: this.events,
      checks: () => health.status(),
    });
    // `check` events report a check's changes (unknown/healthy/failing); every run is a
    // `check-run` (metrics' latency histogram, `haagent events --all`).
    health.on('result', (r) => {
      this.events.publish({ type: 'check-run', instance: inst.name, check: r.check, status: r.status, ok: r.result.ok, detail: r.result.detail, latencyMs: r.result.latencyMs });
    });
    health.on('change', (r) => {
      this.events.publish({ type: 'check', instance: inst.name, check: r.check, status: r.status, ok: r.result.ok, detail: r.result.detail, latencyMs: r.result.latencyMs });
    });
    health.on('verdict', (v) => {
      ilog.info({ effectivePriority: v.effectivePriority, faults: v.faults }, 'health verdict changed');
      this.events.publish({ type: 'priority', instance: inst.name, effectivePriority: v.effectivePriority, faults: v.faults });
      runner.applyHealth(v.effectivePriority, v.faults);
    });
    // The isolated master must let go before the peer takes over (its Master_Down_Interval):
    // witnesses are probed every advert interval with half an interval to answer, and peer
    // silence counts after two intervals (see isolationSilenceMs).
    const witness = inst.witness.length === 0 ? undefined : new WitnessMonitor(inst.witness, witnessTiming(inst.advertIntervalCs));
    const peer: PeerState = {
      table: emptyPeerTable({ expiryMs: peerExpiryMs(inst.advertIntervalCs) }), lastVrrpRxMs: -Infinity, witness, isolationTimer: undefined, isolated: false,
      fingerprint: fingerprintOf(inst),
      mismatches: new Map(),
      vrrpMismatch: new MismatchWatch(),
    };
    bound = { runner, announcer, hooks, health, config: inst, peer };
    this.bound.push(bound);
    this.balancer.add(inst);
    const link = await this.netlink.getLink(inst.external);
    if (!link.up || !link.running) runner.input({ type: 'fault', source: `interface:${inst.external}`, active: true });
    const enterService = (): void => {
      if (runner.vrrpState !== 'INIT') return; // stopped (shutdown, reload) while waiting
      // A check still silent counts as failing: the instance starts with its conservative verdict.
      const v = health.verdict();
      runner.applyHealth(v.effectivePriority, v.faults);
      runner.input({ type: 'start' });
    };
    if (inst.checks.length === 0) enterService();
    else {
      // A restart must page nobody: the instance stays in INIT (no adverts, no claim) until every
      // check has its first result, bounded by the longest check timeout, so a healthy node goes
      // INIT -> BACKUP, never through FAULT and its hook; a check that fails makes a real FAULT.
      void health.firstResults().then((decided) => {
        if (!decided) ilog.warn({ boundMs: health.startupBoundMs() }, 'some checks gave no first result in time; they count as failing');
        enterService();
      });
    }
    if (inst.paths.length > 0) await this.startPeers(bound, p.address);
  }

  /** Hellos on the instance's paths, the witness, and the isolation rule. */
  private async startPeers(b: Bound, vrrpAddress: string): Promise<void> {
    const key = this.config.peerKey;
    // The config refuses paths without a key; this only guards a config built some other way.
    if (key === undefined || key.length === 0) throw new HaagentError('HA_ERR_CONFIG', `instance ${b.config.name}: paths need peer-key (hellos must be authenticated)`);
    this.peerLink ??= new PeerLink({ port: this.config.peerPort, key, log: this.log, netlink: this.netlink });
    await this.peerLink.add(b.config, () => ({
      state: b.runner.vrrpState, priority: b.runner.effectivePriority, vrrpAddress,
      epoch: b.runner.epoch, fingerprint: b.peer.fingerprint,
    }), (hello, path) => this.onHello(b, hello, path, vrrpAddress));
    b.peer.witness?.on('change', () => this.evaluateIsolation(b));
    b.peer.witness?.start();
    b.peer.isolationTimer = setInterval(() => this.evaluateIsolation(b), isolationCheckEveryMs(b.config.advertIntervalCs));
  }

  /**
   * A hello from a haagent peer (decoded, authenticated, from a configured path peer): its epoch
   * must be plausible (acceptPeerEpoch) and it must not be a replay (notePeer); then presence on
   * that path, its epoch, its config fingerprint; a hello from a MASTER counts like its VRRP
   * advert (redundant heartbeats: a backup that hears the master on any path does not take over,
   * and two masters that hear each other on any path resolve by the RFC rules). A copy of a
   * hello already delivered on another path only refreshes that path. Returns the drop reason
   * for PeerLink to count, or undefined.
   */
  private onHello(b: Bound, hello: Hello, path: string, ourAddress: string): string | undefined {
    const epochOk = acceptPeerEpoch(hello.epoch, Math.max(b.runner.epoch, maxEpochSeen(b.peer.table)));
    if (!epochOk.ok) return epochOk.reason;
    const verdict = notePeer(b.peer.table, { node: hello.node, path, hello, nowMs: monotonicMs() });
    if (!verdict.accepted) return verdict.reason;
    if (!verdict.fresh) return undefined;
    b.runner.observeEpoch(hello.epoch);
    const known = b.peer.mismatches.get(hello.node);
    if (verdict.newest && hello.fingerprint !== b.peer.fingerprint && known !== hello.fingerprint) {
      b.peer.mismatches.set(hello.node, hello.fingerprint);
      this.log.warn({ instance: b.config.name, peer: hello.node, ours: b.peer.fingerprint, theirs: hello.fingerprint },
        'config mismatch with peer (VRID, VIPs, interval, version or auth differ): fix it, or both may become master');
    } else if (verdict.newest && hello.fingerprint === b.peer.fingerprint && known !== undefined) {
      b.peer.mismatches.delete(hello.node);
      this.log.info({ instance: b.config.name, peer: hello.node }, 'config now matches peer');
    }
    const advert = helloAsAdvert(hello, ourAddress);
    if (advert !== undefined) b.runner.input(advert);
    this.evaluateIsolation(b);
    return undefined;
  }

  /**
   * Isolated = no peer heard on any path (VRRP or hello) for Master_Down_Interval AND no witness
   * reachable: this node is the one cut off, so it must not hold the VIP (fault 'isolated').
   * Without witnesses the rule is off (a lone survivor must take over).
   */
  private evaluateIsolation(b: Bound, silenceMs = isolationSilenceMs(b.config.advertIntervalCs)): void {
    if (b.peer.witness === undefined) return;
    const isolated = isIsolated({
      table: b.peer.table, lastVrrpRxMs: b.peer.lastVrrpRxMs, nowMs: monotonicMs(),
      masterDownMs: silenceMs, witnessReachable: b.peer.witness.reachable(),
    });
    if (isolated === b.peer.isolated) return;
    b.peer.isolated = isolated;
    const detail = isolated ? 'isolated: no peer on any path and no witness reachable; not holding the VIP' : 'no longer isolated';
    this.log[isolated ? 'warn' : 'info']({ instance: b.config.name }, detail);
    this.events.publish({ type: 'warning', instance: b.config.name, kind: 'isolated', active: isolated, detail });
    b.runner.input({ type: 'fault', source: 'isolated', active: isolated });
  }

  /** Stops one instance cleanly: priority 0 if master, VIPs removed, hooks and checks stopped. */
  private stopPeers(b: Bound): void {
    if (b.peer.isolationTimer !== undefined) clearInterval(b.peer.isolationTimer);
    b.peer.witness?.stop();
    this.peerLink?.remove(b.config);
  }

  private async stopInstance(b: Bound): Promise<void> {
    this.stopPeers(b);
    b.health.stop();
    b.runner.input({ type: 'shutdown' });
    await b.runner.drain();
    this.balancer.remove(b.config.name); // after the VIPs are gone (their rules went with them)
    b.runner.close();
    b.announcer.close();
    b.hooks.close();
  }

  private async sendAdvert(inst: InstanceConfig, src: string, priority: number): Promise<void> {
    const advert: Advertisement = {
      version: inst.version, family: inst.family, vrid: inst.vrid, priority,
      maxAdvertIntervalCs: inst.advertIntervalCs,
      addresses: vipAddresses(inst.vips),
      ...authOf(inst),
    };
    const sock = this.sockets.get(transportKey(inst));
    if (sock === undefined) return;
    const targets = inst.peers.length > 0 ? inst.peers : [inst.family === 4 ? VRRP_MULTICAST_V4 : VRRP_MULTICAST_V6];
    for (const dst of targets) await sock.send(encodeAdvertisement(advert, { src, dst }), dst);
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
   * Reload (SIGHUP, `haagent reload`): the new config is loaded and validated first; a bad one
   * is refused and the running config stays. Unchanged instances are not touched (no transition,
   * no VIP flap); changed ones restart; removed ones leave cleanly; added ones start.
   */
  reload(): Promise<string> {
    this.reloading ??= this.doReload().finally(() => { this.reloading = undefined; });
    return this.reloading;
  }

  private async doReload(): Promise<string> {
    if (this.opts.reloadConfig === undefined) throw new HaagentError('HA_ERR_CONTROL', 'this agent has no config source to reload from');
    let next: AgentConfig;
    try {
      next = this.opts.reloadConfig();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.events.publish({ type: 'reload', ok: false, detail });
      this.log.error({ err }, 'reload refused: the running config stays');
      throw new HaagentError('HA_ERR_CONFIG', `reload refused, the running config stays: ${detail}`, { cause: err });
    }
    const plan = diffConfigs(this.config.instances, next.instances);
    await this.resolve(plan.start);
    this.openSockets();
    for (const name of plan.stop) {
      const b = this.bound.find((x) => x.config.name === name);
      if (b === undefined) continue;
      await this.stopInstance(b);
      this.bound = this.bound.filter((x) => x !== b);
    }
    for (const inst of plan.start) await this.startInstance(inst);
    for (const inst of plan.inPlace) {
      const i = this.bound.findIndex((x) => x.config.name === inst.name);
      const b = this.bound[i];
      if (b === undefined) continue;
      this.bound[i] = { ...b, config: inst };
      if (!isDeepStrictEqual(b.config.vips, inst.vips)) {
        const d = b.runner.updateVips(inst);
        b.announcer.setVips(inst.vips);
        b.hooks.setVips(vipCidrs(inst.vips));
        b.peer.fingerprint = fingerprintOf(inst); // peers compare VIP lists through it
        this.log.info({ instance: inst.name, added: d.added, removed: d.removed, state: b.runner.vrrpState }, 'VIP list changed by reload');
      }
      if (!isDeepStrictEqual(b.config.virtualServices, inst.virtualServices)) {
        this.balancer.update(inst);
        this.log.info({ instance: inst.name, services: inst.virtualServices.length, state: b.runner.vrrpState }, 'virtual services changed by reload');
      }
    }
    this.config = { ...next, socketPath: this.config.socketPath, metricsListen: this.config.metricsListen };
    this.configLoadedAt = new Date().toISOString();
    this.applyAlerts(next.alerts);
    const notes: string[] = [];
    if (next.socketPath !== this.opts.config.socketPath) notes.push('socket path changes need a restart');
    if (next.metricsListen !== this.opts.config.metricsListen) notes.push('metrics listen address changes need a restart');
    const detail = `reloaded: ${plan.unchanged.length} unchanged, ${plan.inPlace.length} updated in place (${plan.inPlace.map((i) => i.name).join(', ') || '-'}), ${plan.restart.length} restarted (${plan.restart.join(', ') || '-'}), `
      + `${plan.added.length} added (${plan.added.join(', ') || '-'}), ${plan.removed.length} removed (${plan.removed.join(', ') || '-'})`
      + (notes.length > 0 ? `; ${notes.join('; ')}` : '');
    this.events.publish({ type: 'reload', ok: true, detail });
    this.log.info({ plan }, detail);
    return detail;
  }

  private serviceStatus(b: Bound): Pick<InstanceStatus, 'services'> {
    const services = this.balancer.status(b.config.name);
    return services.length === 0 ? {} : { services };
  }

  private peerStatus(b: Bound): Pick<InstanceStatus, 'fingerprint' | 'peers' | 'isolated' | 'witness' | 'vrrpMismatches'> {
    const now = monotonicMs();
    expirePeers(b.peer.table, now);
    const mismatches = b.peer.vrrpMismatch.current(now);
    return {
      ...(mismatches.length === 0 ? {} : {
        vrrpMismatches: mismatches.map((m) => ({
          from: m.from, reason: m.reason, theirs: m.theirs, dropped: m.count, lastSeenAgoMs: Math.round(now - m.lastMs),
        })),
      }),
      fingerprint: b.peer.fingerprint,
      isolated: b.peer.isolated,
      peers: peersHeardSince(b.peer.table, -Infinity).map((e) => ({
        node: e.node, state: e.state, priority: e.priority, epoch: e.epoch, vrrpAddress: e.vrrpAddress,
        fingerprintMatch: e.fingerprint === b.peer.fingerprint,
        lastSeenAgoMs: Math.round(now - e.lastSeenMs),
        paths: Object.fromEntries(Object.entries(e.paths).map(([k, v]) => [k, Math.round(now - v)])),
      })),
      witness: b.peer.witness?.status().map((w) => ({ target: w.target, ok: w.ok ?? null, detail: w.detail })) ?? [],
    };
  }

  /** Takes the alert targets of `config` (start, reload); subscribes only when there are any. */
  private applyAlerts(config: AgentConfig['alerts']): void {
    this.alerter.update(config);
    if (config.targets.length > 0 && this.alertSubscription === undefined) {
      this.alertSubscription = this.events.subscribe((ev) => this.alerter.onEvent(ev));
      this.log.info({ targets: this.alerter.targets }, 'alerts on');
    } else if (config.targets.length === 0 && this.alertSubscription !== undefined) {
      this.alertSubscription();
      this.alertSubscription = undefined;
      this.log.info('alerts off');
    }
  }

  status(): AgentStatus {
    const containment = sharedContainment();
    return {
      pid: process.pid,
      version: this.opts.version,
      startedAt: this.startedAt,
      instances: this.bound.map((b) => ({ ...b.runner.status(), ...this.peerStatus(b), ...this.serviceStatus(b) })),
      interfaceDrops: structuredClone(this.intake.interfaceDrops),
      ...(this.peerLink === undefined ? {} : { helloDrops: this.peerLink.drops() }),
      configSource: this.opts.configSource,
      configLoadedAt: this.configLoadedAt,
      containment: { mode: containment.mode, detail: containment.detail },
    };
  }

  /**
   * Idempotent: priority-0 advert from a master, VIPs removed, sockets closed. Bounded by the
   * caller (the CLI exits within one second whatever happens here).
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      for (const b of this.bound) {
        this.stopPeers(b);
        b.health.stop();
        b.runner.input({ type: 'shutdown' });
      }
      await Promise.all(this.bound.map((b) => b.runner.drain()));
      // Let the priority-0 adverts leave before the sockets close.
      await new Promise((r) => setImmediate(r));
      // Give the stop hooks (queued by the shutdown transition) time to run; what is still
      // running when the bound is reached is killed by close().
      const until = performance.now() + STOP_HOOKS_BOUND_MS;
      while (this.bound.some((b) => b.hooks.pending() > 0) && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 10));
      }
      for (const b of this.bound) {
        b.runner.close();
        b.announcer.close();
        b.hooks.close();
      }
      await this.balancer.close();
      this.alertSubscription?.();
      // Alerts of the shutdown itself (a master leaving) get a moment to leave, within the bound.
      await Promise.race([this.alerter.flush(), new Promise((r) => setTimeout(r, ALERT_FLUSH_BOUND_MS))]);
      for (const s of this.sockets.values()) s.close();
      this.peerLink?.close();
      this.watcher?.close();
      this.netlink.close();
    })();
    return this.shuttingDown;
  }
}
