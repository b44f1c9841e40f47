/**
 * The takeover keys of an instance: `guards:` (commands that must all exit 0 before this node
 * becomes MASTER), `guard-retry`, `cold-start: { wait-for-peer, timeout }` and
 * `promotion-backoff`. What they do is decided in src/core/fsm/takeover.ts.
 *
 * Guards are argument vectors like hooks (no shell, absolute command). Names default to the
 * basename of the command and must be unique within the instance (they label metrics).
 */
import { argv } from './checks.js';
import { Collector, isRecord, type PathSegment } from './collector.js';
import type { GuardConfig, TakeoverConfig } from './types.js';
import { DEFAULT_GUARD_RETRY_MS, DEFAULT_PROMOTION_BACKOFF_MS } from '../fsm/takeover.js';

/** At most this many guards per instance (they all run at each takeover). */
const MAX_GUARDS = 8;
const DEFAULT_GUARD_TIMEOUT_MS = 5000;
const DEFAULT_COLD_START_TIMEOUT_MS = 60_000;

const GUARD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function guard(c: Collector, raw: unknown, path: readonly PathSegment[]): GuardConfig | undefined {
  // A bare list is the command with the default timeout, as for hooks.
  const spec = Array.isArray(raw) ? { command: raw } : raw;
  if (!isRecord(spec)) return c.fail(path, 'must be { command: [/abs/path, args...], timeout: 5s, name: NAME } or an argument list');
  c.unknownKeys(spec, new Set(['command', 'timeout', 'name']), path);
  const command = argv(c, spec['command'], [...path, 'command']);
  const timeoutMs = c.durationMs(spec, 'timeout', path) ?? DEFAULT_GUARD_TIMEOUT_MS;
  if (timeoutMs < 10 || timeoutMs > 600_000) c.fail([...path, 'timeout'], 'must be from 10ms to 10m');
  if (command === undefined) return undefined;
  const name = c.str(spec, 'name', path) ?? (command[0] ?? '').split('/').pop() ?? '';
  if (!GUARD_NAME.test(name)) return c.fail([...path, 'name'], `"${name}" may contain letters, digits, "_", "." and "-" only (1..64); set name:`);
  return Object.freeze({ name, command, timeoutMs });
}

function guards(c: Collector, raw: unknown, path: readonly PathSegment[]): readonly GuardConfig[] {
  if (raw === undefined || raw === null) return Object.freeze([]);
  if (!Array.isArray(raw)) {
    c.fail(path, 'must be a list of guards ({ command: [...], timeout: 5s })');
    return Object.freeze([]);
  }
  if (!c.withinBound(raw, MAX_GUARDS, path, 'guards')) return Object.freeze([]);
  const out: GuardConfig[] = [];
  raw.forEach((g: unknown, i) => {
    const parsed = guard(c, g, [...path, i]);
    if (parsed === undefined) return;
    if (out.some((o) => o.name === parsed.name)) {
      c.fail([...path, i, 'name'], `guard name "${parsed.name}" is used twice; set name: to tell them apart`);
      return;
    }
    out.push(parsed);
  });
  return Object.freeze(out);
}

function coldStart(c: Collector, raw: unknown, path: readonly PathSegment[]): TakeoverConfig['coldStart'] {
  const off = Object.freeze({ waitForPeer: false, timeoutMs: DEFAULT_COLD_START_TIMEOUT_MS });
  if (raw === undefined || raw === null) return off;
  if (!isRecord(raw)) {
    c.fail(path, 'must be a mapping like { wait-for-peer: true, timeout: 60s }');
    return off;
  }
  c.unknownKeys(raw, new Set(['wait-for-peer', 'timeout']), path);
  const waitForPeer = c.bool(raw, 'wait-for-peer', path) ?? false;
  const timeoutMs = c.durationMs(raw, 'timeout', path) ?? DEFAULT_COLD_START_TIMEOUT_MS;
  if (timeoutMs < 100 || timeoutMs > 86_400_000) c.fail([...path, 'timeout'], 'must be from 100ms to 24h');
  return Object.freeze({ waitForPeer, timeoutMs });
}

/** The takeover keys of the instance mapping `raw`; every key is optional (defaults: all off). */
export function parseTakeover(c: Collector, raw: Record<string, unknown>, path: readonly PathSegment[]): TakeoverConfig {
  const guardRetryMs = c.durationMs(raw, 'guard-retry', path) ?? DEFAULT_GUARD_RETRY_MS;
  if (guardRetryMs < 100 || guardRetryMs > 3_600_000) c.fail([...path, 'guard-retry'], 'must be from 100ms to 1h');
  const promotionBackoffMs = c.durationMs(raw, 'promotion-backoff', path) ?? DEFAULT_PROMOTION_BACKOFF_MS;
  if (promotionBackoffMs > 3_600_000) c.fail([...path, 'promotion-backoff'], 'must be at most 1h');
  return Object.freeze({
    guards: guards(c, raw['guards'], [...path, 'guards']),
    guardRetryMs,
    coldStart: coldStart(c, raw['cold-start'], [...path, 'cold-start']),
    promotionBackoffMs,
  });
}

/** The instance's takeover config is all defaults (nothing configured). */
export function isDefaultTakeover(t: TakeoverConfig): boolean {
  return t.guards.length === 0 && t.guardRetryMs === DEFAULT_GUARD_RETRY_MS && !t.coldStart.waitForPeer
    && t.coldStart.timeoutMs === DEFAULT_COLD_START_TIMEOUT_MS && t.promotionBackoffMs === DEFAULT_PROMOTION_BACKOFF_MS;
}
