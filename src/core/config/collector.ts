/**
 * Collects config problems with their key path and line while validating, so every problem is
 * reported at once. Typed readers return undefined (and record an error) for a bad value.
 */
import { ConfigError } from '../errors.js';
import { parseDurationMs } from './duration.js';

export type PathSegment = string | number;
/** Maps a key path to a 1-based line number in the source, when known. */
export type Locator = (path: readonly PathSegment[]) => number | undefined;

export const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out === '' ? '(top level)' : out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Collector {
  readonly errors: ConfigError[] = [];
  constructor(private readonly locate: Locator) {}

  fail(path: readonly PathSegment[], message: string): undefined {
    this.errors.push(new ConfigError(formatPath(path), message, this.locate(path)));
    return undefined;
  }

  unknownKeys(obj: Record<string, unknown>, allowed: ReadonlySet<string>, path: readonly PathSegment[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.has(key)) this.fail([...path, key], `unknown key "${key}" (allowed: ${[...allowed].join(', ')})`);
    }
  }

  int(obj: Record<string, unknown>, key: string, path: readonly PathSegment[], min: number, max: number): number | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      return this.fail([...path, key], `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(obj: Record<string, unknown>, key: string, path: readonly PathSegment[]): boolean | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.fail([...path, key], `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(obj: Record<string, unknown>, key: string, path: readonly PathSegment[]): string | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') return this.fail([...path, key], `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }

  ifname(obj: Record<string, unknown>, key: string, path: readonly PathSegment[]): string | undefined {
    const v = this.str(obj, key, path);
    if (v !== undefined && !IFNAME.test(v)) return this.fail([...path, key], `"${v}" is not a valid interface name`);
    return v;
  }

  durationMs(obj: Record<string, unknown>, key: string, path: readonly PathSegment[]): number | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    const r = parseDurationMs(v);
    if (!r.ok) return this.fail([...path, key], r.reason);
    return r.ms;
  }

  list(obj: Record<string, unknown>, key: string, path: readonly PathSegment[]): unknown[] | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.fail([...path, key], 'must be a list');
    return v as unknown[];
  }
}

