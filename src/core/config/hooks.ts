/**
 * `hooks:` of an instance: transition hooks as argument vectors (no shell), each with a timeout
 * (default 30s). `before-master` runs and is awaited before the VIPs are added.
 */
import { argv } from './checks.js';
import { Collector, isRecord, type PathSegment } from './collector.js';
import type { HookConfig, HookName, HooksConfig } from './types.js';

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
