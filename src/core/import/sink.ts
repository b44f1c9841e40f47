/**
 * What the keepalived mapper records besides the config: a warning for every option it could not
 * map (shown on stderr and as a YAML comment where the option would have gone), and notes (YAML
 * comments only) that explain a mapping that is exact but not obvious. Plus the small readers of
 * option values every mapping rule uses; a bad value is a warning, never an exception.
 *
 * Secrets are never copied into a message: the values of password and key options are elided.
 */
import type { PathSegment } from '../config/collector.js';
import { splitCommand } from './command.js';
import type { KaNode, SourceAt } from './parse.js';

export interface ImportWarning {
  readonly at: SourceAt;
  /** The option or block as written (name and arguments, secrets elided). */
  readonly option: string;
  readonly message: string;
}

/** A comment placed above the output node at `path` ([] = the top of the document). */
export interface ImportComment {
  readonly path: readonly PathSegment[];
  readonly text: string;
}

export interface MapOptions {
  /**
   * A command name without a slash -> its absolute path on this host (the shell looks it up on
   * PATH, as keepalived would), or undefined. Absent: such commands are reported.
   */
  readonly resolveCommand?: (name: string) => string | undefined;
}

const SECRET_OPTIONS = new Set(['auth_pass', 'auth_hmac', 'key', 'active_key', 'smtp_password']);
const MAX_SHOWN = 120;

export function where(at: SourceAt): string {
  return `${at.file}:${at.line}`;
}

/** The option as written, one line, shortened; the arguments of secret options elided. */
function optionText(node: KaNode): string {
  const args = SECRET_OPTIONS.has(node.name) ? (node.args.length > 0 ? ['…'] : []) : node.args;
  // eslint-disable-next-line no-control-regex
  const text = [node.name, ...args].join(' ').replace(/[\u0000-\u001f\u007f]/g, '?');
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

export class Sink {
  readonly warnings: ImportWarning[] = [];
  readonly comments: ImportComment[] = [];
  constructor(readonly options: MapOptions) {}

  /** `node` could not be mapped (or not exactly): a warning, and a comment at `path`. */
  warn(node: KaNode, path: readonly PathSegment[], message: string): undefined {
    const option = optionText(node);
    this.warnings.push({ at: node.at, option, message });
    this.comments.push({ path, text: `NOT MAPPED ${where(node.at)}: ${option}: ${message}` });
    return undefined;
  }

  /** Moves the comments recorded since `mark` (a comments.length) to `path`: their node was left out. */
  repath(mark: number, path: readonly PathSegment[]): void {
    for (let i = mark; i < this.comments.length; i += 1) {
      const c = this.comments[i];
      if (c !== undefined) this.comments[i] = { path, text: c.text };
    }
  }

  note(path: readonly PathSegment[], text: string): void {
    this.comments.push({ path, text });
  }

  /** The one argument of an option; a warning when it has none. */
  arg(node: KaNode, path: readonly PathSegment[]): string | undefined {
    const v = node.args[0];
    if (v === undefined) return this.warn(node, path, 'has no value');
    if (node.args.length > 1) {
      // The words of a secret are never shown, not even the ignored ones.
      this.warn(node, path, SECRET_OPTIONS.has(node.name)
        ? `takes one value; ${node.args.length - 1} more word(s) ignored (not shown: a secret)`
        : `takes one value; "${node.args.slice(1).join(' ')}" ignored`);
    }
    return v;
  }

  int(node: KaNode, path: readonly PathSegment[], min: number, max: number): number | undefined {
    const v = this.arg(node, path);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) return this.warn(node, path, `must be an integer from ${min} to ${max}`);
    return Number(v);
  }

  /** Seconds as keepalived writes them (`1`, `0.5`) -> milliseconds, at most `maxMs`. */
  seconds(node: KaNode, path: readonly PathSegment[], maxMs = 3_600_000): number | undefined {
    const v = this.arg(node, path);
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(v)) return this.warn(node, path, 'must be a number of seconds');
    const ms = Math.round(Number(v) * 1000);
    if (ms > maxMs) return this.warn(node, path, `is over ${maxMs / 1000} seconds`);
    return ms;
  }

  /**
   * A keepalived command line -> an argument vector with an absolute program path, or a warning
   * (needs a shell, program not found) and undefined.
   */
  command(node: KaNode, line: string, path: readonly PathSegment[]): readonly string[] | undefined {
    const split = splitCommand(line);
    if (!split.ok) return this.warn(node, path, `${split.reason}; haagent runs commands without a shell: put it in a script, or write /bin/sh -c '...' explicitly`);
    const [program, ...rest] = split.argv;
    if (program === undefined) return this.warn(node, path, 'is empty');
    if (program.startsWith('/')) return split.argv;
    if (program.includes('/')) return this.warn(node, path, `"${program}" is a relative path; haagent needs an absolute one`);
    const found = this.options.resolveCommand?.(program);
    if (found === undefined || !found.startsWith('/')) return this.warn(node, path, `"${program}" is not an absolute path and was not found on PATH; haagent does no PATH lookup`);
    this.note(path, `${where(node.at)}: "${program}" resolved to ${found} on this host's PATH`);
    return [found, ...rest];
  }
}

/** `value` with characters a haagent check name does not allow replaced, 1..64 characters. */
export function safeName(value: string, fallback: string): string {
  const s = value.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  return s === '' ? fallback : s;
}

/** A name not yet in `taken` (adds it): `base`, else `base-2`, `base-3`, ... */
export function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i += 1) name = `${base.slice(0, 60)}-${i}`;
  taken.add(name);
  return name;
}

/** Milliseconds as a haagent duration text. */
export function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
