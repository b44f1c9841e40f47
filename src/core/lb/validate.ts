/**
 * Argument checks for buildRuleset. The config layer is expected to have rejected bad input
 * with a located ConfigError already; these checks keep a programming error from reaching the
 * kernel as a half-understood nft message. They throw HA_ERR_INVALID_ARGUMENT naming the path.
 */
import { HaagentError } from '../errors.js';
import { SCHEDULERS, type RulesetOptions, type VirtualService } from './types.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const MIN_WEIGHT = 1;
export const MAX_WEIGHT = 100;

export function isIpv4(s: unknown): s is string {
  return typeof s === 'string' && IPV4.test(s);
}

function isPort(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
}

function fail(path: string, message: string): never {
  throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `${path}: ${message}`);
}

/** Throws on the first problem; duplicate vip:port services and duplicate real servers included. */
export function validateServices(services: readonly VirtualService[], opts: RulesetOptions): void {
  if (opts.snatAddress !== undefined && !isIpv4(opts.snatAddress)) fail('snatAddress', `"${String(opts.snatAddress)}" is not an IPv4 address`);
  const seen = new Set<string>();
  services.forEach((s, i) => {
    const at = `services[${i}]`;
    if (!isIpv4(s.vip)) fail(`${at}.vip`, `"${String(s.vip)}" is not an IPv4 address`);
    if (!isPort(s.port)) fail(`${at}.port`, `${String(s.port)} is not a port (1..65535)`);
    if (s.protocol !== 'tcp') fail(`${at}.protocol`, `"${String(s.protocol)}" is not supported (only tcp)`);
    if (!SCHEDULERS.includes(s.scheduler)) fail(`${at}.scheduler`, `"${String(s.scheduler)}" is not one of ${SCHEDULERS.join(', ')}`);
    const key = `${s.vip}:${s.port}/${s.protocol}`;
    if (seen.has(key)) fail(at, `${key} is defined twice`);
    seen.add(key);
    const servers = new Set<string>();
    s.realServers.forEach((r, j) => {
      const rat = `${at}.realServers[${j}]`;
      if (!isIpv4(r.address)) fail(`${rat}.address`, `"${String(r.address)}" is not an IPv4 address`);
      if (!isPort(r.port)) fail(`${rat}.port`, `${String(r.port)} is not a port (1..65535)`);
      if (!Number.isInteger(r.weight) || r.weight < MIN_WEIGHT || r.weight > MAX_WEIGHT) {
        fail(`${rat}.weight`, `${String(r.weight)} is not an integer ${MIN_WEIGHT}..${MAX_WEIGHT}`);
      }
      if (typeof r.up !== 'boolean') fail(`${rat}.up`, 'must be a boolean');
      const rkey = `${r.address}:${r.port}`;
      if (servers.has(rkey)) fail(rat, `${rkey} is listed twice in ${key}`);
      servers.add(rkey);
    });
  });
}
