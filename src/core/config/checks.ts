/**
 * `checks:` of an instance -> CheckConfig[]. Defaults: interval 2s, timeout 1s (never longer
 * than the interval), rise 2, fall 2, weight 0 (a failing check means FAULT unless a weight says
 * how much to lower the priority instead).
 */
import { Collector, isRecord, shown, type PathSegment } from './collector.js';
import { parseAddress } from '../net/address.js';
import { LIMITS } from './limits.js';
import type { CheckConfig, CheckType } from './types.js';

const TYPES: readonly CheckType[] = ['http', 'tcp', 'exec', 'interface', 'file'];
const COMMON_KEYS = ['name', 'type', 'interval', 'timeout', 'rise', 'fall', 'weight'];
const TYPE_KEYS: Readonly<Record<CheckType, readonly string[]>> = {
  http: ['url', 'expect-status', 'body-contains'],
  tcp: ['host', 'port'],
  exec: ['command'],
  interface: ['interface'],
  file: ['path'],
};

export function argv(c: Collector, raw: unknown, path: readonly PathSegment[]): readonly string[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return c.fail(path, 'must be a non-empty list of strings (an argument vector; no shell is used)');
  if (!c.withinBound(raw, LIMITS.argv, path, 'arguments')) return undefined;
  if (!raw.every((a) => typeof a === 'string')) return c.fail(path, 'must be a non-empty list of strings (an argument vector; no shell is used)');
  const args = raw as string[];
  const long = args.findIndex((a) => a.length > LIMITS.stringChars);
  if (long >= 0) return c.limit([...path, long], `is ${args[long]?.length ?? 0} characters long, over the limit of ${LIMITS.stringChars}`);
  if (!(args[0] ?? '').startsWith('/')) return c.fail([...path, 0], `"${args[0] ?? ''}" must be an absolute path (no PATH lookup, no shell)`);
  return Object.freeze([...args]);
}

function check(c: Collector, raw: unknown, path: readonly PathSegment[], index: number): CheckConfig | undefined {
  if (!isRecord(raw)) return c.fail(path, 'must be a mapping with at least name and type');
  const type = raw['type'];
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    return c.fail([...path, 'type'], `must be one of ${TYPES.join(', ')}, got ${shown(type)}`);
  }
  const t = type as CheckType;
  c.unknownKeys(raw, new Set([...COMMON_KEYS, ...TYPE_KEYS[t]]), path);
  const name = c.str(raw, 'name', path) ?? `${t}${index}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) c.fail([...path, 'name'], 'may contain letters, digits, "_", "." and "-" only (1..64)');
  const intervalMs = c.durationMs(raw, 'interval', path) ?? 2000;
  if (intervalMs < 100) c.fail([...path, 'interval'], 'must be at least 100ms');
  const timeoutMs = c.durationMs(raw, 'timeout', path) ?? Math.min(1000, intervalMs);
  if (timeoutMs < 10 || timeoutMs > intervalMs) c.fail([...path, 'timeout'], `must be from 10ms to the interval (${intervalMs} ms)`);
  const common = {
    name, intervalMs, timeoutMs,
    rise: c.int(raw, 'rise', path, 1, 100) ?? 2,
    fall: c.int(raw, 'fall', path, 1, 100) ?? 2,
    weight: c.int(raw, 'weight', path, 0, 253) ?? 0,
  };
  switch (t) {
    case 'http': {
      const url = c.str(raw, 'url', path);
      if (url === undefined) return c.fail([...path, 'url'], 'is required for an http check');
      let parsed: URL | undefined;
      try { parsed = new URL(url); } catch { parsed = undefined; }
      if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return c.fail([...path, 'url'], `"${url}" is not an http(s) URL`);
      const statusRaw = raw['expect-status'] ?? [200];
      const list = Array.isArray(statusRaw) ? statusRaw : [statusRaw];
      if (!c.withinBound(list, LIMITS.expectStatus, [...path, 'expect-status'], 'status codes')) return undefined;
      if (!list.every((s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599)) {
        return c.fail([...path, 'expect-status'], 'must be a status code or a list of them (100..599)');
      }
      return Object.freeze({ ...common, type: t, url, expectStatus: Object.freeze(list as number[]), bodyContains: c.str(raw, 'body-contains', path) });
    }
    case 'tcp': {
      const host = c.str(raw, 'host', path) ?? '127.0.0.1';
      const h = parseAddress(host);
      if (!h.ok) return c.fail([...path, 'host'], `${h.reason} (give an address: no DNS lookups in health checks)`);
      const port = c.int(raw, 'port', path, 1, 65535);
      if (port === undefined) return raw['port'] === undefined ? c.fail([...path, 'port'], 'is required for a tcp check') : undefined;
      return Object.freeze({ ...common, type: t, host: h.address, port });
    }
    case 'exec': {
      const command = argv(c, raw['command'], [...path, 'command']);
      return command === undefined ? undefined : Object.freeze({ ...common, type: t, command });
    }
    case 'interface': {
      const ifname = c.ifname(raw, 'interface', path);
      if (ifname === undefined) return raw['interface'] === undefined ? c.fail([...path, 'interface'], 'is required for an interface check') : undefined;
      return Object.freeze({ ...common, type: t, interface: ifname });
    }
    case 'file': {
      const p = c.str(raw, 'path', path);
      if (p === undefined) return raw['path'] === undefined ? c.fail([...path, 'path'], 'is required for a file check') : undefined;
      if (!p.startsWith('/')) return c.fail([...path, 'path'], 'must be an absolute path');
      return Object.freeze({ ...common, type: t, path: p });
    }
  }
}

export function parseChecks(c: Collector, raw: unknown, path: readonly PathSegment[]): readonly CheckConfig[] {
  if (raw === undefined || raw === null) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    c.fail(path, 'must be a list of checks');
    return Object.freeze([]);
  }
  if (!c.withinBound(raw, LIMITS.checks, path, 'checks')) return Object.freeze([]);
  const out: CheckConfig[] = [];
  const names = new Set<string>();
  raw.forEach((r, i) => {
    const chk = check(c, r, [...path, i], i);
    if (chk === undefined) return;
    if (names.has(chk.name)) c.fail([...path, i, 'name'], `check name "${chk.name}" is used twice`);
    names.add(chk.name);
    out.push(chk);
  });
  return Object.freeze(out);
}
