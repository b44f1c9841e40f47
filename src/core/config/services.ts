/**
 * `virtual-services:` of an instance: `vip:port/tcp` balanced over real
 * servers, each with an optional health check (any check kind; a failing check takes the server
 * out of the rotation). The VIP defaults to the instance's first VIP and must be one of its VIPs;
 * IPv4 and IPv6 VIPs both work, and real servers and the SNAT source must be of the VIP's family.
 *
 * The shape, scheduler names and weight bounds are those of src/core/lb/types.ts. This is the
 * only place a service's fields are validated: buildRuleset (src/core/lb/ruleset.ts) and the
 * proxy rely on it. Not checked here: the same vip:port in two instances (buildRuleset refuses
 * it when both are masters here).
 */
import { parseChecks } from './checks.js';
import { parseAddress, type Vip } from '../net/address.js';
import { Collector, isRecord, shown, type PathSegment } from './collector.js';
import { LIMITS } from './limits.js';
import type { CheckConfig, RealServerConfig, VirtualServiceConfig } from './types.js';
import { hostPort } from '../packet/ip.js';
import { serviceName } from '../lb/name.js';
import { MAX_WEIGHT, MIN_WEIGHT, SCHEDULERS, SERVICE_MODES } from '../lb/types.js';

/** `value` is one of `names` (the lb layer's lists of modes and schedulers). */
function isOneOf<T extends string>(names: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (names as readonly string[]).includes(value);
}

function realServer(c: Collector, raw: unknown, path: readonly PathSegment[], fallbackPort: number, family: 4 | 6): RealServerConfig | undefined {
  if (!isRecord(raw)) return c.fail(path, 'must be a mapping like { address: 10.0.0.11, port: 80 }');
  c.unknownKeys(raw, new Set(['address', 'port', 'weight', 'check']), path);
  const text = c.str(raw, 'address', path);
  if (text === undefined) return raw['address'] === undefined ? c.fail([...path, 'address'], 'is required') : undefined;
  const a = parseAddress(text);
  if (!a.ok) return c.fail([...path, 'address'], a.reason);
  if (a.family !== family) return c.fail([...path, 'address'], `${a.address} is IPv${a.family} but the VIP is IPv${family}`);
  const port = c.int(raw, 'port', path, 1, 65535) ?? fallbackPort;
  const weight = c.int(raw, 'weight', path, MIN_WEIGHT, MAX_WEIGHT) ?? 1;
  let check: CheckConfig | undefined;
  const rc = raw['check'];
  if (rc !== undefined) {
    if (!isRecord(rc)) return c.fail([...path, 'check'], 'must be a check mapping, e.g. { type: tcp } or { type: http }');
    // Defaults point the check at this real server: tcp to its address and port, http to its root.
    const defaults: Record<string, unknown> = { name: `${a.address.replace(/:/g, '_')}-${port}` }; // names allow no ":"
    if (rc['type'] === 'tcp') Object.assign(defaults, { host: a.address, port });
    if (rc['type'] === 'http') defaults['url'] = `http://${hostPort(a.address, port)}/`;
    // parseChecks reports paths as <path>.check[0].<key>; the list has one element.
    check = parseChecks(c, [{ ...defaults, ...rc }], [...path, 'check'])[0];
  }
  return Object.freeze({ address: a.address, port, weight, check });
}

export function parseServices(c: Collector, raw: unknown, path: readonly PathSegment[], vips: readonly Vip[]): readonly VirtualServiceConfig[] {
  if (raw === undefined || raw === null) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    c.fail(path, 'must be a list of virtual services');
    return Object.freeze([]);
  }
  if (!c.withinBound(raw, LIMITS.virtualServices, path, 'virtual services')) return Object.freeze([]);
  const vipAddresses = vips.map((v) => v.address);
  const vipSet = new Set(vipAddresses);
  const out: VirtualServiceConfig[] = [];
  const defined = new Set<string>();
  raw.forEach((r, i) => {
    const p = [...path, i];
    if (!isRecord(r)) return c.fail(p, 'must be a mapping { port, real-servers, ... }');
    c.unknownKeys(r, new Set(['mode', 'vip', 'port', 'protocol', 'scheduler', 'real-servers', 'snat']), p);
    const mode = r['mode'] ?? 'nftables';
    if (!isOneOf(SERVICE_MODES, mode)) return c.fail([...p, 'mode'], `must be ${SERVICE_MODES.join(' or ')}, got ${shown(mode)}`);
    const vipText = c.str(r, 'vip', p) ?? vipAddresses[0];
    if (vipText === undefined) return c.fail([...p, 'vip'], 'the instance has no VIP');
    const vip = parseAddress(vipText);
    if (!vip.ok) return c.fail([...p, 'vip'], vip.reason);
    if (!vipSet.has(vip.address)) return c.fail([...p, 'vip'], `${vip.address} is not one of this instance's VIPs (${vipAddresses.join(', ')})`);
    const port = c.int(r, 'port', p, 1, 65535);
    if (port === undefined) return r['port'] === undefined ? c.fail([...p, 'port'], 'is required') : undefined;
    const protocol = r['protocol'] ?? 'tcp';
    if (protocol !== 'tcp') c.fail([...p, 'protocol'], `only tcp is balanced, got ${shown(protocol)}`);
    const scheduler = r['scheduler'] ?? 'round-robin';
    if (!isOneOf(SCHEDULERS, scheduler)) {
      return c.fail([...p, 'scheduler'], `must be one of ${SCHEDULERS.join(', ')}, got ${shown(scheduler)}`);
    }
    const list = c.list(r, 'real-servers', p);
    if (list === undefined || list.length === 0) return c.fail([...p, 'real-servers'], 'needs at least one real server');
    if (!c.withinBound(list, LIMITS.realServers, [...p, 'real-servers'], 'real servers')) return undefined;
    const servers: RealServerConfig[] = [];
    const listed = new Set<string>();
    list.forEach((s, j) => {
      const server = realServer(c, s, [...p, 'real-servers', j], port, vip.family);
      if (server === undefined) return;
      const key = hostPort(server.address, server.port);
      if (listed.has(key)) c.fail([...p, 'real-servers', j], `${key} is listed twice in this service`);
      listed.add(key);
      servers.push(server);
    });
    const snatText = c.str(r, 'snat', p);
    const snat = snatText === undefined ? undefined : parseAddress(snatText);
    if (snat !== undefined && !snat.ok) c.fail([...p, 'snat'], snat.reason);
    if (snat?.ok === true && snat.family !== vip.family) c.fail([...p, 'snat'], `${snat.address} is IPv${snat.family} but the VIP is IPv${vip.family}`);
    const name = serviceName({ vip: vip.address, port, protocol: 'tcp' });
    if (defined.has(name)) c.fail(p, `${name} is defined twice`);
    defined.add(name);
    out.push(Object.freeze({
      mode, vip: vip.address, port, protocol: 'tcp', scheduler,
      realServers: Object.freeze(servers), snat: snat?.ok === true ? snat.address : undefined,
    }));
    return undefined;
  });
  return Object.freeze(out);
}
