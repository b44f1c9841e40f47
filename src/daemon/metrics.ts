/**
 * Prometheus exposition of the agent: `GET /metrics` on a loopback (or operator-chosen) address.
 *
 * Contract: `startMetricsServer(listen, source)` listens on `listen` ("127.0.0.1:9650",
 * "[::1]:9650"; port 0 picks a free port, `url` tells which) and answers `GET`/`HEAD /metrics`
 * (query string ignored) with the text exposition of its own prom-client Registry (never the
 * global one), any other path with 404 and any other method on /metrics with 405. Gauges and
 * status-derived counters are refreshed from one `source.status()` snapshot per scrape; the
 * event-derived series accumulate from `source.events` ('event' -> AgentEvent) from the moment
 * the server starts. `close()` stops listening, drops open (keep-alive) connections and detaches
 * from `source.events`; it is idempotent. No authentication and no TLS: bind it to loopback, or
 * put a proxy in front.
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
 *   haagent_epoch_persisted{instance}                      gauge    1 when the fencing epoch held
 *       is on disk, 0 while its write is failing (the node runs on the epoch in memory and retries).
 *   haagent_epoch_state_error{instance}                    gauge    1 while status() reports an
 *       epoch file problem (failing write, corrupt file found at start, epoch bound), else 0.
 *   haagent_check_up{instance,check}                       gauge    1 healthy, 0 failing or unknown
 *       (last 'check' event; where status() instances carry `checks`, those win at scrape and
 *       checks or instances no longer in status() are removed).
 *   haagent_real_server_up{instance,service,server}         gauge    1 in the load balancer's rotation,
 *       0 out (status() `services`; service = vip:port/tcp, server = addr:port, IPv6 bracketed).
 *       A backup checks its real servers too (so it is ready at takeover) and reports them here,
 *       though only the master serves: join with haagent_instance_state for who is serving.
 *   haagent_check_latency_seconds{instance,check}          histogram  duration of each health
 *       check run ('check-run' events).
 *   haagent_hook_runs_total{instance,hook,result}          counter  hook runs, result = ok |
 *       failed | timeout ('hook' events; a timed-out run counts as timeout only).
 *   process_* and nodejs_*                                 prom-client's default metrics (CPU,
 *       memory, fds, event-loop lag, GC), unprefixed so standard dashboards work.
 */
import type { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostPort } from '../core/packet/ip.js';
import { serviceName } from '../core/lb/name.js';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentStatus, InstanceStatus } from '../core/control/types.js';
import type { AgentEvent } from '../core/control/events.js';
import type { VrrpState } from '../core/fsm/types.js';
import { HaagentError } from '../core/errors.js';

export interface MetricsSource {
  status(): AgentStatus;
  readonly events: EventEmitter;
}

export interface MetricsServer {
  /** The metrics endpoint, e.g. 'http://127.0.0.1:9650/metrics' (the real port when 0 was asked). */
  readonly url: string;
  close(): Promise<void>;
}

const STATES: readonly VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOPPED'];

const CHECK_LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Splits "host:port" / "[v6]:port"; port 0..65535. Throws HA_ERR_INVALID_ARGUMENT. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || !(port >= 0 && port <= 65535)) {
    throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `metrics listen address ${JSON.stringify(listen)} is not "host:port" or "[ipv6]:port"`);
  }
  if (m[1] !== undefined && isIP(host) !== 6) {
    throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `metrics listen address ${JSON.stringify(listen)}: ${host} is not an IPv6 address`);
  }
  return { host, port };
}

/** A check as InstanceStatus may later report it; read defensively, never required. */
interface CheckStatusLike {
  readonly name: string;
  readonly status: string;
}

function checksOf(inst: InstanceStatus): CheckStatusLike[] | undefined {
  const raw = (inst as unknown as { readonly checks?: unknown }).checks;
  if (!Array.isArray(raw)) return undefined;
  const out: CheckStatusLike[] = [];
  for (const c of raw as unknown[]) {
    if (typeof c !== 'object' || c === null) continue;
    const { name, status } = c as { name?: unknown; status?: unknown };
    if (typeof name === 'string' && typeof status === 'string') out.push({ name, status });
  }
  return out;
}

/**
 * A prom-client Counter that mirrors externally kept, monotonically growing counts: `sync`
 * adds each series' increase since the last sync and removes series no longer reported.
 */
class MirroredCounter<L extends string> {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly counter: Counter<L>,
    private readonly labelNames: readonly L[],
  ) {}

  sync(samples: ReadonlyArray<{ labels: Record<L, string>; value: number }>): void {
    const seen = new Set<string>();
    for (const { labels, value } of samples) {
      if (!Number.isFinite(value) || value < 0) continue;
      const key = JSON.stringify(this.labelNames.map((n) => labels[n]));
      seen.add(key);
      const prev = this.last.get(key);
      // First sight: the whole count; a decrease: the source was reset, count from zero.
      const delta = prev === undefined || value < prev ? value : value - prev;
      this.counter.inc(labels as Partial<Record<L, string | number>>, delta);
      this.last.set(key, value);
    }
    for (const key of [...this.last.keys()]) {
      if (seen.has(key)) continue;
      const values = JSON.parse(key) as string[];
      const labels: Partial<Record<L, string>> = {};
      this.labelNames.forEach((n, i) => {
        labels[n] = values[i] ?? '';
      });
      this.counter.remove(labels);
      this.last.delete(key);
    }
  }
}

/** The registry and every haagent_ metric; `refresh` applies a status snapshot, `onEvent` an event. */
function createMetrics(): { registry: Registry; refresh(status: AgentStatus): void; onEvent(ev: AgentEvent): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const instanceState = new Gauge({
    name: 'haagent_instance_state',
    help: 'Current VRRP state of the instance: 1 for the current state, 0 for the others.',
    labelNames: ['instance', 'vrid', 'state'] as const,
    registers,
  });
  const priority = new Gauge({
    name: 'haagent_priority',
    help: 'Configured VRRP priority of the instance.',
    labelNames: ['instance', 'vrid'] as const,
    registers,
  });
  const effectivePriority = new Gauge({
    name: 'haagent_effective_priority',
    help: 'Priority the instance advertises after health checks and tracking.',
    labelNames: ['instance', 'vrid'] as const,
    registers,
  });
  const faults = new Gauge({
    name: 'haagent_faults',
    help: 'Number of active fault sources of the instance.',
    labelNames: ['instance'] as const,
    registers,
  });
  // Never two masters: Peers with other settings, isolation, the fencing epoch.
  const configMismatch = new Gauge({
    name: 'haagent_config_mismatch',
    help: 'Peers whose settings differ from ours: haagent peers (hello paths) with another VRID/VIPs/interval/version/auth fingerprint, plus VRRP senders whose adverts are dropped for their address list, interval or version.',
    labelNames: ['instance'] as const,
    registers,
  });
  const isolated = new Gauge({
    name: 'haagent_isolated',
    help: '1 when the node hears no peer on any path and reaches no witness (it holds no VIP).',
    labelNames: ['instance'] as const,
    registers,
  });
  const epoch = new Gauge({
    name: 'haagent_epoch',
    help: 'Fencing epoch this node took when it last became master (0 = never).',
    labelNames: ['instance'] as const,
    registers,
  });
  const epochPersisted = new Gauge({
    name: 'haagent_epoch_persisted',
    help: '1 when the fencing epoch held is on disk, 0 while its write is failing.',
    labelNames: ['instance'] as const,
    registers,
  });
  const epochStateError = new Gauge({
    name: 'haagent_epoch_state_error',
    help: '1 while the fencing epoch file has a problem (failing write, corrupt file found at start, epoch bound).',
    labelNames: ['instance'] as const,
    registers,
  });
  const advertsSent = new MirroredCounter(
    new Counter({ name: 'haagent_adverts_sent_total', help: 'VRRP advertisements sent.', labelNames: ['instance', 'vrid'] as const, registers }),
    ['instance', 'vrid'] as const,
  );
  const advertsReceived = new MirroredCounter(
    new Counter({
      name: 'haagent_adverts_received_total',
      help: 'VRRP advertisements received and accepted for the instance.',
      labelNames: ['instance', 'vrid'] as const,
      registers,
    }),
    ['instance', 'vrid'] as const,
  );
  const drops = new MirroredCounter(
    new Counter({ name: 'haagent_drops_total', help: 'Packets dropped by an instance, by reason.', labelNames: ['instance', 'reason'] as const, registers }),
    ['instance', 'reason'] as const,
  );
  const interfaceDrops = new MirroredCounter(
    new Counter({
      name: 'haagent_interface_drops_total',
      help: 'Packets dropped before any instance was chosen (bad header, checksum, unknown VRID), by interface and reason.',
      labelNames: ['iface', 'reason'] as const,
      registers,
    }),
    ['iface', 'reason'] as const,
  );
  const helloDrops = new MirroredCounter(
    new Counter({ name: 'haagent_hello_drops_total', help: 'Peer hellos dropped, by reason.', labelNames: ['reason'] as const, registers }),
    ['reason'] as const,
  );
  const transitions = new Counter({
    name: 'haagent_transitions_total',
    help: 'VRRP state transitions.',
    labelNames: ['instance', 'from', 'to'] as const,
    registers,
  });
  const checkUp = new Gauge({
    name: 'haagent_check_up',
    help: 'Health check verdict: 1 healthy, 0 failing or unknown.',
    labelNames: ['instance', 'check'] as const,
    registers,
  });
  const realServerUp = new Gauge({
    name: 'haagent_real_server_up',
    help: 'Load balancer real server: 1 in the rotation (check passing or none), 0 out.',
    labelNames: ['instance', 'service', 'server'] as const,
    registers,
  });
  const checkLatency = new Histogram({
    name: 'haagent_check_latency_seconds',
    help: 'Duration of health check runs.',
    labelNames: ['instance', 'check'] as const,
    buckets: CHECK_LATENCY_BUCKETS_S,
    registers,
  });
  const hookRuns = new Counter({
    name: 'haagent_hook_runs_total',
    help: 'Hook script runs by result (ok, failed, timeout).',
    labelNames: ['instance', 'hook', 'result'] as const,
    registers,
  });

  /** check_up series present, per instance, so checks and instances removed by a reload can go. */
  const checkNames = new Map<string, Set<string>>();
  function setCheckUp(instance: string, check: string, healthy: boolean): void {
    checkUp.set({ instance, check }, healthy ? 1 : 0);
    let names = checkNames.get(instance);
    if (names === undefined) checkNames.set(instance, (names = new Set()));
    names.add(check);
  }
  function forgetCheck(instance: string, check: string): void {
    checkUp.remove({ instance, check });
    const names = checkNames.get(instance);
    names?.delete(check);
    if (names?.size === 0) checkNames.delete(instance);
  }

  function refresh(status: AgentStatus): void {
    // Gauges are rebuilt from scratch so instances removed by a reload disappear.
    instanceState.reset();
    priority.reset();
    effectivePriority.reset();
    faults.reset();
    configMismatch.reset();
    isolated.reset();
    epoch.reset();
    epochPersisted.reset();
    epochStateError.reset();
    realServerUp.reset();
    for (const inst of status.instances) {
      for (const v of inst.services ?? []) {
        const service = serviceName(v);
        for (const r of v.realServers) realServerUp.set({ instance: inst.name, service, server: hostPort(r.address, r.port) }, r.up ? 1 : 0);
      }
      configMismatch.set({ instance: inst.name }, (inst.peers ?? []).filter((p) => !p.fingerprintMatch).length + (inst.vrrpMismatches?.length ?? 0));
      isolated.set({ instance: inst.name }, inst.isolated === true ? 1 : 0);
      epoch.set({ instance: inst.name }, inst.epoch);
      epochPersisted.set({ instance: inst.name }, inst.epochPersisted === false ? 0 : 1);
      epochStateError.set({ instance: inst.name }, inst.epochStateError === undefined ? 0 : 1);
      const vrid = String(inst.vrid);
      for (const state of STATES) instanceState.set({ instance: inst.name, vrid, state }, inst.state === state ? 1 : 0);
      priority.set({ instance: inst.name, vrid }, inst.priority);
      effectivePriority.set({ instance: inst.name, vrid }, inst.effectivePriority);
      faults.set({ instance: inst.name }, inst.faults.length);
      const checks = checksOf(inst);
      if (checks !== undefined) {
        const current = new Set(checks.map((c) => c.name));
        for (const check of checkNames.get(inst.name) ?? []) {
          if (!current.has(check)) forgetCheck(inst.name, check);
        }
        for (const c of checks) setCheckUp(inst.name, c.name, c.status === 'healthy');
      }
    }
    const instances = new Set(status.instances.map((i) => i.name));
    for (const [instance, checks] of [...checkNames]) {
      if (!instances.has(instance)) for (const check of [...checks]) forgetCheck(instance, check);
    }
    advertsSent.sync(status.instances.map((i) => ({ labels: { instance: i.name, vrid: String(i.vrid) }, value: i.advertsSent })));
    advertsReceived.sync(status.instances.map((i) => ({ labels: { instance: i.name, vrid: String(i.vrid) }, value: i.advertsReceived })));
    drops.sync(
      status.instances.flatMap((i) => Object.entries(i.drops).map(([reason, value]) => ({ labels: { instance: i.name, reason }, value }))),
    );
    interfaceDrops.sync(
      Object.entries(status.interfaceDrops).flatMap(([iface, byReason]) =>
        Object.entries(byReason).map(([reason, value]) => ({ labels: { iface, reason }, value })),
      ),
    );
    helloDrops.sync(Object.entries(status.helloDrops ?? {}).map(([reason, value]) => ({ labels: { reason }, value })));
  }

  function onEvent(ev: AgentEvent): void {
    switch (ev.type) {
      case 'transition':
        transitions.inc({ instance: ev.instance, from: ev.from, to: ev.to });
        break;
      case 'check':
        setCheckUp(ev.instance, ev.check, ev.status === 'healthy');
        break;
      case 'check-run':
        setCheckUp(ev.instance, ev.check, ev.status === 'healthy');
        if (Number.isFinite(ev.latencyMs) && ev.latencyMs >= 0) {
          checkLatency.observe({ instance: ev.instance, check: ev.check }, ev.latencyMs / 1000);
        }
        break;
      case 'hook':
        hookRuns.inc({ instance: ev.instance, hook: ev.hook, result: ev.timedOut ? 'timeout' : ev.ok ? 'ok' : 'failed' });
        break;
      default:
        // priority/maintenance/reload/adverts/drops: read from status() at scrape instead.
        break;
    }
  }

  return { registry, refresh, onEvent };
}

/** Starts the HTTP metrics endpoint; rejects with HA_ERR_INVALID_ARGUMENT or HA_ERR_CONTROL (listen failed). */
export async function startMetricsServer(listen: string, source: MetricsSource): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const metrics = createMetrics();

  const onEvent = (ev: AgentEvent): void => {
    try {
      metrics.onEvent(ev);
    } catch {
      // A malformed event must not throw into the emitter (the agent's own code path).
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      metrics.refresh(source.status());
      body = await metrics.registry.metrics();
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot collect metrics: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (cause: Error): void => {
      reject(new HaagentError('HA_ERR_CONTROL', `cannot serve metrics on ${listen}: ${cause.message}`, { cause }));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // After listening, a server error (rare: e.g. EMFILE on accept) must not crash the agent.
  server.on('error', () => {});
  source.events.on('event', onEvent);

  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/metrics`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        source.events.off('event', onEvent);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
