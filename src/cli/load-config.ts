/**
 * Where `start` and `check-config` get their configuration: a YAML file (--config, or the
 * default path when it exists), or the flags alone for the simple one-instance case. Flags given
 * explicitly override the file's values for every instance; --role fills in a role where the
 * file sets none. The file is read once (refused over its size bound before reading) and parsed
 * once; the flags are merged into the parsed document before it is validated.
 */
import { existsSync } from 'node:fs';
import { HaagentError } from '../core/errors.js';
import { ConfigInvalidError } from '../core/config/invalid.js';
import { isRecord } from '../core/config/collector.js';
import { DEFAULT_CONFIG_PATH, type AgentConfig } from '../core/config/types.js';
import { validateConfig, type Locator, type ValidateResult } from '../core/config/validate.js';
import { readConfigYaml } from '../core/config/yaml.js';
import { readConfigFile } from './config-file.js';
import { loadHmacKeyFiles } from '../adapters/key-file.js';

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
function flagOverrides(f: StartFlags, explicitPreempt: boolean): Record<string, unknown> {
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
function topOverrides(f: StartFlags): Record<string, unknown> {
  return {
    ...(f.socket !== undefined ? { socket: f.socket } : {}),
    ...(f.stateDir !== undefined ? { 'state-dir': f.stateDir } : {}),
    ...(f.realtimePriority !== undefined ? { realtime: { priority: num(f.realtimePriority, '--realtime-priority') } } : {}),
    ...(f.lockMemory === true ? { 'lock-memory': true } : {}),
  };
}

/**
 * The parsed document with the flags merged in (a copy; the document is not changed), and a
 * locator that gives no file line for a value that came from a flag.
 */
function mergeFlags(raw: unknown, locate: Locator, f: StartFlags, overrides: Record<string, unknown>): { raw: unknown; locate: Locator } {
  const top = topOverrides(f);
  if (Object.keys(overrides).length === 0 && f.role === undefined && Object.keys(top).length === 0) return { raw, locate };
  if (!isRecord(raw)) return { raw, locate }; // validation reports the document's shape
  const list = raw['instances'];
  const instances = Array.isArray(list)
    ? list.map((i: unknown) => (isRecord(i) ? { ...(f.role !== undefined && i['role'] === undefined ? { role: f.role } : {}), ...i, ...overrides } : i))
    : list;
  const merged = { ...raw, ...top, ...(instances === undefined ? {} : { instances }) };
  const fromFlags: Locator = (path) => {
    const [first, , key] = path;
    if (path.length === 1 && typeof first === 'string' && first in top) return undefined;
    if (first === 'instances' && typeof key === 'string' && key in overrides) return undefined;
    return locate(path);
  };
  return { raw: merged, locate: fromFlags };
}

/**
 * The validated config and where it came from. Throws HaagentError (never anything else for a
 * bad file): ConfigInvalidError listing every problem (HA_ERR_CONFIG, or HA_ERR_LIMIT when one
 * is over a bound), HA_ERR_CONFIG / HA_ERR_LIMIT from reading the file, HA_ERR_INVALID_ARGUMENT
 * for a malformed flag, and those of reading an HMAC key file (HA_ERR_INSECURE for one others
 * can read or write, see adapters/key-file.ts).
 */
export function loadConfig(f: StartFlags, explicitPreempt: boolean): { config: AgentConfig; source: string } {
  const overrides = flagOverrides(f, explicitPreempt);
  const path = f.config ?? (existsSync(DEFAULT_CONFIG_PATH) && f.interface === undefined ? DEFAULT_CONFIG_PATH : undefined);
  let result: ValidateResult;
  let source: string;
  if (path !== undefined) {
    const text = readConfigFile(path);
    source = path;
    const doc = readConfigYaml(text);
    if (!doc.ok) throw new ConfigInvalidError(source, doc.errors);
    const merged = mergeFlags(doc.raw, doc.locate, f, overrides);
    result = validateConfig(merged.raw, merged.locate);
  } else {
    if (f.interface === undefined) {
      throw new HaagentError('HA_ERR_CONFIG', `no config: ${DEFAULT_CONFIG_PATH} does not exist and no --config or --interface was given (try: haagent start --interface eth1 --external eth0 --vip 192.0.2.10/24 --vrid 51)`);
    }
    source = 'command-line flags';
    const inst = { ...(f.role !== undefined ? { role: f.role } : {}), ...overrides };
    result = validateConfig({ ...topOverrides(f), instances: [inst] });
  }
  if (!result.ok) throw new ConfigInvalidError(source, result.errors);
  // HMAC keys kept in files are read now, once: a missing or unsafe file refuses the config.
  return { config: loadHmacKeyFiles(result.config), source };
}
