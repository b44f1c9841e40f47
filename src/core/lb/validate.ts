/**
 * Argument checks for buildRuleset. The config layer is expected to have rejected bad input
 * with a located ConfigError already; these checks keep a programming error from reaching the
 * kernel as a half-understood nft message. They throw HA_ERR_INVALID_ARGUMENT naming the path.
 */
import { HaagentError } from '../errors.js';
import { hostPort, ipFamily, type IpFamily } from '../packet/ip.js';
import { serviceName } from './name.js';
import { SCHEDULERS, type VirtualService } from './types.js';

export const MIN_WEIGHT = 1;
export const MAX_WEIGHT = 100;

function isPort(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
}

function fail(path: string, message: string): never {
  throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `${path}: ${message}`);
}

/** The family of `text`, which must be an address of `family` (any family when omitted). */
function address(path: string, text: unknown, family?: IpFamily): IpFamily {
  const f = typeof text === 'string' ? ipFamily(text) : undefined;
  if (f === undefined) fail(path, `"${String(text)}" is not an IP address`);
  if (family !== undefined && f !== family) fail(path, `"${String(text)}" is not an IPv${family} address like the VIP`);
  return f;
}

/**
 * Throws on the first problem: malformed fields, real servers or SNAT source of another family
 * than the VIP, duplicate vip:port services and duplicate real servers.
 */
export function validateServices(services: readonly VirtualService[]): void {
  const seen = new Set<string>();
  services.forEach((s, i) => {
    const at = `services[${i}]`;
    const family = address(`${at}.vip`, s.vip);
    if (!isPort(s.port)) fail(`${at}.port`, `${String(s.port)} is not a port (1..65535)`);
    if (s.protocol !== 'tcp') fail(`${at}.protocol`, `"${String(s.protocol)}" is not supported (only tcp)`);
    if (!SCHEDULERS.includes(s.scheduler)) fail(`${at}.scheduler`, `"${String(s.scheduler)}" is not one of ${SCHEDULERS.join(', ')}`);
    if (s.snatAddress !== undefined) address(`${at}.snatAddress`, s.snatAddress, family);
    const key = serviceName(s);
    if (seen.has(key)) fail(at, `${key} is defined twice`);
    seen.add(key);
    const servers = new Set<string>();
    s.realServers.forEach((r, j) => {
      const rat = `${at}.realServers[${j}]`;
      address(`${rat}.address`, r.address, family);
      if (!isPort(r.port)) fail(`${rat}.port`, `${String(r.port)} is not a port (1..65535)`);
      if (!Number.isInteger(r.weight) || r.weight < MIN_WEIGHT || r.weight > MAX_WEIGHT) {
        fail(`${rat}.weight`, `${String(r.weight)} is not an integer ${MIN_WEIGHT}..${MAX_WEIGHT}`);
      }
      if (typeof r.up !== 'boolean') fail(`${rat}.up`, 'must be a boolean');
      const rkey = hostPort(r.address, r.port);
      if (servers.has(rkey)) fail(rat, `${rkey} is listed twice in ${key}`);
      servers.add(rkey);
    });
  });
}
