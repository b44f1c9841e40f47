/**
 * `conntrack-sync:` of an instance: connection-state replication with conntrackd (FTFW over
 * UDP) so that the balanced connections survive a change of master, and the floating source
 * address forwarded connections are NATed to.
 *
 *   conntrack-sync:
 *     interface: int0            # the sync link (the internal network or a dedicated one)
 *     local: 10.66.0.11          # this node's address on it
 *     peer: 10.66.0.12           # the other node's address on it
 *     port: 3780                 # UDP port (default 3780)
 *     redundant: [{ interface: sync1, local: 10.79.0.1, peer: 10.79.0.2 }]
 *     snat-address: 10.66.0.100/24   # floating: on the master only, like a VIP
 *     snat-interface: int0       # where it is added (default: interface)
 *     commit-timeout: 5s         # bound on committing the peer's connections at takeover
 *
 * What a synced connection needs on the new master (why the config enforces it): its replies
 * must come back to whoever is master, so every balanced connection is source-NATed to the
 * floating address, never to a node's own address (no masquerade, no other `snat`); a
 * service's `snat` defaults to it and may only repeat it. IPv4 only (the instance, the link
 * and the address). Needs at least one nftables-mode virtual service.
 *
 * Not checked here: that the interfaces and addresses exist (the daemon and conntrackd do).
 */
import { parseAddress, parseVip, type Vip } from '../net/address.js';
import { Collector, isRecord, type PathSegment } from './collector.js';
import type { ConntrackLink, ConntrackSyncConfig, VirtualServiceConfig } from './types.js';

export type { ConntrackLink, ConntrackSyncConfig } from './types.js';

/** One UDP link of the sync: this node's address and the peer's on `interface`. */
export const DEFAULT_CONNTRACK_PORT = 3780;
export const DEFAULT_COMMIT_TIMEOUT_MS = 5000;
/** conntrackd handles a few dedicated links; more is a config mistake. */
export const MAX_REDUNDANT_LINKS = 3;

const KEYS = new Set(['interface', 'local', 'peer', 'port', 'redundant', 'snat-address', 'snat-interface', 'commit-timeout']);
const LINK_KEYS = new Set(['interface', 'local', 'peer']);

function ipv4(c: Collector, raw: Record<string, unknown>, key: string, path: readonly PathSegment[]): string | undefined {
  const text = c.str(raw, key, path);
  if (text === undefined) return raw[key] === undefined ? c.fail([...path, key], 'is required') : undefined;
  const a = parseAddress(text);
  if (!a.ok) return c.fail([...path, key], a.reason);
  if (a.family !== 4) return c.fail([...path, key], `${a.address}: conntrack sync is configured for IPv4 only`);
  return a.address;
}

/** `keys`: check for unknown keys (a redundant link's own mapping; the main link's keys share the sync mapping). */
function link(c: Collector, raw: unknown, path: readonly PathSegment[], keys: boolean): ConntrackLink | undefined {
  if (!isRecord(raw)) return c.fail(path, 'must be a mapping { interface, local, peer }');
  if (keys) c.unknownKeys(raw, LINK_KEYS, path);
  const iface = c.ifname(raw, 'interface', path);
  if (raw['interface'] === undefined) c.fail([...path, 'interface'], 'is required');
  const local = ipv4(c, raw, 'local', path);
  const peer = ipv4(c, raw, 'peer', path);
  if (local !== undefined && local === peer) return c.fail([...path, 'peer'], `is the same address as local (${local})`);
  if (iface === undefined || local === undefined || peer === undefined) return undefined;
  return Object.freeze({ interface: iface, local, peer });
}

/** `conntrack-sync` of the instance mapping `raw`; undefined when absent (sync off). */
export function parseConntrackSync(c: Collector, raw: unknown, path: readonly PathSegment[], family: 4 | 6): ConntrackSyncConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) return c.fail(path, 'must be a mapping like { interface: int0, local: 10.66.0.11, peer: 10.66.0.12, snat-address: 10.66.0.100/24 }');
  c.unknownKeys(raw, KEYS, path);
  if (family !== 4) c.fail(path, 'conntrack sync is configured for IPv4 instances only');
  const main = link(c, raw, path, false);
  const port = c.int(raw, 'port', path, 1, 65535) ?? DEFAULT_CONNTRACK_PORT;
  const links: ConntrackLink[] = main === undefined ? [] : [main];
  const redundant = c.list(raw, 'redundant', path) ?? [];
  if (c.withinBound(redundant, MAX_REDUNDANT_LINKS, [...path, 'redundant'], 'links')) {
    redundant.forEach((r, i) => {
      const l = link(c, r, [...path, 'redundant', i], true);
      if (l === undefined) return;
      if (links.some((o) => o.interface === l.interface)) c.fail([...path, 'redundant', i, 'interface'], `${l.interface} is already a sync link`);
      else links.push(l);
    });
  }
  const snatText = c.str(raw, 'snat-address', path);
  let snat: Vip | undefined;
  if (snatText === undefined) {
    if (raw['snat-address'] === undefined) c.fail([...path, 'snat-address'], 'is required: the floating source address (CIDR) forwarded connections are NATed to, present on the master only');
  } else {
    const v = parseVip(snatText);
    if (!v.ok) c.fail([...path, 'snat-address'], v.reason);
    else if (v.vip.family !== 4) c.fail([...path, 'snat-address'], 'must be IPv4');
    else snat = v.vip;
  }
  const snatInterface = c.ifname(raw, 'snat-interface', path) ?? main?.interface;
  const commitTimeoutMs = c.durationMs(raw, 'commit-timeout', path) ?? DEFAULT_COMMIT_TIMEOUT_MS;
  if (commitTimeoutMs < 100 || commitTimeoutMs > 60_000) c.fail([...path, 'commit-timeout'], 'must be from 100ms to 1m');
  if (links.length === 0 || snat === undefined || snatInterface === undefined) return undefined;
  if (links.some((l) => l.local === snat.address || l.peer === snat.address)) {
    c.fail([...path, 'snat-address'], `${snat.address} is a sync link address; the floating address must be one of its own`);
  }
  return Object.freeze({ links: Object.freeze(links), port, snat, snatInterface, commitTimeoutMs });
}

/**
 * The services as the balancer must serve them with sync on: every nftables-mode service
 * source-NATs to the floating address, its local real server included (`floatingSnat`). A
 * service naming another `snat` is refused (its connections could not move); proxy-mode
 * services are left alone (a proxied connection ends in this node's agent and cannot move).
 * At least one nftables-mode service is required.
 * `instance` is the instance's key path.
 */
export function withFloatingSnat(c: Collector, services: readonly VirtualServiceConfig[], sync: ConntrackSyncConfig, instance: readonly PathSegment[]): readonly VirtualServiceConfig[] {
  if (!services.some((s) => s.mode === 'nftables')) {
    c.fail([...instance, 'conntrack-sync'], 'needs at least one virtual service in nftables mode: only kernel-balanced connections are synchronised');
  }
  return Object.freeze(services.map((s, i) => {
    if (s.mode !== 'nftables') return s;
    if (s.snat !== undefined && s.snat !== sync.snat.address) {
      c.fail([...instance, 'virtual-services', i, 'snat'], `is ${s.snat} but conntrack-sync.snat-address is ${sync.snat.address}: with sync on, connections must be NATed to the floating address to survive a takeover`);
    }
    return Object.freeze({ ...s, snat: sync.snat.address, floatingSnat: true as const });
  }));
}
