/**
 * The etcd keys: the top-level `etcd:` mapping (where the cluster is, the lease, timing, TLS
 * file paths) and the per-instance `election` and `etcd-unreachable`.
 *
 * Checked here: URL shape (http/https origin, no credentials, no path), bounds, the lease in
 * whole seconds (etcd grants whole seconds and refuses a TTL under 1), and that the timing can
 * work: one keepalive interval plus two request timeouts must fit in the lease, or a healthy
 * node would fence itself between two on-time keepalives (see src/core/etcd/fence-deadline.ts).
 * Not checked here (no I/O in core): whether the TLS files exist and can be read; the etcd
 * adapter reads them when it is built, before anything is started.
 */
import { Collector, isRecord, shown, type PathSegment } from './collector.js';
import type { ElectionMode, EtcdConfig, EtcdUnreachable } from './types.js';

export const ELECTION_MODES: readonly ElectionMode[] = ['vrrp', 'vrrp+etcd', 'etcd'];
const UNREACHABLE: readonly EtcdUnreachable[] = ['keep', 'release'];

/** Most endpoints of one cluster (a real one has 3 or 5 members). */
export const MAX_ETCD_ENDPOINTS = 16;
export const DEFAULT_ETCD_LEASE_S = 2;
/** Longest lease: a dead holder keeps its key this long, so an hour is far beyond any real use. */
export const MAX_ETCD_LEASE_S = 3600;
export const DEFAULT_ETCD_PREFIX = '/haagent';
export const DEFAULT_ETCD_REQUEST_TIMEOUT_MS = 300;
export const MIN_ETCD_KEEPALIVE_MS = 100;
const MAX_PREFIX_CHARS = 256;
/** A prefix: "/" then path segments of safe characters, no trailing "/", no empty segment. */
const PREFIX = /^(\/[A-Za-z0-9_.-]+)+$/;

const ETCD_KEYS = new Set(['endpoints', 'lease', 'prefix', 'request-timeout', 'keepalive-interval', 'tls']);
const TLS_KEYS = new Set(['ca', 'cert', 'key']);

/** The default keepalive interval for a lease: an eighth of it, at least 100 ms. */
export function defaultKeepaliveIntervalMs(leaseTtlS: number): number {
  return Math.max(MIN_ETCD_KEEPALIVE_MS, Math.floor((leaseTtlS * 1000) / 8));
}

/** `http(s)://host:port` (an origin; a trailing "/" is dropped), or why not. */
function endpoint(c: Collector, raw: unknown, path: readonly PathSegment[]): string | undefined {
  if (typeof raw !== 'string' || raw === '') return c.fail(path, `must be an http:// or https:// URL string, got ${shown(raw)}`);
  let url: URL | undefined;
  try { url = new URL(raw); } catch { url = undefined; }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    return c.fail(path, `${shown(raw)} is not an http:// or https:// URL (e.g. http://10.0.0.1:2379)`);
  }
  if (url.username !== '' || url.password !== '') return c.fail(path, 'must not carry a user or password (etcd authentication is not supported; use TLS client certificates)');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return c.fail(path, `must be scheme://host:port only, without a path or query, got ${shown(raw)}`);
  }
  return url.origin;
}

function endpoints(c: Collector, raw: Record<string, unknown>, path: readonly PathSegment[]): readonly string[] {
  const p = [...path, 'endpoints'];
  const list = c.list(raw, 'endpoints', path);
  if (list === undefined) {
    if (raw['endpoints'] === undefined) c.fail(p, 'is required: the client URLs of the etcd members, e.g. [http://10.0.0.1:2379]');
    return [];
  }
  if (list.length === 0) {
    c.fail(p, 'needs at least one URL');
    return [];
  }
  if (!c.withinBound(list, MAX_ETCD_ENDPOINTS, p, 'endpoints')) return [];
  const out: string[] = [];
  list.forEach((e, i) => {
    const url = endpoint(c, e, [...p, i]);
    if (url === undefined) return;
    if (out.includes(url)) {
      c.fail([...p, i], `${url} is listed twice`);
      return;
    }
    out.push(url);
  });
  return out;
}

function leaseTtlS(c: Collector, raw: Record<string, unknown>, path: readonly PathSegment[]): number {
  const ms = c.durationMs(raw, 'lease', path);
  if (ms === undefined) return DEFAULT_ETCD_LEASE_S;
  if (ms % 1000 !== 0 || ms < 1000) {
    c.fail([...path, 'lease'], `must be whole seconds, at least 1s (etcd grants leases in whole seconds), got ${ms} ms`);
    return DEFAULT_ETCD_LEASE_S;
  }
  if (ms > MAX_ETCD_LEASE_S * 1000) {
    c.limit([...path, 'lease'], `is ${ms / 1000}s, over the limit of ${MAX_ETCD_LEASE_S}s (a dead holder keeps its key that long)`);
    return DEFAULT_ETCD_LEASE_S;
  }
  return ms / 1000;
}

function prefix(c: Collector, raw: Record<string, unknown>, path: readonly PathSegment[]): string {
  const v = c.str(raw, 'prefix', path);
  if (v === undefined) return DEFAULT_ETCD_PREFIX;
  if (v.length > MAX_PREFIX_CHARS) {
    c.limit([...path, 'prefix'], `is ${v.length} characters long, over the limit of ${MAX_PREFIX_CHARS}`);
    return DEFAULT_ETCD_PREFIX;
  }
  if (!PREFIX.test(v)) {
    c.fail([...path, 'prefix'], `must start with "/" and hold path segments of letters, digits, "_", "." and "-" (no trailing "/"), got ${shown(v)}`);
    return DEFAULT_ETCD_PREFIX;
  }
  return v;
}

function tls(c: Collector, raw: unknown, https: boolean, path: readonly PathSegment[]): EtcdConfig['tls'] {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) return c.fail(path, 'must be a mapping like { ca: /etc/haagent/etcd-ca.pem, cert: ..., key: ... }');
  c.unknownKeys(raw, TLS_KEYS, path);
  const out: { ca?: string; cert?: string; key?: string } = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    const v = c.str(raw, k, path);
    if (v === undefined) continue;
    if (!v.startsWith('/')) c.fail([...path, k], `must be an absolute path, got ${shown(v)}`);
    else out[k] = v;
  }
  if ((raw['cert'] === undefined) !== (raw['key'] === undefined)) c.fail(path, 'cert and key go together (a client certificate needs its key)');
  if (!https) c.fail(path, 'is set but no endpoint is https://; TLS applies to https endpoints only');
  return Object.freeze(out);
}

/**
 * The top-level `etcd:` mapping, or undefined when absent. Every key but `endpoints` has a
 * default; the timing keys are checked against each other (see the file comment).
 */
export function parseEtcd(c: Collector, raw: unknown, path: readonly PathSegment[]): EtcdConfig | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) return c.fail(path, 'must be a mapping like { endpoints: [http://10.0.0.1:2379], lease: 2s }');
  c.unknownKeys(raw, ETCD_KEYS, path);
  const urls = endpoints(c, raw, path);
  const ttlS = leaseTtlS(c, raw, path);
  const requestTimeoutMs = c.durationMs(raw, 'request-timeout', path) ?? DEFAULT_ETCD_REQUEST_TIMEOUT_MS;
  const timeoutOk = requestTimeoutMs >= 10 && requestTimeoutMs <= 10_000;
  if (!timeoutOk) c.fail([...path, 'request-timeout'], `must be from 10ms to 10s, got ${requestTimeoutMs} ms`);
  const keepaliveIntervalMs = c.durationMs(raw, 'keepalive-interval', path) ?? defaultKeepaliveIntervalMs(ttlS);
  const intervalOk = keepaliveIntervalMs >= MIN_ETCD_KEEPALIVE_MS;
  if (!intervalOk) c.fail([...path, 'keepalive-interval'], `must be at least ${MIN_ETCD_KEEPALIVE_MS}ms, got ${keepaliveIntervalMs} ms`);
  if (timeoutOk && intervalOk && keepaliveIntervalMs + 2 * requestTimeoutMs >= ttlS * 1000) {
    c.fail([...path, raw['keepalive-interval'] === undefined ? 'request-timeout' : 'keepalive-interval'],
      `keepalive-interval (${keepaliveIntervalMs} ms) + 2 x request-timeout (${requestTimeoutMs} ms) must be under the lease (${ttlS * 1000} ms), `
      + 'or a healthy node would fence itself between two keepalives; use a longer lease or shorter timings');
  }
  const tlsConfig = tls(c, raw['tls'], urls.some((u) => u.startsWith('https:')), [...path, 'tls']);
  return Object.freeze({
    endpoints: Object.freeze(urls), leaseTtlS: ttlS, prefix: prefix(c, raw, path), requestTimeoutMs, keepaliveIntervalMs,
    ...(tlsConfig === undefined ? {} : { tls: tlsConfig }),
  });
}

/** An instance's `election` and `etcd-unreachable` (defaults: vrrp, release). */
export function parseElection(c: Collector, raw: Record<string, unknown>, path: readonly PathSegment[]): { election: ElectionMode; etcdUnreachable: EtcdUnreachable } {
  const modeRaw = raw['election'] ?? 'vrrp';
  let election: ElectionMode = 'vrrp';
  if (typeof modeRaw === 'string' && (ELECTION_MODES as readonly string[]).includes(modeRaw)) election = modeRaw as ElectionMode;
  else c.fail([...path, 'election'], `must be one of ${ELECTION_MODES.join(', ')}, got ${shown(modeRaw)}`);
  const unreachableRaw = raw['etcd-unreachable'];
  let etcdUnreachable: EtcdUnreachable = 'release';
  if (unreachableRaw !== undefined) {
    if (typeof unreachableRaw === 'string' && (UNREACHABLE as readonly string[]).includes(unreachableRaw)) etcdUnreachable = unreachableRaw as EtcdUnreachable;
    else c.fail([...path, 'etcd-unreachable'], `must be keep or release, got ${shown(unreachableRaw)}`);
    if (election !== 'vrrp+etcd') c.fail([...path, 'etcd-unreachable'], `applies to election: vrrp+etcd only (this instance uses ${election})`);
  }
  return { election, etcdUnreachable };
}

/**
 * Cross-checks once every instance is parsed: an instance that elects through etcd needs the
 * top-level `etcd:`, and its name becomes a key segment, so it may not contain "/".
 */
export function checkEtcdInstances(c: Collector, instances: readonly { name: string; election: ElectionMode }[], etcd: EtcdConfig | undefined, hasEtcdKey: boolean): void {
  instances.forEach((inst, i) => {
    if (inst.election === 'vrrp') return;
    if (etcd === undefined && !hasEtcdKey) c.fail(['instances', i, 'election'], `${inst.election} needs the top-level etcd: mapping (endpoints of the etcd cluster)`);
    if (inst.name.includes('/')) c.fail(['instances', i, 'name'], `"${inst.name}" is part of the instance's etcd keys and must not contain "/"`);
  });
}
