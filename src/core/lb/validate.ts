/**
 * The argument checks buildRuleset makes itself: only what the config layer does not check.
 * Every field of a service (addresses and their family, ports, protocol, scheduler, weight
 * bounds, SNAT source) is validated once, by the config (src/core/config/services.ts, with a
 * located error), and not again here. What is left:
 * - the same vip:port twice in the list: the config rejects it within one instance, but the
 *   balancer hands over the services of every MASTER instance at once;
 * - the same real server twice in one service (the config refuses it too; a map with a
 *   duplicate key would make nft fail with a half-understood message);
 * - verdicts that do not match the services one to one (a programming error).
 * They throw HA_ERR_INVALID_ARGUMENT naming the path.
 */
import { HaagentError } from '../errors.js';
import { hostPort } from '../packet/ip.js';
import { serviceName } from './name.js';
import type { UpFlags, VirtualService } from './types.js';

function fail(path: string, message: string): never {
  throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `${path}: ${message}`);
}

/** Throws on the first problem of those listed in the module comment. */
export function validateServices(services: readonly VirtualService[], up: UpFlags): void {
  if (up.length !== services.length) fail('up', `has ${up.length} entries for ${services.length} services`);
  const seen = new Set<string>();
  services.forEach((s, i) => {
    const at = `services[${i}]`;
    const flags = up[i] ?? [];
    if (flags.length !== s.realServers.length) fail(`up[${i}]`, `has ${flags.length} verdicts for ${s.realServers.length} real servers`);
    const key = serviceName(s);
    if (seen.has(key)) fail(at, `${key} is defined twice`);
    seen.add(key);
    const servers = new Set<string>();
    s.realServers.forEach((r, j) => {
      const rkey = hostPort(r.address, r.port);
      if (servers.has(rkey)) fail(`${at}.realServers[${j}]`, `${rkey} is listed twice in ${key}`);
      servers.add(rkey);
    });
  });
}
