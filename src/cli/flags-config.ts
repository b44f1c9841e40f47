/**
 * The flags side of `start`'s configuration: the instance and top-level keys the flags set, the
 * config file they name (or the default one), and a config from the flags alone. It reads no
 * file and loads no YAML parser, so `start` from flags alone never loads one (load-config.ts
 * reads files).
 */
import { existsSync } from 'node:fs';
import { HaagentError } from '../core/errors.js';
import { ConfigInvalidError } from '../core/config/invalid.js';
import { DEFAULT_CONFIG_PATH, type AgentConfig } from '../core/config/types.js';
import { validateConfig } from '../core/config/validate.js';

export interface StartFlags {
  config?: string;
  role?: string;
  interface?: string;
  external?: string;
  vip?: string[];
  vrid?: string;
  priority?: string;
  advertInterval?: string;
  vrrpVersion?: string;
  peer?: string[];
  preempt?: boolean;
  preemptDelay?: string;
  socket?: string;
  stateDir?: string;
  name?: string;
  realtimePriority?: string;
  lockMemory?: boolean;
}

function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim())) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `${flag} takes a whole number, got "${v}"`);
  return n;
}

/** The instance keys the flags set, in config-file spelling. `preempt` only when given. */
export function flagOverrides(f: StartFlags, explicitPreempt: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (f.interface !== undefined) o['interface'] = f.interface;
  if (f.external !== undefined) o['external'] = f.external;
  if (f.vip !== undefined && f.vip.length > 0) o['vips'] = f.vip;
  if (f.vrid !== undefined) o['vrid'] = num(f.vrid, '--vrid');
  if (f.priority !== undefined) o['priority'] = num(f.priority, '--priority');
  if (f.advertInterval !== undefined) o['advert-interval'] = f.advertInterval;
  if (f.vrrpVersion !== undefined) o['vrrp-version'] = num(f.vrrpVersion, '--vrrp-version');
  if (f.peer !== undefined && f.peer.length > 0) o['peers'] = f.peer;
  if (explicitPreempt) o['preempt'] = f.preempt;
  if (f.preemptDelay !== undefined) o['preempt-delay'] = f.preemptDelay;
  if (f.name !== undefined) o['name'] = f.name;
  return o;
}

/** Keys the top level takes from flags, in config-file spelling. */
export function topOverrides(f: StartFlags): Record<string, unknown> {
  return {
    ...(f.socket !== undefined ? { socket: f.socket } : {}),
    ...(f.stateDir !== undefined ? { 'state-dir': f.stateDir } : {}),
    ...(f.realtimePriority !== undefined ? { realtime: { priority: num(f.realtimePriority, '--realtime-priority') } } : {}),
    ...(f.lockMemory === true ? { 'lock-memory': true } : {}),
  };
}

/**
 * The config file `f` makes `start` read: --config, else the default file when it exists and no
 * --interface was given; undefined for a config from the flags alone.
 */
export function configPathOf(f: StartFlags): string | undefined {
  return f.config ?? (existsSync(DEFAULT_CONFIG_PATH) && f.interface === undefined ? DEFAULT_CONFIG_PATH : undefined);
}

/**
 * The one-instance config from the flags alone (configPathOf(f) is undefined). Throws
 * HaagentError: HA_ERR_CONFIG without --interface, ConfigInvalidError listing every problem,
 * HA_ERR_INVALID_ARGUMENT for a malformed flag.
 */
export function loadFlagsConfig(f: StartFlags, explicitPreempt: boolean): { config: AgentConfig; source: string } {
  const overrides = flagOverrides(f, explicitPreempt); // a malformed flag is reported first
  if (f.interface === undefined) {
    throw new HaagentError('HA_ERR_CONFIG', `no config: ${DEFAULT_CONFIG_PATH} does not exist and no --config or --interface was given (try: haagent start --interface eth1 --external eth0 --vip 192.0.2.10/24 --vrid 51)`);
  }
  const source = 'command-line flags';
  const inst = { ...(f.role !== undefined ? { role: f.role } : {}), ...overrides };
  const result = validateConfig({ ...topOverrides(f), instances: [inst] });
  if (!result.ok) throw new ConfigInvalidError(source, result.errors);
  return { config: result.config, source };
}
