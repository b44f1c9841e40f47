/**
 * Where `start` and `check-config` get their configuration: a YAML file (--config, or the
 * default path when it exists), or the flags alone for the simple one-instance case. Flags given
 * explicitly override the file's values for every instance; --role fills in a role where the
 * file sets none. The file is read once (refused over its size bound before reading) and parsed
 * once; the flags are merged into the parsed document before it is validated.
 */
import { ConfigInvalidError } from '../core/config/invalid.js';
import { isRecord } from '../core/config/collector.js';
import type { AgentConfig } from '../core/config/types.js';
import { validateConfig, type Locator, type ValidateResult } from '../core/config/validate.js';
import { readConfigYaml } from '../core/config/yaml.js';
import { readConfigFile } from './config-file.js';
import { loadHmacKeyFiles } from '../adapters/key-file.js';
import { configPathOf, flagOverrides, loadFlagsConfig, topOverrides, type StartFlags } from './flags-config.js';

export type { StartFlags } from './flags-config.js';

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
  const path = configPathOf(f);
  if (path === undefined) return loadFlagsConfig(f, explicitPreempt);
  const overrides = flagOverrides(f, explicitPreempt); // a malformed flag is reported before the file is read
  const text = readConfigFile(path);
  const doc = readConfigYaml(text);
  if (!doc.ok) throw new ConfigInvalidError(path, doc.errors);
  const merged = mergeFlags(doc.raw, doc.locate, f, overrides);
  const result: ValidateResult = validateConfig(merged.raw, merged.locate);
  if (!result.ok) throw new ConfigInvalidError(path, result.errors);
  // HMAC keys kept in files are read now, once: a missing or unsafe file refuses the config.
  return { config: loadHmacKeyFiles(result.config), source: path };
}
