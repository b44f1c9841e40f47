/**
 * Collects config problems with their key path and line while validating, so every problem is
 * reported at once (up to LIMITS.reportedProblems; the rest are counted in one closing line).
 * Typed readers return undefined (and record an error) for a bad value. Messages are bounded:
 * a long key or value is shortened, so an error line never echoes a huge input.
 */
import { ConfigError } from '../errors.js';
import { parseDurationMs } from './duration.js';
import { ConfigLimitError, LIMITS } from './limits.js';
import { keepalivedHint } from './keepalived-spellings.js';

export type PathSegment = string | number;
/** Maps a key path to a 1-based line number in the source, when known. */
export type Locator = (path: readonly PathSegment[]) => number | undefined;

export const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

const MAX_KEY_SHOWN = 64;
/**
 * Bound of one message. What the input puts into a message is bounded on its own (keys to
 * MAX_KEY_SHOWN, values shortened); this bound leaves room for our own lists, e.g. the allowed
 * keys of an instance (about 400 characters and growing), so they are never cut in the middle.
 */
const MAX_MESSAGE_CHARS = 1000;

/** Control characters (a key or value may hold a newline) as escapes: a message stays one line. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (ch) => (ch === '\n' ? '\\n' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Longest key path shown; a deeper one keeps its start and its last segments. */
const MAX_PATH_CHARS = 240;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const raw of path) {
    const seg = typeof raw === 'string' ? oneLine(raw.length > MAX_KEY_SHOWN ? `${raw.slice(0, MAX_KEY_SHOWN)}…` : raw) : raw;
    out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  if (out.length > MAX_PATH_CHARS) out = `${out.slice(0, 120)}…${out.slice(-100)}`;
  return out === '' ? '(top level)' : out;
}

/** One line; keeps the start and the end (where the reason usually is) of an over-long message. */
function boundMessage(message: string): string {
  const line = oneLine(message);
  if (line.length <= MAX_MESSAGE_CHARS) return line;
  return `${line.slice(0, 200)} … ${line.slice(-150)}`;
}

/**
 * A value as an error message shows it: JSON for a scalar (shortened when long), "a list" or
 * "a mapping" for a collection (never serialised: an aliased one may expand enormously).
 */
export function shown(v: unknown): string {
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object' && v !== null) return 'a mapping';
  if (typeof v === 'string' && v.length > MAX_KEY_SHOWN) return `${JSON.stringify(v.slice(0, MAX_KEY_SHOWN))}…`;
  return JSON.stringify(v) ?? String(v);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Collector {
  readonly errors: ConfigError[] = [];
  /** Problems found beyond LIMITS.reportedProblems (not located, not kept). */
  private omitted = 0;
  constructor(private readonly locate: Locator) {}

  fail(path: readonly PathSegment[], message: string): undefined {
    if (this.errors.length >= LIMITS.reportedProblems) this.omitted += 1;
    else this.errors.push(new ConfigError(formatPath(path), boundMessage(message), this.locate(path)));
    return undefined;
  }

  /** An over-a-bound problem (code HA_ERR_LIMIT). */
  limit(path: readonly PathSegment[], message: string): undefined {
    if (this.errors.length >= LIMITS.reportedProblems) this.omitted += 1;
    else this.errors.push(new ConfigLimitError(formatPath(path), boundMessage(message), this.locate(path)));
    return undefined;
  }

  /** The problems to report: the kept ones, and one line counting those left out. */
  report(): readonly ConfigError[] {
    if (this.omitted === 0) return this.errors;
    return [...this.errors, new ConfigError('(more)', `${this.omitted} more problem(s) not shown; fix the ones above first`)];
  }

  /**
   * Refuses a list longer than `max` with one problem (before any entry is looked at), so a
   * huge list costs one message, not one per entry. True when the list is within the bound.
   * `why` says where the bound comes from when it is not obvious.
   */
  withinBound(list: readonly unknown[], max: number, path: readonly PathSegment[], what: string, why = ''): boolean {
    if (list.length <= max) return true;
    this.limit(path, `has ${list.length} ${what}, over the limit of ${max}${why === '' ? '' : ` (${why})`}`);
    return false;
  }

  unknownKeys(obj: Record<string, unknown>, allowed: ReadonlySet<string>, path: readonly PathSegment[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.has(key)) this.fail([...path, key], `unknown key "${key}" (allowed: ${[...allowed].join(', ')})${keepalivedHint(key, allowed)}`);
    }
  }

  int(obj: Record<string, unknown>, key: string, path: readonly PathSegment[], min: number, max: number): number | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      return this.fail([...path, key], `must be an integer from ${min} to ${max}, got ${shown(v)}`);
    }
    return v;
  }

  bool(obj: Record<string, unknown>, key: string, path: readonly PathSegment[]): boolean | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.fail([...path, key], `must be true or false, got ${shown(v)}`);
    return v;
  }

  str(obj: Record<string, unknown>, key: string, path: readonly PathSegment[]): string | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') return this.fail([...path, key], `must be a non-empty string, got ${shown(v)}`);
    if (v.length > LIMITS.stringChars) return this.limit([...path, key], `is ${v.length} characters long, over the limit of ${LIMITS.stringChars}`);
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

