/**
 * keepalived.conf text -> a tree of located blocks and options. Pure: the texts of the main file
 * and of every file its `include` lines name are handed in (the shell reads them and expands the
 * globs), so this module does no I/O.
 *
 * The syntax, as keepalived reads it: one option per line (`name arg arg`), blocks
 * `name [arg...] {` ... `}` (the `{` may also start the next line, and `}` may close a block on
 * the line of its last option), comments from a `!` or `#` that starts a word to the end of the
 * line, double-quoted strings as one word (`\"` and `\\` escaped inside), and `include PATTERN`
 * lines that are replaced by the lines of the files the pattern names, in order.
 *
 * Guarantees: never throws, whatever the text. Every node and problem carries its file and line.
 * Bounded: each text by LIMITS.configBytes, the nesting depth by LIMITS.yamlDepth, the nodes by
 * LIMITS.yamlValues, the words of one line by MAX_WORDS, include nesting by MAX_INCLUDE_DEPTH;
 * the parse stops at the first bound crossed (one problem). Deliberately not checked here: what
 * any option means (the mapper decides).
 */
import { LIMITS } from '../config/limits.js';

export interface SourceAt {
  readonly file: string;
  readonly line: number;
}

export interface KaNode {
  readonly name: string;
  readonly args: readonly string[];
  /** Present for a block (`name args { ... }`), absent for an option line. */
  readonly children: readonly KaNode[] | undefined;
  readonly at: SourceAt;
}

export interface KaProblem {
  readonly at: SourceAt;
  readonly message: string;
}

/** The parse: the top-level nodes, and every problem (a non-empty list means the text is broken). */
export interface KaParse {
  readonly nodes: readonly KaNode[];
  readonly problems: readonly KaProblem[];
}

/** The files of one import: texts by name, and for each `include` what the shell resolved it to. */
export interface KaSources {
  readonly main: string;
  readonly texts: ReadonlyMap<string, string>;
  /** Key: includeKey(file, pattern); value: the matching files (names of `texts`), in order. */
  readonly includes: ReadonlyMap<string, readonly string[]>;
}

/** Words of one line beyond which the line is refused. */
const MAX_WORDS = 1024;
/** `include` nesting (a file including a file including ...). */
export const MAX_INCLUDE_DEPTH = 8;
/** Files one import may read, the main file included. */
export const MAX_FILES = 256;

export function includeKey(file: string, pattern: string): string {
  return `${file}\u0000${pattern}`;
}

type Token = { readonly kind: 'word' | 'open' | 'close'; readonly text: string };

/** Splits one line into words and braces; a problem for an unterminated quote (the word then runs to the end). */
function lexLine(line: string): { tokens: Token[]; problem: string | undefined } {
  const tokens: Token[] = [];
  let problem: string | undefined;
  let i = 0;
  const n = line.length;
  while (i < n && tokens.length <= MAX_WORDS) {
    const ch = line[i] ?? '';
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') { i += 1; continue; }
    if (ch === '!' || ch === '#') break;
    if (ch === '{' || ch === '}') { tokens.push({ kind: ch === '{' ? 'open' : 'close', text: ch }); i += 1; continue; }
    if (ch === '"') {
      let word = '';
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const c = line[j] ?? '';
        if (c === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) { word += line[j + 1] ?? ''; j += 2; continue; }
        if (c === '"') { closed = true; j += 1; break; }
        word += c;
        j += 1;
      }
      if (!closed) problem = 'a quoted string is not closed on this line';
      tokens.push({ kind: 'word', text: word });
      i = j;
      continue;
    }
    let j = i;
    while (j < n && !/[\s{}"]/.test(line[j] ?? ' ')) j += 1;
    tokens.push({ kind: 'word', text: line.slice(i, j) });
    i = j;
  }
  if (tokens.length > MAX_WORDS) problem = `has more than ${MAX_WORDS} words`;
  return { tokens, problem };
}

interface Frame {
  readonly list: KaNode[];
  readonly owner: { name: string; args: string[]; at: SourceAt } | undefined;
}

class Builder {
  readonly problems: KaProblem[] = [];
  readonly root: KaNode[] = [];
  private readonly stack: Frame[] = [{ list: this.root, owner: undefined }];
  private nodes = 0;
  stopped = false;

  problem(at: SourceAt, message: string): void {
    if (this.problems.length < LIMITS.reportedProblems) this.problems.push({ at, message });
  }

  private stop(at: SourceAt, message: string): void {
    this.problem(at, message);
    this.stopped = true;
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1] ?? { list: this.root, owner: undefined };
  }

  private count(at: SourceAt): boolean {
    this.nodes += 1;
    if (this.nodes > LIMITS.yamlValues) this.stop(at, `has more than ${LIMITS.yamlValues} options and blocks`);
    return !this.stopped;
  }

  /** Adds the words of one statement as an option (the caller has already handled braces). */
  option(words: string[], at: SourceAt): void {
    const [name, ...args] = words;
    if (name === undefined || !this.count(at)) return;
    this.top().list.push({ name, args, children: undefined, at });
  }

  open(words: string[], at: SourceAt): void {
    let owner: Frame['owner'];
    const [name, ...args] = words;
    if (name !== undefined) owner = { name, args, at };
    else {
      // `{` alone on a line opens a block for the option on the line before.
      const list = this.top().list;
      const prev = list[list.length - 1];
      if (prev === undefined || prev.children !== undefined) {
        this.problem(at, 'a "{" without a block name before it');
        owner = { name: '', args: [], at };
      } else {
        list.pop();
        this.nodes -= 1;
        owner = { name: prev.name, args: [...prev.args], at: prev.at };
      }
    }
    if (this.stack.length > LIMITS.yamlDepth) return this.stop(at, `blocks are nested deeper than ${LIMITS.yamlDepth} levels`);
    if (!this.count(at)) return undefined;
    this.stack.push({ list: [], owner });
    return undefined;
  }

  close(at: SourceAt): void {
    const frame = this.stack.pop();
    if (frame === undefined || frame.owner === undefined) {
      this.stack.push({ list: this.root, owner: undefined });
      this.problem(at, 'a "}" that closes no block');
      return;
    }
    const { name, args, at: where } = frame.owner;
    if (name !== '') this.top().list.push({ name, args, children: frame.list, at: where });
  }

  finish(): void {
    while (this.stack.length > 1) {
      const frame = this.stack.pop();
      if (frame?.owner !== undefined && frame.owner.name !== '') this.problem(frame.owner.at, `block "${frame.owner.name}" is not closed (a "}" is missing)`);
    }
  }
}

/** One file's lines fed to the builder; `include` lines feed the files they name. */
function feed(b: Builder, sources: KaSources, file: string, chain: readonly string[]): void {
  const text = sources.texts.get(file) ?? '';
  if (text.length > LIMITS.configBytes) {
    b.problem({ file, line: 1 }, `is ${text.length} characters long, over the limit of ${LIMITS.configBytes} bytes`);
    return;
  }
  const lines = text.split('\n');
  for (let index = 0; index < lines.length && !b.stopped; index += 1) {
    const at = { file, line: index + 1 };
    const { tokens, problem } = lexLine(lines[index] ?? '');
    if (problem !== undefined) b.problem(at, problem);
    if (tokens.length > MAX_WORDS) continue;
    const first = tokens[0];
    if (first?.kind === 'word' && first.text === 'include' && tokens.length >= 2 && tokens.every((tk) => tk.kind === 'word')) {
      includeLine(b, sources, file, chain, tokens.slice(1).map((tk) => tk.text), at);
      continue;
    }
    let words: string[] = [];
    for (const tk of tokens) {
      if (tk.kind === 'word') words.push(tk.text);
      else if (tk.kind === 'open') { b.open(words, at); words = []; }
      else { b.option(words, at); words = []; b.close(at); }
      if (b.stopped) return;
    }
    b.option(words, at);
  }
}

function includeLine(b: Builder, sources: KaSources, file: string, chain: readonly string[], patterns: readonly string[], at: SourceAt): void {
  if (chain.length >= MAX_INCLUDE_DEPTH) {
    b.problem(at, `includes are nested deeper than ${MAX_INCLUDE_DEPTH} files`);
    return;
  }
  for (const pattern of patterns) {
    const files = sources.includes.get(includeKey(file, pattern));
    if (files === undefined) {
      b.problem(at, `include ${pattern}: the file(s) were not read`);
      continue;
    }
    for (const f of files) {
      if (chain.includes(f)) b.problem(at, `include ${pattern}: ${f} includes itself (through ${[...chain, f].join(' -> ')})`);
      else if (!sources.texts.has(f)) b.problem(at, `include ${pattern}: ${f} could not be read`);
      else feed(b, sources, f, [...chain, f]);
    }
  }
}

/** The tree of the main file with its includes spliced in, and every problem found. Never throws. */
export function parseKeepalived(sources: KaSources): KaParse {
  const b = new Builder();
  try {
    feed(b, sources, sources.main, [sources.main]);
    b.finish();
  } catch (err) {
    // Not expected; the guarantee is kept regardless (e.g. a stack overflow on hostile input).
    b.problem({ file: sources.main, line: 1 }, `cannot be parsed: ${err instanceof Error ? err.message : 'unknown error'}`);
  }
  return { nodes: b.root, problems: b.problems };
}

/** A single text (no includes resolved): for tests and for telling a keepalived.conf apart. */
export function parseKeepalivedText(text: string, file = 'keepalived.conf'): KaParse {
  return parseKeepalived({ main: file, texts: new Map([[file, text]]), includes: new Map() });
}

/**
 * The `include` patterns of one text, in order, with their lines: what the shell must resolve
 * before parseKeepalived. Only whole-line includes count (as keepalived reads them).
 */
export function includePatterns(text: string): readonly { pattern: string; line: number }[] {
  const out: { pattern: string; line: number }[] = [];
  const lines = text.length > LIMITS.configBytes ? [] : text.split('\n');
  lines.forEach((l, i) => {
    if (!/^\s*include\s/.test(l)) return;
    const { tokens } = lexLine(l);
    if (tokens.length < 2 || tokens.length > MAX_WORDS || !tokens.every((tk) => tk.kind === 'word')) return;
    for (const tk of tokens.slice(1)) out.push({ pattern: tk.text, line: i + 1 });
  });
  return out;
}

const KEEPALIVED_TOP = /^[ \t]*(?:vrrp_instance|global_defs|vrrp_script|vrrp_sync_group|virtual_server|virtual_server_group|static_ipaddress)\b[^\n]*\{/m;

/**
 * Whether a text looks like a keepalived.conf (one of its top-level blocks starts a line), for a
 * hint when such a file is given where haagent YAML is expected. Cheap; not a parse.
 */
export function looksLikeKeepalived(text: string): boolean {
  return KEEPALIVED_TOP.test(text.length > LIMITS.configBytes ? text.slice(0, LIMITS.configBytes) : text);
}
