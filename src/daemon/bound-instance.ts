/**
 * One configured instance bound to its parts: the runner around the state machine, the
 * announcer, hooks, health checks and the peer wiring; how such an instance is started (wired
 * to the agent's shared parts) and stopped cleanly.
 */
import { vipCidrs } from '../core/net/address.js';
import type { Logger } from 'pino';
import { HaagentError } from '../core/errors.js';
import type { GuardConfig, InstanceConfig } from '../core/config/types.js';
import type { AgentPorts, AnnouncerPort } from './agent-ports.js';
import type { BalancerPort } from './lazy-balancer.js';
import type { SelfFence } from './self-fence.js';
import type { EventBus } from './event-bus.js';
import { HealthMonitor } from './health-monitor.js';
import type { Heartbeats } from './heartbeats.js';
import { HookRunner } from './hook-runner.js';
import { InstancePeers } from './instance-peers.js';
import { InstanceRunner } from './instance-runner.js';
import type { PeerLink } from './peer-link.js';
import type { AdvertTrainPort, InstanceDeps } from './instance-ports.js';
import type { ConntrackSync } from './conntrack-sync.js';
import type { FloatingAddress } from './floating-address.js';
import { conntrackPart, guardsPart, instanceParts, loadedPart, peerLinkPart } from './lazy-parts.js';
import type { DeadlineTimers } from './deadline-timers.js';
import type { VipRenewals } from './vip-renewals.js';

export interface Bound {
  readonly runner: InstanceRunner;
  readonly announcer: AnnouncerPort;
  readonly hooks: HookRunner;
  readonly health: HealthMonitor;
  readonly config: InstanceConfig;
  /** The instance's peer guard wiring (hellos, VRRP heard, witness, isolation). */
  readonly peer: InstancePeers;
  /** The instance's conntrackd and floating SNAT address, with `conntrack-sync`. */
  readonly conntrack?: { readonly sync: ConntrackSync; readonly floating: FloatingAddress };
}

/** Bound on waiting for the load balancer's rules before adding the VIPs as a new master. */
const BEFORE_VIPS_MAX_MS = 1000;

/** What starting an instance needs of the agent. */
export interface StartDeps {
  readonly log: Logger;
  readonly events: EventBus;
  readonly ports: AgentPorts;
  readonly balancer: BalancerPort;
  readonly fence: SelfFence;
  readonly heartbeats: Heartbeats;
  readonly stateDir: string;
  /** The agent's VIP lease renewal batcher, shared by every instance; absent = per-VIP renewals. */
  readonly renewals?: Pick<VipRenewals, 'submit' | 'withdraw'>;
  /** The agent's protocol timers, shared by every instance. */
  readonly deadlines: DeadlineTimers;
  /** The peer link shared by the instances with paths; created by the first one that needs it. */
  peerLink(inst: InstanceConfig): PeerLink;
  /** Makes the instance known to the agent (adverts, status) as soon as it exists. */
  register(b: Bound): void;
  /**
   * Since the agent's boot: when it began (monotonic ms) and whether this instance (an earlier
   * runner of it, before a reload) heard a peer. The cold-start wait counts from there. And
   * the promotion backoff that earlier runner still had running (monotonic ms), if any.
   */
  readonly boot?: { readonly atMs: number; readonly peerHeard: boolean; readonly backoffUntilMs?: number };
  /** The etcd ports of an instance elected on etcd (undefined for plain VRRP); `node` is this node's id. */
  readonly etcdFor?: (inst: InstanceConfig, node: string) => InstanceDeps['etcd'];
}

/** The shared peer link, created on first use with the config's peer key and port. */
export function peerLinkFor(existing: PeerLink | undefined, inst: InstanceConfig, opts: {
  readonly peerKey: string | undefined; readonly peerPort: number; readonly log: Logger; readonly ports: AgentPorts;
}): PeerLink {
  // The config refuses paths without a key; this only guards a config built some other way.
  if (opts.peerKey === undefined || opts.peerKey.length === 0) throw new HaagentError('HA_ERR_CONFIG', `instance ${inst.name}: paths need peer-key (hellos must be authenticated)`);
  return existing ?? new (loadedPart(peerLinkPart)).PeerLink({ port: opts.peerPort, key: opts.peerKey, log: opts.log, netlink: opts.ports.netlink });
}

/**
 * Starts `inst`: registers it, puts it in FAULT while its external NIC is down, enters service
 * once its checks have a first result, and starts its peers when it has paths.
 */
export async function startInstance(inst: InstanceConfig, deps: StartDeps): Promise<Bound> {
  const { ports, events, balancer } = deps;
  // The optional parts this instance uses (etcd client, witness, conntrack sync, guards, peer
  // link), loaded before anything of it exists; read below and by the ports with loadedPart.
  await instanceParts(inst);
  const conntrackCode = inst.conntrackSync === undefined ? undefined : loadedPart(conntrackPart);
  const GuardRunner = guardsOf(inst).length === 0 ? undefined : loadedPart(guardsPart).GuardRunner;
  const p = deps.heartbeats.sourceOf(inst);
  const ilog = deps.log.child({ instance: inst.name, vrid: inst.vrid, iface: inst.interface });
  const announcer = ports.announcer(inst);
  const hooks = new HookRunner(inst.hooks, { instance: inst.name, vrid: inst.vrid, vips: vipCidrs(inst.vips) }, { environment: inst.environment });
  hooks.on('result', (r) => {
    ilog[r.ok ? 'info' : 'warn']({ hook: r.hook, containment: r.containment, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, durationMs: r.durationMs, output: r.outputTail.slice(-500) }, `${r.hook} hook ${r.ok ? 'finished' : 'failed'}`);
    events.publish({ type: 'hook', instance: inst.name, hook: r.hook, ok: r.ok, exitCode: r.exitCode, timedOut: r.timedOut, durationMs: r.durationMs });
  });
  const health = new HealthMonitor(inst.checks, inst.priority, {
    exec: { environment: inst.environment },
    clock: ports.clock,
    linkState: async (ifname) => {
      const l = await ports.netlink.getLink(ifname);
      return { up: l.up, running: l.running };
    },
  });
  // Never throws for the file itself (a corrupt one is moved aside and reported by the runner);
  // only an insecure or uncreatable directory does, and that was checked before anything ran.
  // Elected on etcd: the epoch is the leader key's create revision, not the epoch file's.
  const etcd = deps.etcdFor?.(inst, p.address);
  const epochs = etcd?.epochs ?? ports.epochStore(deps.stateDir, inst.name);
  // Assigned once everything exists; the runner's callbacks only run after start.
  let peer: InstancePeers | undefined; // eslint-disable-line prefer-const -- assigned after the runner that refers to it
  // conntrack-sync: the peer's connections are committed before the rules, the floating SNAT
  // address goes in after them, just before the VIPs; on leaving MASTER it goes with the VIPs,
  // before the rules, and conntrackd is told after both.
  const conntrack = inst.conntrackSync === undefined || conntrackCode === undefined ? undefined : {
    sync: new conntrackCode.ConntrackSync(inst, { stateDir: deps.stateDir, log: ilog, publish: (ev) => events.publish(ev), isMaster: () => runner.vrrpState === 'MASTER', services: () => runner.config.virtualServices }),
    floating: conntrackCode.floatingAddress(inst, inst.conntrackSync, ports, ilog),
  };
  const trainId = deps.heartbeats.trainId();
  const runner: InstanceRunner = new InstanceRunner(inst, p.address, {
    epochs,
    ...(etcd === undefined ? {} : { etcd }),
    // Stricter just before taking over: a backup that heard nobody for one advert interval
    // (peers hello every interval) and reaches no witness fences itself instead.
    beforeMasterDown: () => peer?.beforeMasterDown(),
    // With paths, a master's hello leaves right after each periodic advert, not on a timer of its own.
    afterMasterAdvert: () => peer?.masterAdvertSent(),
    // The load balancer's rules follow the VIPs: in before they are added, out after they are removed.
    // The self-fence is armed at the same moment but NOT awaited: an nft run before the VIPs
    // would lengthen every takeover, and until it is in place there is simply no fence yet.
    beforeVips: async () => {
      void deps.fence.arm(runner.config, BEFORE_VIPS_MAX_MS);
      await conntrack?.sync.takeover();
      await balancer.becomeMaster(inst.name, BEFORE_VIPS_MAX_MS);
    },
    afterVipsRemoved: () => {
      balancer.setMaster(inst.name, false);
      void deps.fence.disarm(inst.name);
      conntrack?.sync.demote();
    },
    // Before the VIPs and with them (the runner's queue), so no node holds it without its NAT.
    ...(inst.conntrackSync === undefined ? {} : { floating: [{ ifname: inst.conntrackSync.snatInterface, cidr: inst.conntrackSync.snat.cidr }] }),
    clock: ports.clock,
    log: ilog,
    sendAdvert: (priority): Promise<void> => deps.heartbeats.sendAdvert(runner.config, p.address, priority),
    ...(trainId === undefined ? {} : { advertTrain: advertTrainPort(deps.heartbeats, () => runner.config, p.address, trainId) }),
    vips: ports.netlink,
    ...(deps.renewals === undefined ? {} : { renewals: deps.renewals }),
    deadlines: deps.deadlines,
    announce: async () => { await Promise.all([announcer.announce(), conntrack?.floating.announce()]); },
    quiet: () => { announcer.quiet(); conntrack?.floating.quiet(); },
    hooks,
    events,
    checks: () => health.status(),
    // Takeover guards run like hooks (contained, minimal environment), all at once.
    ...(GuardRunner === undefined ? {} : { guards: new GuardRunner(guardsOf(inst), { environment: inst.environment }) }),
  });
  // `check` events report a check's changes (unknown/healthy/failing); every run is a
  // `check-run` (metrics' latency histogram, `haagent events --all`).
  health.on('result', (r) => {
    events.publish({ type: 'check-run', instance: inst.name, check: r.check, status: r.status, ok: r.result.ok, detail: r.result.detail, latencyMs: r.result.latencyMs });
  });
  health.on('change', (r) => {
    events.publish({ type: 'check', instance: inst.name, check: r.check, status: r.status, ok: r.result.ok, detail: r.result.detail, latencyMs: r.result.latencyMs });
  });
  health.on('verdict', (v) => {
    ilog.info({ effectivePriority: v.effectivePriority, faults: v.faults }, 'health verdict changed');
    events.publish({ type: 'priority', instance: inst.name, effectivePriority: v.effectivePriority, faults: v.faults });
    runner.applyHealth(v.effectivePriority, v.faults);
  });
  peer = new InstancePeers(inst, {
    log: deps.log, events, clock: ports.clock, runner, witness: ports.witness(inst),
    // self-fence-backup-priority: auto learns the backups' priority from their hellos.
    onBackupPriority: (priority) => { void deps.fence.learn(inst.name, priority); },
  });
  const bound: Bound = { runner, announcer, hooks, health, config: inst, peer, ...(conntrack === undefined ? {} : { conntrack }) };
  deps.register(bound);
  balancer.add(inst);
  runner.startElection();
  if (conntrack !== undefined) {
    await conntrack.floating.remove(); // left by a killed agent, like stale VIPs
    await conntrack.sync.start();
  }
  const link = await ports.netlink.getLink(inst.external);
  if (!link.up || !link.running) runner.input({ type: 'fault', source: `interface:${inst.external}`, active: true });
  const enterService = (): void => {
    if (runner.vrrpState !== 'INIT') return; // stopped (shutdown, reload) while waiting
    // A check still silent counts as failing: the instance starts with its conservative verdict.
    const v = health.verdict();
    runner.applyHealth(v.effectivePriority, v.faults);
    if (deps.boot?.peerHeard === true) runner.input({ type: 'peer-heard' });
    runner.input(deps.boot === undefined ? { type: 'start' } : {
      type: 'start', coldStartFromMs: deps.boot.atMs,
      ...(deps.boot.backoffUntilMs === undefined ? {} : { backoffUntilMs: deps.boot.backoffUntilMs }),
    });
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
  // Hellos on the instance's paths (one peer link shared by the instances), the witness, and the isolation rule.
  if (inst.paths.length > 0) await peer.start(deps.peerLink(inst), p.address);
  return bound;
}

/**
 * The advert train of the instance whose config `config` reads, sending from `src`: none while
 * it has paths (the master's hello leaves with each advert the runner sends, so each one must be).
 */
function advertTrainPort(heartbeats: Heartbeats, config: () => InstanceConfig, src: string, id: number): AdvertTrainPort {
  return {
    schedule: (priority, plan) => {
      const inst = config();
      if (inst.paths.length > 0) return undefined;
      return heartbeats.repeatAdvert(inst, src, priority, id, plan);
    },
    report: (stop) => heartbeats.trainReport(config(), id, stop),
    close: () => heartbeats.releaseTrainId(config(), id),
  };
}

function guardsOf(inst: InstanceConfig): readonly GuardConfig[] {
  return inst.takeover?.guards ?? [];
}

/** Stops one instance cleanly: priority 0 if master, VIPs removed, hooks and checks stopped. */
export async function stopInstance(b: Bound, peerLink: PeerLink | undefined, balancer: BalancerPort): Promise<void> {
  b.peer.stop(peerLink);
  b.health.stop();
  b.runner.input({ type: 'shutdown' });
  await b.runner.drain();
  balancer.remove(b.config.name); // after the VIPs are gone (their rules went with them)
  await b.runner.stopElection();
  await b.conntrack?.sync.stop();
  b.conntrack?.floating.close();
  b.runner.close();
  b.announcer.close();
  b.hooks.close();
}
