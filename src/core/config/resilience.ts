/**
 * Resilience keys of an instance: `paths` (extra haagent-only heartbeat paths), `witness` (tie-
 * breakers) and `vip-lifetime` (kernel lifetime of the VIPs while master).
 */
import { parseAddress } from '../net/address.js';
import { Collector, isRecord, shown, type PathSegment } from './collector.js';
import { LIMITS } from './limits.js';
import type { AddressFamily } from '../fsm/types.js';
import type { PathConfig, WitnessConfig } from './types.js';

export function parsePaths(c: Collector, raw: unknown, path: readonly PathSegment[]): readonly PathConfig[] {
  if (raw === undefined || raw === null) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    c.fail(path, 'must be a list like [{ interface: eth0, peer: 192.0.2.2 }]');
    return Object.freeze([]);
  }
  if (!c.withinBound(raw, LIMITS.paths, path, 'paths')) return Object.freeze([]);
  const out: PathConfig[] = [];
  const seen = new Set<string>();
  raw.forEach((r, i) => {
    const p = [...path, i];
    if (!isRecord(r)) return c.fail(p, 'must be a mapping { interface, peer }');
    c.unknownKeys(r, new Set(['interface', 'peer']), p);
    const iface = c.ifname(r, 'interface', p);
    if (r['interface'] === undefined) c.fail([...p, 'interface'], 'is required');
    const peerText = c.str(r, 'peer', p);
    if (r['peer'] === undefined) c.fail([...p, 'peer'], "is required (the peer's address on that network)");
    const peer = peerText === undefined ? undefined : parseAddress(peerText);
    if (peer !== undefined && !peer.ok) c.fail([...p, 'peer'], peer.reason);
    if (iface !== undefined && peer?.ok === true) {
      const key = `${iface} ${peer.address}`;
      if (seen.has(key)) c.fail(p, `path ${iface} -> ${peer.address} is listed twice`);
      seen.add(key);
      out.push(Object.freeze({ interface: iface, peer: peer.address }));
    }
    return undefined;
  });
  return Object.freeze(out);
}

export function parseWitness(c: Collector, raw: unknown, path: readonly PathSegment[]): readonly WitnessConfig[] {
  if (raw === undefined || raw === null) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    c.fail(path, 'must be a list like [{ type: icmp, address: 192.0.2.1 }]');
    return Object.freeze([]);
  }
  if (!c.withinBound(raw, LIMITS.witnesses, path, 'witnesses')) return Object.freeze([]);
  const out: WitnessConfig[] = [];
  raw.forEach((r, i) => {
    const p = [...path, i];
    if (!isRecord(r)) return c.fail(p, 'must be a mapping with a type (icmp, tcp, http)');
    const type = r['type'];
    if (type === 'icmp' || type === 'tcp') {
      c.unknownKeys(r, new Set(type === 'icmp' ? ['type', 'address'] : ['type', 'address', 'port']), p);
      const text = c.str(r, 'address', p);
      const a = text === undefined ? undefined : parseAddress(text);
      if (a === undefined) return c.fail([...p, 'address'], 'is required (an IP address: no DNS lookups)');
      if (!a.ok) return c.fail([...p, 'address'], a.reason);
      if (type === 'icmp') {
        out.push(Object.freeze({ type, address: a.address }));
        return undefined;
      }
      const port = c.int(r, 'port', p, 1, 65535);
      if (port === undefined) return r['port'] === undefined ? c.fail([...p, 'port'], 'is required for a tcp witness') : undefined;
      out.push(Object.freeze({ type, address: a.address, port }));
      return undefined;
    }
    if (type === 'http') {
      c.unknownKeys(r, new Set(['type', 'url']), p);
      const url = c.str(r, 'url', p);
      let ok = false;
      try { ok = url !== undefined && ['http:', 'https:'].includes(new URL(url).protocol); } catch { ok = false; }
      if (!ok || url === undefined) return c.fail([...p, 'url'], 'is required: an http(s) URL');
      out.push(Object.freeze({ type, url }));
      return undefined;
    }
    return c.fail([...p, 'type'], `must be icmp, tcp or http, got ${shown(type)}`);
  });
  return Object.freeze(out);
}

export function parseVipLifetime(c: Collector, raw: unknown, path: readonly PathSegment[]): number | 'auto' {
  if (raw === undefined || raw === 'auto') return 'auto';
  if (raw === 'off' || raw === 0 || raw === false) return 0;
  const ms = c.durationMs({ 'vip-lifetime': raw }, 'vip-lifetime', path.slice(0, -1));
  if (ms === undefined) return 'auto';
  if (ms % 1000 !== 0 || ms < 1000 || ms > 86_400_000) {
    c.fail(path, 'must be "auto", "off" or whole seconds from 1s to 24h (the kernel counts address lifetimes in seconds)');
    return 'auto';
  }
  return ms / 1000;
}

/** Paths must match the VIPs' address family (the hello socket binds the local address). */
export function checkPathFamilies(c: Collector, paths: readonly PathConfig[], family: AddressFamily, path: readonly PathSegment[]): void {
  paths.forEach((p, i) => {
    const f = p.peer.includes(':') ? 6 : 4;
    if (f !== family) c.fail([...path, i, 'peer'], `is IPv${f} but the instance is IPv${family}`);
  });
}
