/**
 * YAML text -> plain values with line numbers, within LIMITS; and YAML text -> validated
 * AgentConfig. Uses the `yaml` package (a pure parser: no I/O), so reading the file stays in the
 * shell.
 *
 * Guarantees: never throws, whatever the text. Every problem is a ConfigError: a YAML syntax
 * error is one line each with its line and column; a bound crossed (text size, nesting depth,
 * entries of one list or mapping, aliases and what they expand to) is a ConfigLimitError
 * (HA_ERR_LIMIT), and the parse stops where the bound is crossed, so a huge list costs only the
 * text read up to that point. Deliberately not checked here: anything about the meaning of the
 * values (validateConfig does that).
 */
import { Composer, isAlias, isMap, isSeq, Lexer, LineCounter, Parser, visit, type CST, type Document, type Node as YamlNode } from 'yaml';
import { ConfigError, errorMessage } from '../errors.js';
import { ConfigLimitError, LIMITS } from './limits.js';
import { formatPath, oneLine } from './collector.js';
import { validateConfig, type Locator, type PathSegment, type ValidateResult } from './validate.js';

export type YamlReadResult =
  | { ok: true; raw: unknown; locate: Locator }
  | { ok: false; errors: readonly ConfigError[] };

/** Where YAML-level problems are reported (no key path applies). */
const YAML_PATH = '(yaml)';
/** Syntax errors reported per file; one broken line often causes several. */
const MAX_SYNTAX_ERRORS = 10;

function nodeAt(root: unknown, path: readonly PathSegment[]): { node: YamlNode | undefined; keyNode: YamlNode | undefined } {
  let node: unknown = root;
  let keyNode: YamlNode | undefined;
  for (const seg of path) {
    if (isAlias(node)) break; // an alias's lines are elsewhere; report the alias itself
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
      if (pair === undefined) return { node: node as YamlNode, keyNode };
      keyNode = pair.key as YamlNode;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return { node: node as YamlNode, keyNode };
      node = item;
      keyNode = undefined;
    } else {
      break;
    }
  }
  return { node: (node ?? undefined) as YamlNode | undefined, keyNode };
}

/** A mapping key as written, when it is a plain or quoted scalar. */
function keyText(tok: CST.Token | null | undefined): string {
  if (tok?.type === 'scalar') return tok.source;
  if (tok?.type === 'single-quoted-scalar' || tok?.type === 'double-quoted-scalar') return tok.source.slice(1, -1);
  return '?';
}

/** The key path of the open collection at `stack[end]`, from the collections around it. */
function openPath(stack: readonly CST.Token[], end: number): PathSegment[] {
  const path: PathSegment[] = [];
  for (const t of stack.slice(1, end)) { // stack[0] is the document
    if (t.type === 'block-seq' || (t.type === 'flow-collection' && t.start.source === '[')) path.push(Math.max(0, t.items.length - 1));
    else if (t.type === 'block-map' || t.type === 'flow-collection') path.push(keyText(t.items[t.items.length - 1]?.key));
  }
  return path;
}

/** Where the open collection at `stack[i]` starts: its key when it is a mapping's value. */
function openOffset(stack: readonly CST.Token[], i: number): number | undefined {
  const parent = stack[i - 1];
  if (parent?.type === 'block-map' || parent?.type === 'flow-collection') {
    const key = parent.items[parent.items.length - 1]?.key;
    if (key !== undefined && key !== null) return key.offset;
  }
  return stack[i]?.offset;
}

type Tokens = { ok: true; tokens: CST.Token[] } | { ok: false; error: ConfigError };

/**
 * Lexes and parses (to the concrete syntax tree) one lexeme at a time, checking the nesting
 * depth and the entries of every open collection after each: the first bound crossed stops the
 * parse, so the work done is linear in the text read.
 */
function boundedTokens(text: string, lines: LineCounter): Tokens {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0); // what Parser.parse() does at the start of input
  const tokens: CST.Token[] = [];
  const over = (at: number, message: string, offset: number): Tokens => ({
    ok: false, error: new ConfigLimitError(formatPath(openPath(parser.stack, at)), message, lines.linePos(offset).line),
  });
  let documents = 0;
  const take = (tok: CST.Token): boolean => {
    tokens.push(tok);
    if (tok.type === 'document') documents += 1;
    return documents <= 1;
  };
  for (const lexeme of new Lexer().lex(text, false)) {
    for (const tok of parser.next(lexeme)) {
      if (!take(tok)) return { ok: false, error: new ConfigError(YAML_PATH, 'holds more than one YAML document (one config per file)', lines.linePos(parser.offset).line) };
    }
    const stack = parser.stack;
    // The stack holds the document and every open collection or scalar, outermost first.
    if (stack.length > LIMITS.yamlDepth) return over(LIMITS.yamlDepth, `YAML nesting is deeper than ${LIMITS.yamlDepth} levels`, parser.offset);
    for (let i = 0; i < stack.length; i += 1) {
      const open = stack[i];
      if (open !== undefined && 'items' in open && open.items.length > LIMITS.yamlEntries) {
        return over(i, `has more than ${LIMITS.yamlEntries} entries (the limit for any YAML list or mapping)`, openOffset(stack, i) ?? parser.offset);
      }
    }
  }
  for (const tok of parser.end()) {
    if (!take(tok)) return { ok: false, error: new ConfigError(YAML_PATH, 'holds more than one YAML document (one config per file)', lines.linePos(parser.offset).line) };
  }
  return { ok: true, tokens };
}

/** Alias nodes (`*name`) in the document, counted up to one over the bound. */
function aliasCount(doc: Document.Parsed): number {
  let aliases = 0;
  visit(doc, {
    Alias: () => {
      aliases += 1;
      return aliases > LIMITS.yamlAliases ? visit.BREAK : undefined;
    },
  });
  return aliases;
}

/**
 * Counts the values of `raw` as validation would walk them (an aliased collection counts each
 * time it is reached), stopping at the bound. Iterative: the depth was bounded while parsing,
 * but this walk needs no stack either way.
 */
function tooManyValues(raw: unknown): boolean {
  const todo: unknown[] = [raw];
  let values = 0;
  while (todo.length > 0) {
    const v = todo.pop();
    values += 1;
    if (values > LIMITS.yamlValues) return true;
    if (Array.isArray(v)) for (const x of v) todo.push(x);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) todo.push(x);
  }
  return false;
}

/**
 * YAML text -> the document as plain values, and a locator from key paths to its lines.
 * Returns errors (never throws) for text over the size bound, syntax errors, and the YAML bounds.
 */
export function readConfigYaml(text: string): YamlReadResult {
  // Length in UTF-16 units, never more than the UTF-8 bytes: the file's byte size is the
  // shell's check; this one holds for text from anywhere.
  if (text.length > LIMITS.configBytes) {
    return { ok: false, errors: [new ConfigLimitError(YAML_PATH, `the text is ${text.length} characters long, over the limit of ${LIMITS.configBytes} bytes`)] };
  }
  const lines = new LineCounter();
  const parsed = boundedTokens(text, lines);
  if (!parsed.ok) return { ok: false, errors: [parsed.error] };
  const composer = new Composer({ uniqueKeys: true });
  const doc = [...composer.compose(parsed.tokens, true, text.length)][0];
  if (doc === undefined) return { ok: false, errors: [new ConfigError(YAML_PATH, 'the file holds no YAML document')] };
  if (doc.errors.length > 0) {
    const errors = doc.errors.slice(0, MAX_SYNTAX_ERRORS).map((e) => {
      const at = lines.linePos(e.pos[0]);
      // The package's messages are one line without prettyErrors; keep only that line regardless.
      const message = oneLine((e.message.split('\n')[0] ?? '').replace(/:$/, '').slice(0, 300)) || 'syntax error';
      return new ConfigError(YAML_PATH, `${message} (column ${at.col})`, at.line);
    });
    if (doc.errors.length > MAX_SYNTAX_ERRORS) errors.push(new ConfigError(YAML_PATH, `${doc.errors.length - MAX_SYNTAX_ERRORS} more syntax error(s) not shown`));
    return { ok: false, errors };
  }
  const aliases = aliasCount(doc);
  if (aliases > LIMITS.yamlAliases) return { ok: false, errors: [new ConfigLimitError(YAML_PATH, `has more than ${LIMITS.yamlAliases} aliases (*name)`)] };
  const bomb = `its aliases expand too much (an "alias bomb"?): over ${LIMITS.yamlAliasExpansion} alias copies or ${LIMITS.yamlValues} values`;
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: LIMITS.yamlAliasExpansion });
  } catch (err) {
    // The package throws (a ReferenceError) for aliases over maxAliasCount and for an alias
    // that names no earlier anchor; anything it throws becomes one line here.
    const detail = errorMessage(err);
    if (/resource exhaustion/i.test(detail)) return { ok: false, errors: [new ConfigLimitError(YAML_PATH, bomb)] };
    return { ok: false, errors: [new ConfigError(YAML_PATH, `cannot be read: ${oneLine((detail.split('\n')[0] ?? '').slice(0, 200))}`)] };
  }
  if (tooManyValues(raw)) {
    return { ok: false, errors: [new ConfigLimitError(YAML_PATH, aliases > 0 ? bomb : `has more than ${LIMITS.yamlValues} values`)] };
  }
  const locate: Locator = (path) => {
    const { node, keyNode } = nodeAt(doc.contents, path);
    const at = keyNode?.range?.[0] ?? node?.range?.[0];
    return at === undefined ? undefined : lines.linePos(at).line;
  };
  return { ok: true, raw, locate };
}

/** YAML text -> validated AgentConfig, or every problem found (never throws). */
export function parseConfigYaml(text: string): ValidateResult {
  const read = readConfigYaml(text);
  if (!read.ok) return read;
  return validateConfig(read.raw, read.locate);
}
