/**
 * Every haagent_ metric, declared once: name, HELP text, type, labels and how its value is read
 * from a status() snapshot or from an AgentEvent. src/daemon/metric-registry.ts turns this list
 * into prom-client metrics, in this order (which is the order of the exposition).
 *
 * Metrics (all labels are strings; `vrid` is the decimal VRID):
 *
 *   haagent_instance_state{instance,vrid,state}            gauge    1 for the instance's current
 *       state, 0 for each other state (INIT, BACKUP, MASTER, FAULT, STOPPED). From status().
 *   haagent_priority{instance,vrid}                        gauge    configured priority (1..255).
 *   haagent_effective_priority{instance,vrid}              gauge    priority after health checks
 *       and tracking (what the instance advertises; 0 while stopping).
 *   haagent_faults{instance}                               gauge    number of active fault
 *       sources (interface down, failing checks...); > 0 means the instance is in FAULT or soon.
 *   haagent_config_mismatch{instance}                      gauge    peers with other settings.
 *   haagent_isolated{instance}                             gauge    1 when no peer and no witness.
 *   haagent_epoch{instance}                                gauge    fencing epoch last taken.
 *   haagent_epoch_persisted{instance}                      gauge    1 when the fencing epoch held
 *       is on disk, 0 while its write is failing (the node runs on the epoch in memory and retries).
 *   haagent_epoch_state_error{instance}                    gauge    1 while status() reports an
 *       epoch file problem (failing write, corrupt file found at start, epoch bound), else 0.
 *   haagent_adverts_sent_total{instance,vrid}              counter  advertisements sent.
 *   haagent_adverts_received_total{instance,vrid}          counter  advertisements received
 *       and accepted for the instance.
 *   haagent_drops_total{instance,reason}                   counter  packets dropped by an
 *       instance, by rejection reason.
 *   haagent_interface_drops_total{iface,reason}            counter  packets dropped before any
 *       instance was chosen (bad header, checksum, unknown VRID), per interface.
 *   haagent_hello_drops_total{reason}                      counter  peer hellos dropped (status()
 *       `helloDrops`: hello-unknown-source, hello-bad-mac, hello-replay, hello-epoch-jump...).
 *       The five counters above follow the status() counters: each scrape adds the increase
 *       since the previous scrape; a status counter that went down (instance re-created by a
 *       reload) counts as a reset, so the exported counter stays monotonic. Series of instances
 *       or interfaces no longer in status() are removed.
 *   haagent_transitions_total{instance,from,to}            counter  state transitions ('transition'
 *       events).
 *   haagent_check_up{instance,check}                       gauge    1 healthy, 0 failing or unknown
 *       (last 'check-run' event, which the agent publishes for every result, a status change
 *       included; where status() instances carry `checks`, those win at scrape and checks or
 *       instances no longer in status() are removed).
 *   haagent_real_server_up{instance,service,server}         gauge    1 in the load balancer's rotation,
 *       0 out (status() `services`; service = vip:port/tcp, server = addr:port, IPv6 bracketed).
 *       A backup checks its real servers too (so it is ready at takeover) and reports them here,
 *       though only the master serves: join with haagent_instance_state for who is serving.
 *   haagent_check_latency_seconds{instance,check}          histogram  duration of each health
 *       check run ('check-run' events).
 *   haagent_hook_runs_total{instance,hook,result}          counter  hook runs, result = ok |
 *       failed | timeout ('hook' events; a timed-out run counts as timeout only).
 *   haagent_takeover_blocked{instance,reason}              gauge    1 while a takeover this node
 *       wants is held back for `reason` (guard, cold-start, promotion-backoff, demote-hook), 0 for
 *       the other reasons; only instances with takeover keys or a block (status() `takeover`).
 *   haagent_guard_runs_total{instance,guard,result}        counter  takeover guard runs, result =
 *       ok | failed | timeout ('guard' events).
 *   haagent_conntrack_sync_up{instance}                    gauge    1 while the instance's
 *       conntrackd runs (status() `conntrackSync`; only instances with conntrack-sync).
 *   haagent_conntrack_peer_reachable{instance}             gauge    1 while sync packets from
 *       the peer arrive; 0 means a dead sync link (or peer): a takeover would drop connections.
 *   haagent_conntrack_entries{instance,cache}              gauge    connections in conntrackd's
 *       internal (this node's) and external (the peer's) cache.
 *   haagent_conntrack_commit_seconds{instance}             gauge    duration of the last commit
 *       of the peer's connections at a takeover (absent before the first).
 *   process_* and nodejs_*                                 prom-client's default metrics (CPU,
 *       memory, fds, event-loop lag, GC), unprefixed so standard dashboards work.
 *
 * The read functions only read: they never throw on the documented shapes, and skip nothing
 * (the registry drops negative or non-finite counts of mirrored counters).
 */
import { hostPort } from '../core/packet/ip.js';
import { serviceName } from '../core/lb/name.js';
import type { AgentStatus, InstanceStatus, TakeoverBlockReason } from '../core/control/types.js';
import type { AgentEvent } from '../core/control/events.js';
import type { VrrpState } from '../core/fsm/types.js';

export type Labels = Readonly<Record<string, string>>;
export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

interface Common {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

/** A gauge rebuilt from each status() snapshot: series no longer in it disappear. */
export interface StatusGaugeDef extends Common {
  readonly type: 'status-gauge';
  samples(status: AgentStatus): Sample[];
}

/** A counter that follows a count kept in status() (increase per scrape, a decrease is a reset). */
export interface MirroredCounterDef extends Common {
  readonly type: 'mirrored-counter';
  samples(status: AgentStatus): Sample[];
}

/** A counter incremented by one per matching event. */
export interface EventCounterDef extends Common {
  readonly type: 'event-counter';
  /** The series the event counts in, or undefined when it does not count here. */
  labels(ev: AgentEvent): Labels | undefined;
}

/** A histogram observing one value per matching event. */
export interface EventHistogramDef extends Common {
  readonly type: 'event-histogram';
  readonly buckets: readonly number[];
  observe(ev: AgentEvent): Sample | undefined;
}

/**
 * A per-instance gauge set by events and, for the instances whose status() reports them, by the
 * snapshot (which then wins, and removes what it no longer reports). Labels: instance and `key`.
 */
export interface InstanceItemGaugeDef extends Common {
  readonly type: 'instance-item-gauge';
  readonly key: string;
  fromEvent(ev: AgentEvent): { readonly instance: string; readonly item: string; readonly value: number } | undefined;
  /** The instance's items with their values, or undefined when its status does not report them. */
  fromStatus(inst: InstanceStatus): ReadonlyArray<{ readonly item: string; readonly value: number }> | undefined;
}

export type MetricDef = StatusGaugeDef | MirroredCounterDef | EventCounterDef | EventHistogramDef | InstanceItemGaugeDef;

const STATES: readonly VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOPPED'];
/** The `result` label of a supervised run (hook or guard). */
function runResult(run: { readonly ok: boolean; readonly timedOut: boolean }): 'ok' | 'failed' | 'timeout' {
  return run.timedOut ? 'timeout' : run.ok ? 'ok' : 'failed';
}

const BLOCK_REASONS: readonly TakeoverBlockReason[] = ['guard', 'cold-start', 'promotion-backoff', 'demote-hook', 'etcd'];

const CHECK_LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One sample per instance, labelled `instance`. */
function perInstance(value: (inst: InstanceStatus) => number): (status: AgentStatus) => Sample[] {
  return (status) => status.instances.map((inst) => ({ labels: { instance: inst.name }, value: value(inst) }));
}

/** One sample per instance, labelled `instance` and `vrid`. */
function perVrid(value: (inst: InstanceStatus) => number): (status: AgentStatus) => Sample[] {
  return (status) => status.instances.map((inst) => ({ labels: { instance: inst.name, vrid: String(inst.vrid) }, value: value(inst) }));
}

/** A check as InstanceStatus may later report it; read defensively, never required. */
function checksOf(inst: InstanceStatus): Array<{ name: string; status: string }> | undefined {
  const raw = (inst as unknown as { readonly checks?: unknown }).checks;
  if (!Array.isArray(raw)) return undefined;
  const out: Array<{ name: string; status: string }> = [];
  for (const c of raw as unknown[]) {
    if (typeof c !== 'object' || c === null) continue;
    const { name, status } = c as { name?: unknown; status?: unknown };
    if (typeof name === 'string' && typeof status === 'string') out.push({ name, status });
  }
  return out;
}

/** The haagent_ metrics, in exposition order. */
export const METRICS: readonly MetricDef[] = [
  {
    type: 'status-gauge',
    name: 'haagent_instance_state',
    help: 'Current VRRP state of the instance: 1 for the current state, 0 for the others.',
    labelNames: ['instance', 'vrid', 'state'],
    samples: (status) =>
      status.instances.flatMap((inst) => STATES.map((state) => ({ labels: { instance: inst.name, vrid: String(inst.vrid), state }, value: inst.state === state ? 1 : 0 }))),
  },
  { type: 'status-gauge', name: 'haagent_priority', help: 'Configured VRRP priority of the instance.', labelNames: ['instance', 'vrid'], samples: perVrid((i) => i.priority) },
  {
    type: 'status-gauge',
    name: 'haagent_effective_priority',
    help: 'Priority the instance advertises after health checks and tracking.',
    labelNames: ['instance', 'vrid'],
    samples: perVrid((i) => i.effectivePriority),
  },
  { type: 'status-gauge', name: 'haagent_faults', help: 'Number of active fault sources of the instance.', labelNames: ['instance'], samples: perInstance((i) => i.faults.length) },
  // Never two masters: peers with other settings, isolation, the fencing epoch.
  {
    type: 'status-gauge',
    name: 'haagent_config_mismatch',
    help: 'Peers whose settings differ from ours: haagent peers (hello paths) with another VRID/VIPs/interval/version/auth fingerprint, plus VRRP senders whose adverts are dropped for their address list, interval or version.',
    labelNames: ['instance'],
    samples: perInstance((i) => (i.peers ?? []).filter((p) => !p.fingerprintMatch).length + (i.vrrpMismatches?.length ?? 0)),
  },
  {
    type: 'status-gauge',
    name: 'haagent_isolated',
    help: '1 when the node hears no peer on any path and reaches no witness (it holds no VIP).',
    labelNames: ['instance'],
    samples: perInstance((i) => (i.isolated === true ? 1 : 0)),
  },
  { type: 'status-gauge', name: 'haagent_epoch', help: 'Fencing epoch this node took when it last became master (0 = never).', labelNames: ['instance'], samples: perInstance((i) => i.epoch) },
  {
    type: 'status-gauge',
    name: 'haagent_epoch_persisted',
    help: '1 when the fencing epoch held is on disk, 0 while its write is failing.',
    labelNames: ['instance'],
    samples: perInstance((i) => (i.epochPersisted === false ? 0 : 1)),
  },
  {
    type: 'status-gauge',
    name: 'haagent_epoch_state_error',
    help: '1 while the fencing epoch file has a problem (failing write, corrupt file found at start, epoch bound).',
    labelNames: ['instance'],
    samples: perInstance((i) => (i.epochStateError === undefined ? 0 : 1)),
  },
  { type: 'mirrored-counter', name: 'haagent_adverts_sent_total', help: 'VRRP advertisements sent.', labelNames: ['instance', 'vrid'], samples: perVrid((i) => i.advertsSent) },
  {
    type: 'mirrored-counter',
    name: 'haagent_adverts_received_total',
    help: 'VRRP advertisements received and accepted for the instance.',
    labelNames: ['instance', 'vrid'],
    samples: perVrid((i) => i.advertsReceived),
  },
  {
    type: 'mirrored-counter',
    name: 'haagent_drops_total',
    help: 'Packets dropped by an instance, by reason.',
    labelNames: ['instance', 'reason'],
    samples: (status) => status.instances.flatMap((i) => Object.entries(i.drops).map(([reason, value]) => ({ labels: { instance: i.name, reason }, value }))),
  },
  {
    type: 'mirrored-counter',
    name: 'haagent_interface_drops_total',
    help: 'Packets dropped before any instance was chosen (bad header, checksum, unknown VRID), by interface and reason.',
    labelNames: ['iface', 'reason'],
    samples: (status) =>
      Object.entries(status.interfaceDrops).flatMap(([iface, byReason]) => Object.entries(byReason).map(([reason, value]) => ({ labels: { iface, reason }, value }))),
  },
  {
    type: 'mirrored-counter',
    name: 'haagent_hello_drops_total',
    help: 'Peer hellos dropped, by reason.',
    labelNames: ['reason'],
    samples: (status) => Object.entries(status.helloDrops ?? {}).map(([reason, value]) => ({ labels: { reason }, value })),
  },
  {
    type: 'event-counter',
    name: 'haagent_transitions_total',
    help: 'VRRP state transitions.',
    labelNames: ['instance', 'from', 'to'],
    labels: (ev) => (ev.type === 'transition' ? { instance: ev.instance, from: ev.from, to: ev.to } : undefined),
  },
  {
    type: 'instance-item-gauge',
    name: 'haagent_check_up',
    help: 'Health check verdict: 1 healthy, 0 failing or unknown.',
    labelNames: ['instance', 'check'],
    key: 'check',
    // Only 'check-run': the agent publishes one for every result, with the same data as the
    // 'check' event that follows a status change.
    fromEvent: (ev) => (ev.type === 'check-run' ? { instance: ev.instance, item: ev.check, value: ev.status === 'healthy' ? 1 : 0 } : undefined),
    fromStatus: (inst) => checksOf(inst)?.map((c) => ({ item: c.name, value: c.status === 'healthy' ? 1 : 0 })),
  },
  {
    type: 'status-gauge',
    name: 'haagent_real_server_up',
    help: 'Load balancer real server: 1 in the rotation (check passing or none), 0 out.',
    labelNames: ['instance', 'service', 'server'],
    samples: (status) =>
      status.instances.flatMap((inst) =>
        (inst.services ?? []).flatMap((v) => {
          const service = serviceName(v);
          return v.realServers.map((r) => ({ labels: { instance: inst.name, service, server: hostPort(r.address, r.port) }, value: r.up ? 1 : 0 }));
        }),
      ),
  },
  {
    type: 'event-histogram',
    name: 'haagent_check_latency_seconds',
    help: 'Duration of health check runs.',
    labelNames: ['instance', 'check'],
    buckets: CHECK_LATENCY_BUCKETS_S,
    observe: (ev) =>
      ev.type === 'check-run' && Number.isFinite(ev.latencyMs) && ev.latencyMs >= 0
        ? { labels: { instance: ev.instance, check: ev.check }, value: ev.latencyMs / 1000 }
        : undefined,
  },
  {
    type: 'event-counter',
    name: 'haagent_hook_runs_total',
    help: 'Hook script runs by result (ok, failed, timeout).',
    labelNames: ['instance', 'hook', 'result'],
    labels: (ev) => (ev.type === 'hook' ? { instance: ev.instance, hook: ev.hook, result: runResult(ev) } : undefined),
  },
  {
    type: 'status-gauge',
    name: 'haagent_takeover_blocked',
    help: '1 while a takeover this node wants is held back for this reason (guard, cold-start, promotion-backoff, demote-hook).',
    labelNames: ['instance', 'reason'],
    samples: (status) =>
      status.instances.flatMap((inst) => {
        const t = inst.takeover;
        if (t === undefined) return [];
        return BLOCK_REASONS.map((reason) => ({ labels: { instance: inst.name, reason }, value: t.blocked && t.reason === reason ? 1 : 0 }));
      }),
  },
  {
    type: 'event-counter',
    name: 'haagent_guard_runs_total',
    help: 'Takeover guard runs by result (ok, failed, timeout).',
    labelNames: ['instance', 'guard', 'result'],
    labels: (ev) => (ev.type === 'guard' ? { instance: ev.instance, guard: ev.guard, result: runResult(ev) } : undefined),
  },
  {
    type: 'status-gauge',
    name: 'haagent_conntrack_sync_up',
    help: '1 while the instance\'s conntrackd (connection-state sync) runs.',
    labelNames: ['instance'],
    samples: (status) => status.instances.flatMap((i) => (i.conntrackSync === undefined ? [] : [{ labels: { instance: i.name }, value: i.conntrackSync.running ? 1 : 0 }])),
  },
  {
    type: 'status-gauge',
    name: 'haagent_conntrack_peer_reachable',
    help: '1 while sync packets from the peer arrive on the conntrack sync link.',
    labelNames: ['instance'],
    samples: (status) => status.instances.flatMap((i) => (i.conntrackSync === undefined ? [] : [{ labels: { instance: i.name }, value: i.conntrackSync.peerReachable ? 1 : 0 }])),
  },
  {
    type: 'status-gauge',
    name: 'haagent_conntrack_entries',
    help: 'Connections in conntrackd\'s caches: internal (this node) and external (the peer).',
    labelNames: ['instance', 'cache'],
    samples: (status) => status.instances.flatMap((i) => {
      const c = i.conntrackSync;
      if (c === undefined) return [];
      return [['internal', c.internalEntries], ['external', c.externalEntries]].flatMap(([cache, n]) => (typeof n === 'number' ? [{ labels: { instance: i.name, cache: String(cache) }, value: n }] : []));
    }),
  },
  {
    type: 'status-gauge',
    name: 'haagent_conntrack_commit_seconds',
    help: 'Duration of the last commit of the peer\'s connections at a takeover.',
    labelNames: ['instance'],
    samples: (status) => status.instances.flatMap((i) => {
      const commit = i.conntrackSync?.lastCommit;
      return commit === null || commit === undefined ? [] : [{ labels: { instance: i.name }, value: commit.durationMs / 1000 }];
    }),
  },
];
