/**
 * `check-config`'s output: the effective config (every default filled in) in the file's own key
 * names, as YAML that `check-config` itself accepts again, with every secret replaced by
 * "(redacted)" (VRRP password, peer key, literal `environment:` values, webhook paths, inline HMAC
 * keys: a string of "(redacted)" as long as the key, so the output still validates; a `file:`
 * key is shown as its path, which is no secret).
 *
 * The shape is written out key by key on purpose: it is the inverse of validate.ts, and the
 * round-trip test (parse -> this -> parse gives the same config, secrets aside) keeps the two
 * from drifting.
 */
import { vipCidrs } from '../core/net/address.js';
import { stringify } from 'yaml';
import type { AgentConfig, AuthConfig, CheckConfig, ConntrackSyncConfig, EtcdConfig, InstanceConfig } from '../core/config/types.js';
import { webhookOrigin, type AlertTarget } from '../core/config/alerts.js';
import { hostPort } from '../core/packet/ip.js';

export const REDACTED = '(redacted)';

/** ms as the config writes durations: whole seconds as "Ns", else "Nms". */
export function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The URL when it is a bare origin, else its origin and "(redacted)" (the path may hold a token). */
function webhookUrl(url: string): string {
  const origin = webhookOrigin(url);
  return url === `${origin}/` ? url : `${origin}/${REDACTED}`;
}

/** A stand-in for an inline key of `length` bytes: valid (printable ASCII), plainly not the key. */
export function redactedKey(length: number): string {
  return REDACTED.repeat(Math.ceil(length / REDACTED.length)).slice(0, length);
}

function auth(a: AuthConfig): Record<string, unknown> {
  switch (a.type) {
    case 'none': return {};
    case 'pass': return { auth: { type: 'pass', password: '********' } }; // 8 bytes: still a valid password
    case 'hmac': return {
      auth: {
        type: 'hmac',
        keys: Object.fromEntries(a.keys.map((k) => [k.id, k.file !== undefined ? `file:${k.file}` : redactedKey(k.secret?.length ?? 32)])),
        'active-key': a.activeKey, 'anti-replay': a.antiReplay, 'time-window': `${a.timeWindowSec}s`, mode: a.mode,
      },
    };
  }
}

function check(c: CheckConfig): Record<string, unknown> {
  const common = { name: c.name, type: c.type, interval: duration(c.intervalMs), timeout: duration(c.timeoutMs), rise: c.rise, fall: c.fall, weight: c.weight };
  switch (c.type) {
    case 'http': return { ...common, url: c.url, 'expect-status': [...c.expectStatus], ...(c.bodyContains === undefined ? {} : { 'body-contains': c.bodyContains }) };
    case 'tcp': return { ...common, host: c.host, port: c.port };
    case 'exec': return { ...common, command: [...c.command] };
    case 'interface': return { ...common, interface: c.interface };
    case 'file': return { ...common, path: c.path };
  }
}

function target(t: AlertTarget): Record<string, unknown> {
  if (t.type === 'webhook') return { type: 'webhook', url: webhookUrl(t.url), format: t.format, timeout: duration(t.timeoutMs) };
  return { type: 'syslog', facility: t.facility, ...(t.address === undefined ? {} : { address: hostPort(t.address.host, t.address.port) }) };
}

function instance(i: InstanceConfig): Record<string, unknown> {
  return {
    name: i.name, vrid: i.vrid, role: i.role, interface: i.interface, external: i.external,
    vips: vipCidrs(i.vips), priority: i.priority, preempt: i.preempt, 'preempt-delay': duration(i.preemptDelayMs),
    ...(i.ownerIgnoreAdverts ? { 'owner-ignore-adverts': true } : {}),
    ...(i.unicastTtlCheck === false ? { 'unicast-ttl-check': false } : {}),
    ...(i.v3ChecksumMessageOnly ? { 'v3-checksum': 'message' } : {}),
    'advert-interval': duration(i.advertIntervalCs * 10), 'vrrp-version': i.version,
    ...(i.version === 3 ? { 'max-advert-interval': duration(i.maxAdvertIntervalCs * 10) } : {}),
    ...(i.peers.length === 0 ? {} : { peers: [...i.peers] }),
    ...auth(i.auth),
    garp: { burst: i.garp.burst, 'burst-interval': duration(i.garp.burstIntervalMs), refresh: duration(i.garp.refreshMs) },
    ...(i.vipLabel === undefined ? {} : { 'vip-label': i.vipLabel }),
    ...(i.checks.length === 0 ? {} : { checks: i.checks.map(check) }),
    ...(Object.keys(i.hooks).length === 0 ? {} : {
      hooks: Object.fromEntries(Object.entries(i.hooks).map(([k, h]) => [k, { command: [...(h?.command ?? [])], timeout: duration(h?.timeoutMs ?? 0) }])),
    }),
    ...(i.environment.length === 0 ? {} : { environment: i.environment.map((e) => (e.value === undefined ? e.name : `${e.name}=${REDACTED}`)) }),
    ...(i.paths.length === 0 ? {} : { paths: i.paths.map((p) => ({ interface: p.interface, peer: p.peer })) }),
    ...(i.witness.length === 0 ? {} : { witness: i.witness.map((w) => ({ ...w })) }),
    'vip-lifetime': i.vipLifetimeSec === 'auto' ? 'auto' : i.vipLifetimeSec === 0 ? 'off' : `${i.vipLifetimeSec}s`,
    'vip-lease-wait': i.vipLeaseWait,
    'self-fence': i.selfFence,
    ...(i.selfFenceBackupPriority === undefined ? {} : { 'self-fence-backup-priority': i.selfFenceBackupPriority }),
    ...(i.virtualServices.length === 0 ? {} : {
      'virtual-services': i.virtualServices.map((s) => ({
        vip: s.vip, port: s.port, protocol: s.protocol, mode: s.mode, scheduler: s.scheduler,
        ...(s.snat === undefined ? {} : { snat: s.snat }),
        'real-servers': s.realServers.map((r) => ({ address: r.address, port: r.port, weight: r.weight, ...(r.check === undefined ? {} : { check: check(r.check) }) })),
      })),
    }),
    ...(i.takeover === undefined ? {} : {
      ...(i.takeover.guards.length === 0 ? {} : { guards: i.takeover.guards.map((g) => ({ name: g.name, command: [...g.command], timeout: duration(g.timeoutMs) })) }),
      'guard-retry': duration(i.takeover.guardRetryMs),
      'cold-start': { 'wait-for-peer': i.takeover.coldStart.waitForPeer, timeout: duration(i.takeover.coldStart.timeoutMs) },
      'promotion-backoff': duration(i.takeover.promotionBackoffMs),
    }),
    ...(i.election === 'vrrp' ? {} : { election: i.election }),
    ...(i.election === 'vrrp+etcd' ? { 'etcd-unreachable': i.etcdUnreachable } : {}),
    ...(i.conntrackSync === undefined ? {} : { 'conntrack-sync': conntrackSync(i.conntrackSync) }),
  };
}

function etcd(e: EtcdConfig): Record<string, unknown> {
  return {
    endpoints: [...e.endpoints], lease: `${e.leaseTtlS}s`, prefix: e.prefix,
    'request-timeout': duration(e.requestTimeoutMs), 'keepalive-interval': duration(e.keepaliveIntervalMs),
    ...(e.tls === undefined ? {} : { tls: { ...e.tls } }),
  };
}

function conntrackSync(c: ConntrackSyncConfig): Record<string, unknown> {
  const [main, ...redundant] = c.links;
  return {
    interface: main?.interface, local: main?.local, peer: main?.peer, port: c.port,
    ...(redundant.length === 0 ? {} : { redundant: redundant.map((l) => ({ interface: l.interface, local: l.local, peer: l.peer })) }),
    'snat-address': c.snat.cidr, 'snat-interface': c.snatInterface, 'commit-timeout': duration(c.commitTimeoutMs),
  };
}

export function effectiveYaml(config: AgentConfig): string {
  const top: Record<string, unknown> = {
    socket: config.socketPath,
    'state-dir': config.stateDir,
    'peer-port': config.peerPort,
    ...(config.realtime === undefined ? {} : { realtime: { ...config.realtime } }),
    ...(config.lockMemory === true ? { 'lock-memory': true } : {}),
    ...(config.peerKey === undefined ? {} : { 'peer-key': REDACTED }),
    ...(config.metricsListen === undefined ? {} : { metrics: { listen: config.metricsListen } }),
    ...(config.alerts.targets.length === 0 ? {} : {
      alerts: { targets: config.alerts.targets.map(target), 'rate-limit': { burst: config.alerts.rateLimit.burst, per: duration(config.alerts.rateLimit.perMs) } },
    }),
    ...(config.etcd === undefined ? {} : { etcd: etcd(config.etcd) }),
    instances: config.instances.map(instance),
  };
  return stringify(top, { lineWidth: 0 });
}
