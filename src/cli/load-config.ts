/**
 * Where `start` and `check-config` get their configuration: a YAML file (--config, or the
 * default path when it exists), or the flags alone for the simple one-instance case. Flags given
 * explicitly override the file's values for every instance; --role fills in a role where the
 * file sets none.
 */
import { existsSync, readFileSync } from 'node:fs';
import { HaagentError, type ConfigError } from '../core/errors.js';
import { DEFAULT_CONFIG_PATH, type AgentConfig } from '../core/config/types.js';
import { validateConfig, type ValidateResult } from '../core/config/validate.js';
import { parseConfigYaml } from '../core/config/yaml.js';
import { parse as parseYaml } from 'yaml';

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
}

export class ConfigInvalidError extends HaagentError {
  constructor(readonly source: string, readonly errors: readonly ConfigError[]) {
    super('HA_ERR_CONFIG', `${source}: ${errors.length} problem(s):\n${errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
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

export function loadConfig(f: StartFlags, explicitPreempt: boolean): { config: AgentConfig; source: string } {
  const overrides = flagOverrides(f, explicitPreempt);
  const path = f.config ?? (existsSync(DEFAULT_CONFIG_PATH) && f.interface === undefined ? DEFAULT_CONFIG_PATH : undefined);
  let result: ValidateResult;
  let source: string;
  if (path !== undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new HaagentError('HA_ERR_CONFIG', `cannot read config file ${path}: ${(cause as Error).message}`, { cause });
    }
    source = path;
    result = parseConfigYaml(text);
    if (result.ok && (Object.keys(overrides).length > 0 || f.role !== undefined || f.socket !== undefined || f.stateDir !== undefined)) {
      // Re-validate with the overrides merged into the raw document (same checks, same paths).
      const raw = parseYaml(text) as { instances?: Record<string, unknown>[]; socket?: string };
      raw.instances = (raw.instances ?? []).map((i) => ({ ...(f.role !== undefined && i['role'] === undefined ? { role: f.role } : {}), ...i, ...overrides }));
      if (f.socket !== undefined) raw.socket = f.socket;
      if (f.stateDir !== undefined) (raw as Record<string, unknown>)['state-dir'] = f.stateDir;
      result = validateConfig(raw);
    }
  } else {
    if (f.interface === undefined) {
      throw new HaagentError('HA_ERR_CONFIG', `no config: ${DEFAULT_CONFIG_PATH} does not exist and no --config or --interface was given (try: haagent start --interface eth1 --external eth0 --vip 192.0.2.10/24 --vrid 51)`);
    }
    source = 'command-line flags';
    const inst = { ...(f.role !== undefined ? { role: f.role } : {}), ...overrides };
    result = validateConfig({
      ...(f.socket !== undefined ? { socket: f.socket } : {}),
      ...(f.stateDir !== undefined ? { 'state-dir': f.stateDir } : {}),
      instances: [inst],
    });
  }
  if (!result.ok) throw new ConfigInvalidError(source, result.errors);
  return { config: result.config, source };
}
