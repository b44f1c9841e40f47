/**
 * `hooks:` of an instance: transition hooks as argument vectors (no shell), each with a timeout
 * (default 30s). `before-master` runs and is awaited before the VIPs are added.
 *
 * `environment:` of an instance: the variables its hooks and exec checks get beyond the fixed
 * minimum (PATH, LANG, HAAGENT_*), as `NAME` (the agent's own value) or `NAME=value` (literal).
 */
import { argv } from './checks.js';
import { Collector, isRecord, type PathSegment } from './collector.js';
import { LIMITS } from './limits.js';
import type { EnvironmentEntry, HookConfig, HookName, HooksConfig } from './types.js';

/** At most this many `environment:` entries per instance. */
export const MAX_ENVIRONMENT_ENTRIES = LIMITS.environmentEntries;
/** Longest variable name, in characters. */
export const MAX_ENVIRONMENT_NAME_LENGTH = 128;
/** Longest literal value, in characters. */
export const MAX_ENVIRONMENT_VALUE_LENGTH = 4096;
/** A portable variable name (POSIX "Name"): what a shell script can read as `$NAME`. */
export const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names the agent sets itself for every hook; the config cannot override them. */
export const RESERVED_ENVIRONMENT_PREFIX = 'HAAGENT_';

/**
 * Validates `environment: [NAME, NAME=value, ...]`. Each problem is reported at its entry; a
 * literal value is never echoed in a message (it may be a secret). Does not check that a listed
 * name exists in the agent's environment: that is decided at each run, and a missing one is
 * simply not passed.
 */
export function parseEnvironment(c: Collector, raw: unknown, path: readonly PathSegment[]): readonly EnvironmentEntry[] {
  if (raw === undefined || raw === null) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    c.fail(path, 'must be a list of variable names (passed from the agent\'s environment) or NAME=value entries');
    return Object.freeze([]);
  }
  if (raw.length > MAX_ENVIRONMENT_ENTRIES) {
    c.limit(path, `has ${raw.length} entries; at most ${MAX_ENVIRONMENT_ENTRIES} are allowed`);
    return Object.freeze([]);
  }
  const out: EnvironmentEntry[] = [];
  const seen = new Set<string>();
  raw.forEach((entry: unknown, i) => {
    const p = [...path, i];
    if (typeof entry !== 'string') return c.fail(p, `must be a string NAME or NAME=value, got ${typeof entry}`);
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (name.length > MAX_ENVIRONMENT_NAME_LENGTH) return c.fail(p, `the name is longer than ${MAX_ENVIRONMENT_NAME_LENGTH} characters`);
    if (!ENVIRONMENT_NAME.test(name)) {
      return c.fail(p, `"${name}" is not a valid variable name (letters, digits and "_", not starting with a digit)`);
    }
    if (name.startsWith(RESERVED_ENVIRONMENT_PREFIX)) {
      return c.fail(p, `${name}: ${RESERVED_ENVIRONMENT_PREFIX}* variables are set by the agent and cannot be overridden`);
    }
    if (seen.has(name)) return c.fail(p, `${name} is listed twice`);
    seen.add(name);
    if (eq < 0) {
      out.push(Object.freeze({ name }));
      return undefined;
    }
    const value = entry.slice(eq + 1);
    if (value.length > MAX_ENVIRONMENT_VALUE_LENGTH) return c.fail(p, `the value of ${name} is longer than ${MAX_ENVIRONMENT_VALUE_LENGTH} characters`);
    if (value.includes('\0')) return c.fail(p, `the value of ${name} contains a NUL character`);
    out.push(Object.freeze({ name, value }));
    return undefined;
  });
  return Object.freeze(out);
}

export const HOOK_NAMES: readonly HookName[] = ['before-master', 'master', 'backup', 'fault', 'stop'];

export function parseHooks(c: Collector, raw: unknown, path: readonly PathSegment[]): HooksConfig {
  if (raw === undefined || raw === null) return Object.freeze({});
  if (!isRecord(raw)) {
    c.fail(path, `must be a mapping of ${HOOK_NAMES.join(', ')} to { command: [...], timeout: 30s }`);
    return Object.freeze({});
  }
  c.unknownKeys(raw, new Set(HOOK_NAMES), path);
  const out: Partial<Record<HookName, HookConfig>> = {};
  for (const name of HOOK_NAMES) {
    const h = raw[name];
    if (h === undefined) continue;
    const p = [...path, name];
    // A bare list is accepted as the command with the default timeout.
    const spec = Array.isArray(h) ? { command: h } : h;
    if (!isRecord(spec)) {
      c.fail(p, 'must be { command: [/abs/path, args...], timeout: 30s } or an argument list');
      continue;
    }
    c.unknownKeys(spec, new Set(['command', 'timeout']), p);
    const command = argv(c, spec['command'], [...p, 'command']);
    const timeoutMs = c.durationMs(spec, 'timeout', p) ?? 30_000;
    if (timeoutMs < 10 || timeoutMs > 3_600_000) c.fail([...p, 'timeout'], 'must be from 10ms to 1h');
    if (command !== undefined) out[name] = Object.freeze({ command, timeoutMs });
  }
  return Object.freeze(out);
}
