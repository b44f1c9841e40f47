/**
 * Raw (parsed YAML or CLI flags) -> validated, frozen AgentConfig. Every problem becomes a
 * ConfigError carrying the key path (`instances[0].vrid`) and, when a locator is given, the
 * line in the file. All problems are collected, not just the first (up to a bound, see
 * Collector). Every list is checked against its bound (LIMITS) before its entries are parsed, and
 * duplicates are found with sets and maps, so the work stays linear in the input.
 *
 * Deliberately not checked here: whether interfaces exist (the daemon checks before it touches
 * any address), and cross-host consistency (peers compare fingerprints at run time).
 */
import { ConfigError } from '../errors.js';
import { Collector, formatPath, isRecord, shown, type Locator, type PathSegment } from './collector.js';
import { LIMITS } from './limits.js';
import { parseAddress, parseVip, type Vip } from '../net/address.js';
import { ROLE_DEFAULTS, ROLES } from './roles.js';
import { parseChecks } from './checks.js';
import { parseEnvironment, parseHooks } from './hooks.js';
import { isDefaultTakeover, parseTakeover } from './takeover.js';
import { checkPathFamilies, parsePaths, parseVipLifetime, parseWitness } from './resilience.js';
import { parseServices } from './services.js';
import { parseConntrackSync, withFloatingSnat } from './conntrack.js';
import { parseAlerts } from './alerts.js';
import { checkEtcdInstances, parseElection, parseEtcd } from './etcd.js';
import type { AgentConfig, GarpConfig, InstanceConfig, Role } from './types.js';
import { parseAuth } from './auth.js';
import { checkSelfFence, parseFenceBackupPriority, parseSelfFence } from './self-fence.js';
import { DEFAULT_PEER_PORT, DEFAULT_SOCKET_PATH, DEFAULT_STATE_DIR } from './types.js';
import type { AddressFamily, VrrpVersion } from '../fsm/types.js';
import { defaultMaxAdvertIntervalCs, V3_MAX_INTERVAL_CS } from '../fsm/adopted-interval.js';

export { formatPath, type Locator, type PathSegment };

export type ValidateResult = { ok: true; config: AgentConfig } | { ok: false; errors: readonly ConfigError[] };

const TOP_KEYS = new Set(['socket', 'instances', 'metrics', 'state-dir', 'peer-port', 'peer-key', 'alerts', 'etcd', 'realtime', 'lock-memory']);
const INSTANCE_KEYS = new Set([
  'name', 'vrid', 'role', 'interface', 'external', 'vips', 'priority', 'advert-interval',
  'vrrp-version', 'preempt', 'preempt-delay', 'peers', 'auth', 'garp', 'vip-label', 'checks', 'hooks',
  'environment',
  'paths', 'witness', 'vip-lifetime', 'vip-lease-wait', 'virtual-services', 'max-advert-interval',
  'guards', 'guard-retry', 'cold-start', 'promotion-backoff', 'election', 'etcd-unreachable',
  'owner-ignore-adverts', 'v3-checksum', 'conntrack-sync', 'self-fence', 'self-fence-backup-priority', 'unicast-ttl-check',
]);
const GARP_KEYS = new Set(['burst', 'burst-interval', 'refresh']);

function advertIntervalCs(c: Collector, ms: number | undefined, version: VrrpVersion, path: readonly PathSegment[]): number {
  const p = [...path, 'advert-interval'];
  if (ms === undefined) return 100;
  if (version === 2) {
    if (ms % 1000 !== 0 || ms < 1000 || ms > 255_000) {
      c.fail(p, `VRRPv2 advertises whole seconds (1s..255s), got ${ms} ms; use vrrp-version: 3 for sub-second intervals`);
      return 100;
    }
    return ms / 10;
  }
  if (ms % 10 !== 0 || ms < 10 || ms > 40_950) {
    c.fail(p, `VRRPv3 advertises centiseconds (10ms..40.95s, a multiple of 10ms), got ${ms} ms`);
    return 100;
  }
  return ms / 10;
}

/**
 * `max-advert-interval`: the longest Master_Adver_Interval a v3 backup adopts from a master's
 * advert (longer ones are clamped, see core/fsm/adopted-interval.ts). Default 3 x our interval,
 * at least 1 s, at most 40.95 s. Configured: between our own interval and 40.95 s. VRRPv2 never
 * adopts, so the key is refused there.
 */
function maxAdvertIntervalCs(c: Collector, ms: number | undefined, version: VrrpVersion, ownCs: number, path: readonly PathSegment[]): number {
  const fallback = defaultMaxAdvertIntervalCs(version, ownCs);
  if (ms === undefined) return fallback;
  const p = [...path, 'max-advert-interval'];
  if (version === 2) {
    c.fail(p, 'applies to VRRPv3 only: a VRRPv2 backup never adopts the master\'s interval (it must equal ours)');
    return fallback;
  }
  if (ms % 10 !== 0 || ms < ownCs * 10 || ms > V3_MAX_INTERVAL_CS * 10) {
    c.fail(p, `must be a multiple of 10ms between this instance's advert-interval (${ownCs * 10} ms) and 40.95s, got ${ms} ms`);
    return fallback;
  }
  return ms / 10;
}

function garp(c: Collector, raw: unknown, path: readonly PathSegment[]): GarpConfig {
  // refresh 10 s by default: after a split brain heals silently (no link event, and the winner
  // never heard the loser), clients that followed the loser's ARP come back within 10 s.
  const defaults: GarpConfig = { burst: 5, burstIntervalMs: 100, refreshMs: 10_000 };
  if (raw === undefined) return defaults;
  if (!isRecord(raw)) {
    c.fail(path, 'must be a mapping like { burst: 5, burst-interval: 100ms, refresh: 60s }');
    return defaults;
  }
  c.unknownKeys(raw, GARP_KEYS, path);
  return {
    burst: c.int(raw, 'burst', path, 0, 100) ?? defaults.burst,
    burstIntervalMs: c.durationMs(raw, 'burst-interval', path) ?? defaults.burstIntervalMs,
    refreshMs: c.durationMs(raw, 'refresh', path) ?? defaults.refreshMs,
  };
}

function instance(c: Collector, raw: unknown, index: number): InstanceConfig | undefined {
  const path: PathSegment[] = ['instances', index];
  if (!isRecord(raw)) return c.fail(path, 'must be a mapping');
  c.unknownKeys(raw, INSTANCE_KEYS, path);

  const vrid = c.int(raw, 'vrid', path, 1, 255);
  if (raw['vrid'] === undefined) c.fail([...path, 'vrid'], 'is required (1..255; must match on both hosts)');
  let name = c.str(raw, 'name', path) ?? `vrid${vrid ?? index}`;
  if (name.length > LIMITS.nameChars) {
    c.limit([...path, 'name'], `is ${name.length} characters long, over the limit of ${LIMITS.nameChars}`);
    name = `vrid${vrid ?? index}`;
  }
  const roleRaw = raw['role'] ?? 'auto';
  let role: Role = 'auto';
  if (typeof roleRaw === 'string' && (ROLES as readonly string[]).includes(roleRaw)) role = roleRaw as Role;
  else c.fail([...path, 'role'], `must be one of ${ROLES.join(', ')}, got ${shown(roleRaw)}`);

  const iface = c.ifname(raw, 'interface', path);
  if (raw['interface'] === undefined) c.fail([...path, 'interface'], 'is required (the NIC that carries heartbeats)');
  const external = c.ifname(raw, 'external', path) ?? iface ?? '';

  const versionRaw = raw['vrrp-version'] ?? 3;
  let version: VrrpVersion = 3;
  if (versionRaw === 2 || versionRaw === 3) version = versionRaw;
  else c.fail([...path, 'vrrp-version'], `must be 2 or 3, got ${shown(versionRaw)}`);

  const vipsListed = c.list(raw, 'vips', path) ?? [];
  if (raw['vips'] === undefined || (Array.isArray(raw['vips']) && raw['vips'].length === 0)) c.fail([...path, 'vips'], 'needs at least one address in CIDR form, e.g. 192.0.2.10/24');
  // The count is checked before any entry is parsed: a huge list costs one message.
  const vipsRaw = c.withinBound(vipsListed, LIMITS.vips, [...path, 'vips'], 'addresses', 'one advertisement carries at most 255') ? vipsListed : [];
  const vips: Vip[] = [];
  const vipSet = new Set<string>();
  let family: AddressFamily | undefined;
  vipsRaw.forEach((v, i) => {
    const parsed = typeof v === 'string' ? parseVip(v) : { ok: false as const, reason: 'must be a string like 192.0.2.10/24' };
    if (!parsed.ok) return c.fail([...path, 'vips', i], parsed.reason);
    const r = parsed.vip;
    if (family !== undefined && r.family !== family) return c.fail([...path, 'vips', i], 'mixes IPv4 and IPv6; use one instance per address family (RFC 9568 §5.2.9)');
    family ??= r.family;
    if (vipSet.has(r.cidr)) return c.fail([...path, 'vips', i], `${r.cidr} is listed twice`);
    vipSet.add(r.cidr);
    vips.push(r);
    return undefined;
  });
  if (family === 6 && version === 2) c.fail([...path, 'vrrp-version'], 'VRRPv2 carries IPv4 only; IPv6 VIPs need vrrp-version: 3');

  const peers: string[] = [];
  const peersListed = c.list(raw, 'peers', path) ?? [];
  const peersRaw = c.withinBound(peersListed, LIMITS.peers, [...path, 'peers'], 'peers') ? peersListed : [];
  peersRaw.forEach((p, i) => {
    const r = typeof p === 'string' ? parseAddress(p) : { ok: false as const, reason: 'must be an IP address string' };
    if (!r.ok) return c.fail([...path, 'peers', i], r.reason);
    if (family !== undefined && r.family !== family) return c.fail([...path, 'peers', i], `is IPv${r.family} but the VIPs are IPv${family}`);
    // Adverts from any other source are dropped, and IPv6 adverts come from the sender's
    // link-local address (RFC 9568 §5.1.2.1): a global peer address would never match.
    if (r.family === 6 && !/^fe[89ab][0-9a-f]:/.test(r.address)) {
      return c.fail([...path, 'peers', i], `${r.address} is not link-local: IPv6 peers are the peers' fe80:: addresses on the heartbeat interface (adverts come from those)`);
    }
    peers.push(r.address);
    return undefined;
  });

  const defaults = ROLE_DEFAULTS[role];
  const priority = c.int(raw, 'priority', path, 1, 255) ?? defaults.priority;
  const preempt = c.bool(raw, 'preempt', path) ?? defaults.preempt;
  const preemptDelayMs = c.durationMs(raw, 'preempt-delay', path) ?? 0;
  const ownerIgnoreAdverts = c.bool(raw, 'owner-ignore-adverts', path) ?? false;
  const unicastTtlCheck = c.bool(raw, 'unicast-ttl-check', path) ?? true;
  if (ownerIgnoreAdverts && priority !== 255) {
    c.fail([...path, 'owner-ignore-adverts'], `applies to the address owner only (priority 255); this instance has priority ${priority}`);
  }
  if (preemptDelayMs > 3_600_000) c.fail([...path, 'preempt-delay'], 'must be at most 1h');
  const intervalCs = advertIntervalCs(c, c.durationMs(raw, 'advert-interval', path), version, path);
  const v3Checksum = c.str(raw, 'v3-checksum', path) ?? 'pseudo-header';
  if (v3Checksum !== 'pseudo-header' && v3Checksum !== 'message') {
    c.fail([...path, 'v3-checksum'], `must be pseudo-header (keepalived's default) or message (RFC 9568 §5.2.8), got "${v3Checksum}"`);
  } else if (v3Checksum === 'message' && (version !== 3 || family === 6)) {
    c.fail([...path, 'v3-checksum'], 'applies to VRRPv3 over IPv4 only (IPv6 always includes its pseudo-header, VRRPv2 never)');
  }
  const vipLabel = c.str(raw, 'vip-label', path);
  if (vipLabel !== undefined && (family === 6 || vipLabel.length > 15)) {
    c.fail([...path, 'vip-label'], family === 6 ? 'labels exist for IPv4 addresses only' : 'is at most 15 characters (IFNAMSIZ)');
  }

  const paths = parsePaths(c, raw['paths'], [...path, 'paths']);
  checkPathFamilies(c, paths, family ?? 4, [...path, 'paths']);
  const witness = parseWitness(c, raw['witness'], [...path, 'witness']);
  if (witness.length > 0 && paths.length === 0) {
    c.fail([...path, 'witness'], 'needs paths: without peer hellos a master cannot tell a dead witness from its own isolation');
  }
  const vipLifetimeSec = parseVipLifetime(c, raw['vip-lifetime'], [...path, 'vip-lifetime']);
  const takeover = parseTakeover(c, raw, path);
  const services = parseServices(c, raw['virtual-services'], [...path, 'virtual-services'], vips);
  const conntrackSync = parseConntrackSync(c, raw['conntrack-sync'], [...path, 'conntrack-sync'], family ?? 4);
  const fenceBackupPriority = parseFenceBackupPriority(c, raw['self-fence-backup-priority'], [...path, 'self-fence-backup-priority']);
  return Object.freeze({
    name, vrid: vrid ?? 0, role, interface: iface ?? '', external, family: family ?? 4, version, priority,
    advertIntervalCs: intervalCs,
    maxAdvertIntervalCs: maxAdvertIntervalCs(c, c.durationMs(raw, 'max-advert-interval', path), version, intervalCs, path),
    preempt, preemptDelayMs, ownerIgnoreAdverts, v3ChecksumMessageOnly: v3Checksum === 'message', vips: Object.freeze(vips), peers: Object.freeze(peers),
    auth: Object.freeze(parseAuth(c, raw['auth'], version, intervalCs, [...path, 'auth'])),
    garp: Object.freeze(garp(c, raw['garp'], [...path, 'garp'])), vipLabel,
    checks: parseChecks(c, raw['checks'], [...path, 'checks']),
    hooks: parseHooks(c, raw['hooks'], [...path, 'hooks']),
    environment: parseEnvironment(c, raw['environment'], [...path, 'environment']),
    paths, witness, vipLifetimeSec,
    vipLeaseWait: c.bool(raw, 'vip-lease-wait', path) ?? false,
    selfFence: parseSelfFence(c, raw['self-fence'], [...path, 'self-fence']),
    virtualServices: conntrackSync === undefined ? services : withFloatingSnat(c, services, conntrackSync, path),
    // Only when configured: an instance without these keys keeps exactly its former shape.
    ...(isDefaultTakeover(takeover) ? {} : { takeover }),
    ...parseElection(c, raw, path),
    ...(unicastTtlCheck ? {} : { unicastTtlCheck: false as const }),
    ...(conntrackSync === undefined ? {} : { conntrackSync }),
    ...(fenceBackupPriority === undefined ? {} : { selfFenceBackupPriority: fenceBackupPriority }),
  });
}

/** `unicast-ttl-check: false` relies on the source check against `peers`: multicast keeps TTL 255. */
function checkUnicastTtl(c: Collector, inst: InstanceConfig, index: number): void {
  if (inst.unicastTtlCheck === false && inst.peers.length === 0) {
    c.fail(['instances', index, 'unicast-ttl-check'], 'applies to unicast peers only (set peers); multicast adverts must always come with TTL/hop limit 255');
  }
}

/** `realtime: { priority: 1..99, policy: rr | fifo }` (policy default rr); absent = off. */
function realtime(c: Collector, raw: unknown): AgentConfig['realtime'] {
  if (raw === undefined || raw === false) return undefined;
  const path: PathSegment[] = ['realtime'];
  if (!isRecord(raw)) return c.fail(path, 'must be a mapping like { priority: 10 } (SCHED_RR priority 1..99 for the main thread)');
  c.unknownKeys(raw, new Set(['priority', 'policy']), path);
  const priority = c.int(raw, 'priority', path, 1, 99);
  if (raw['priority'] === undefined) c.fail([...path, 'priority'], 'is required (1..99; 10 is plenty above ordinary load)');
  const policyRaw = raw['policy'] ?? 'rr';
  if (policyRaw !== 'rr' && policyRaw !== 'fifo') c.fail([...path, 'policy'], `must be rr or fifo, got ${shown(policyRaw)}`);
  if (priority === undefined) return undefined;
  return Object.freeze({ priority, policy: policyRaw === 'fifo' ? 'fifo' : 'rr' });
}

/** `metrics: { listen: "127.0.0.1:9650" }` -> the listen address, or undefined when absent. */
function metrics(c: Collector, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) return c.fail(['metrics'], 'must be a mapping like { listen: "127.0.0.1:9650" }');
  c.unknownKeys(raw, new Set(['listen']), ['metrics']);
  const listen = c.str(raw, 'listen', ['metrics']);
  if (listen === undefined) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined || !parseAddress(host).ok || Number(m[3]) < 1 || Number(m[3]) > 65535) {
    return c.fail(['metrics', 'listen'], `"${listen}" is not ADDRESS:PORT (e.g. 127.0.0.1:9650 or [::1]:9650)`);
  }
  return listen;
}

export function validateConfig(raw: unknown, locate: Locator = () => undefined): ValidateResult {
  const c = new Collector(locate);
  if (!isRecord(raw)) {
    c.fail([], 'the config must be a mapping with an "instances" list');
    return { ok: false, errors: c.report() };
  }
  c.unknownKeys(raw, TOP_KEYS, []);
  const socketPath = c.str(raw, 'socket', []) ?? DEFAULT_SOCKET_PATH;
  if (!socketPath.startsWith('/')) c.fail(['socket'], 'must be an absolute path');
  const list = c.list(raw, 'instances', []);
  if (list === undefined || list.length === 0) c.fail(['instances'], 'needs at least one instance');
  // The count is checked before any instance is parsed: a huge list costs one message.
  const listed = list !== undefined && c.withinBound(list, LIMITS.instances, ['instances'], 'instances') ? list : [];
  const instances = listed.map((r, i) => {
    const inst = instance(c, r, i);
    if (inst !== undefined) checkSelfFence(c, inst, i);
    if (inst !== undefined) checkUnicastTtl(c, inst, i);
    return inst;
  }).filter((x): x is InstanceConfig => x !== undefined);

  const vridUsers = new Map<string, number>();
  const nameUsers = new Map<string, number>();
  instances.forEach((inst, i) => {
    const key = `${inst.interface}/${inst.family}/${inst.vrid}`;
    const prev = vridUsers.get(key);
    if (prev !== undefined) c.fail(['instances', i, 'vrid'], `VRID ${inst.vrid} is already used on ${inst.interface} by instances[${prev}]`);
    else vridUsers.set(key, i);
    const dup = nameUsers.get(inst.name);
    if (dup !== undefined) c.fail(['instances', i, 'name'], `name "${inst.name}" is already used by instances[${dup}]`);
    else nameUsers.set(inst.name, i);
  });

  const metricsListen = metrics(c, raw['metrics']);
  const stateDir = c.str(raw, 'state-dir', []) ?? DEFAULT_STATE_DIR;
  if (!stateDir.startsWith('/')) c.fail(['state-dir'], 'must be an absolute path');
  const peerPort = c.int(raw, 'peer-port', [], 1, 65535) ?? DEFAULT_PEER_PORT;
  const peerKey = c.str(raw, 'peer-key', []);
  const alerts = parseAlerts(c, raw['alerts'], ['alerts']);
  const etcd = parseEtcd(c, raw['etcd'], ['etcd']);
  checkEtcdInstances(c, instances, etcd, raw['etcd'] !== undefined);
  const rt = realtime(c, raw['realtime']);
  const lockMemory = c.bool(raw, 'lock-memory', []) ?? false;
  // Hellos without a key could be forged or replayed by anyone on a path network (demote the
  // master, hold a backup back, feed garbage epochs): with paths, a key is required.
  if (instances.some((inst) => inst.paths.length > 0) && (peerKey === undefined || peerKey.length === 0)) {
    c.fail(['peer-key'], 'is required when an instance has paths: peer hellos are authenticated with it (HMAC-SHA256); '
      + 'without it anyone who can reach the peer port could forge or replay hellos. Set the same secret on both nodes');
  }
  if (c.errors.length > 0) return { ok: false, errors: c.report() };
  return { ok: true, config: Object.freeze({ socketPath, instances: Object.freeze(instances), metricsListen, stateDir, peerPort, peerKey, alerts, etcd,
    // Only when set: a config without these keys keeps exactly its former shape.
    ...(rt === undefined ? {} : { realtime: rt }), ...(lockMemory ? { lockMemory } : {}) }) };
}
