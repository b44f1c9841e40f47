/**
 * Seeded fuzzing of the config loader (YAML text -> validated config or problems): random
 * YAML-ish text, the example configs mutated as text and as structure, deep nesting, huge lists
 * and aliases. Whatever the input, the loader returns a config or problems, and each problem is
 * a HaagentError with HA_ERR_CONFIG or HA_ERR_LIMIT and a one-line, bounded message; the file
 * loader (with flags) throws nothing else. Runs are bounded so the file takes a few seconds.
 */
import t from 'tap';
import fc from 'fast-check';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { packageRoot } from '../../../src/adapters/package-info.js';
import { loadConfig, type StartFlags } from '../../../src/cli/load-config.js';
import { HaagentError } from '../../../src/core/errors.js';
import { LIMITS } from '../../../src/core/config/limits.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const SEED = 20261130;
/** Stops a property early (not a failure) should a loaded machine make it slow. */
const TIME_LIMIT_MS = 1500;

function examples(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return examples(p);
    return e.name.endsWith('.yaml') ? [readFileSync(p, 'utf8')] : [];
  });
}
const seeds = examples(join(packageRoot(), 'examples'));

/** The loader's contract for one text; returns a reason when it is broken. */
function contractBroken(text: string): string | undefined {
  let r: ReturnType<typeof parseConfigYaml>;
  try {
    r = parseConfigYaml(text);
  } catch (err) {
    return `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
  if (r.ok) {
    if (!Object.isFrozen(r.config) || r.config.instances.length === 0 || r.config.instances.length > LIMITS.instances) return 'a config out of bounds';
    return r.config.instances.some((i) => i.vips.length === 0 || i.vips.length > LIMITS.vips) ? 'an instance with VIPs out of bounds' : undefined;
  }
  if (r.errors.length === 0) return 'not ok, but no problem';
  if (r.errors.length > LIMITS.reportedProblems + 1) return `${r.errors.length} problems reported`;
  for (const e of r.errors) {
    if (!(e instanceof HaagentError)) return `a problem that is not a HaagentError: ${String(e)}`;
    if (e.code !== 'HA_ERR_CONFIG' && e.code !== 'HA_ERR_LIMIT') return `code ${e.code}`;
    if (e.message === '' || e.message.includes('\n') || e.message.length > 1000) return `message not one bounded line: ${JSON.stringify(e.message.slice(0, 300))}`;
  }
  return undefined;
}

const holds = (text: string): boolean => {
  const broken = contractBroken(text);
  if (broken !== undefined) throw new Error(`${broken}\ninput (first 300 chars): ${JSON.stringify(text.slice(0, 300))}`);
  return true;
};

const run = <T>(arb: fc.Arbitrary<T>, toText: (v: T) => string, numRuns: number): void => {
  fc.assert(fc.property(arb, (v) => holds(toText(v))), { seed: SEED, numRuns, interruptAfterTimeLimit: TIME_LIMIT_MS });
};

const PIECES = [
  'instances:', 'socket:', 'peer-key:', '\n', '\n  ', '\n    ', '  ', '- ', ': ', ':', '[', ']', '{', '}', ', ', '&a ', '*a', '&b ', '*b', '*z',
  '"', "'", '#', '---', '...', '? ', '|', '>-', 'vrid', 'vips', 'name', 'interface', 'checks', 'hooks', 'virtual-services', 'real-servers',
  '10.0.0.1/24', '::1/128', 'eth0', '0', '1', '255', '-1', '1e999', '0x1F', '.inf', '.nan', 'true', 'null', '~', '!!str ', '!!map ', '!!seq ',
  '!!binary ', '!tag ', '%YAML 1.2\n', '%TAG ! tag:x:\n', '\t', 'é', '\u0000', '\uFEFF', '\r\n', '<<: ', '__proto__', 'constructor',
];
const yamlish = fc.array(fc.constantFrom(...PIECES), { maxLength: 120 }).map((p) => p.join(''));

/** Text-level mutations of an example: insert, delete, repeat a slice, replace a character. */
const textMutation = fc.record({
  seed: fc.nat({ max: seeds.length - 1 }),
  edits: fc.array(fc.record({
    op: fc.constantFrom('insert', 'delete', 'repeat', 'replace'),
    at: fc.nat(),
    len: fc.nat({ max: 200 }),
    times: fc.integer({ min: 1, max: 3000 }),
    piece: fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 8 })),
  }), { minLength: 1, maxLength: 4 }),
}).map(({ seed, edits }) => {
  let text = seeds[seed] ?? '';
  for (const e of edits) {
    const at = text.length === 0 ? 0 : e.at % text.length;
    if (e.op === 'insert') text = text.slice(0, at) + e.piece + text.slice(at);
    else if (e.op === 'delete') text = text.slice(0, at) + text.slice(at + e.len);
    else if (e.op === 'repeat') text = text.slice(0, at) + text.slice(at, at + e.len).repeat(Math.min(e.times, Math.floor(200_000 / (e.len + 1)))) + text.slice(at);
    else text = text.slice(0, at) + e.piece.slice(0, 1) + text.slice(at + 1);
  }
  return text;
});

/** Every path to a value of a parsed document (lists and mappings included). */
function pathsOf(v: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...path, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) pathsOf(x, [...path, k], out);
  return out;
}

type Container = Record<string | number, unknown>;

/** Structure-level mutations of an example: replace, delete, rename, wrap, grow a value. */
const structureMutation = fc.record({
  seed: fc.nat({ max: seeds.length - 1 }),
  edits: fc.array(fc.record({
    op: fc.constantFrom('replace', 'delete', 'rename', 'wrap', 'grow', 'unknown-key'),
    at: fc.nat(),
    value: fc.jsonValue({ maxDepth: 3 }),
    key: fc.oneof(fc.constantFrom('vrid', 'vips', 'name', 'checks', 'priority', 'weight', '__proto__', 'x'), fc.string({ maxLength: 6 })),
    times: fc.integer({ min: 0, max: 2000 }),
  }), { minLength: 1, maxLength: 4 }),
  aliases: fc.boolean(),
}).map(({ seed, edits, aliases }) => {
  let doc = parseYaml(seeds[seed] ?? '') as unknown;
  for (const e of edits) {
    const paths = pathsOf(doc);
    const path = paths[e.at % paths.length] ?? [];
    if (path.length === 0) {
      if (e.op === 'wrap') doc = [doc];
      else if (e.op === 'replace') doc = e.value;
      continue;
    }
    const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Container)[k], doc) as Container;
    const last = path[path.length - 1] as string | number;
    const old = parent[last];
    if (e.op === 'replace') parent[last] = e.value;
    else if (e.op === 'delete') delete parent[last];
    else if (e.op === 'wrap') parent[last] = [old];
    else if (e.op === 'grow') parent[last] = Array.from({ length: e.times }, () => old);
    else if (e.op === 'rename' && typeof last === 'string') { delete parent[last]; parent[e.key] = old; }
    else if (!Array.isArray(parent)) parent[e.key] = e.value;
  }
  // Repeated references become YAML aliases when `aliases` is set (stringify's default).
  return stringifyYaml(doc, { aliasDuplicateObjects: aliases });
});

t.test('random YAML-ish text', (t) => {
  run(yamlish, (s) => s, 600);
  run(fc.string({ maxLength: 300, unit: 'binary' }), (s) => s, 300);
  t.end();
});

t.test('the examples mutated as text', (t) => {
  t.ok(seeds.length >= 6, `${seeds.length} example configs as seeds`);
  run(textMutation, (s) => s, 300);
  t.end();
});

t.test('the examples mutated as structure (values, keys, wrapping, growth, aliases)', (t) => {
  run(structureMutation, (s) => s, 300);
  t.end();
});

t.test('deep nesting, flow and block, mappings and lists', (t) => {
  const deep = fc.record({ depth: fc.integer({ min: 1, max: 20_000 }), kind: fc.constantFrom('flow-seq', 'flow-map', 'block-seq', 'block-map', 'mixed') });
  run(deep, ({ depth, kind }) => {
    switch (kind) {
      case 'flow-seq': return `instances: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
      case 'flow-map': return `instances: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`;
      case 'block-seq': return `instances:\n  ${'- '.repeat(depth)}x\n`;
      case 'block-map': return `instances:\n${Array.from({ length: Math.min(depth, 2000) }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`;
      default: return `instances: [${'{a: ['.repeat(depth)}${']}'.repeat(depth)}]\n`;
    }
  }, 60);
  t.end();
});

t.test('huge lists: VIPs, instances, checks, real servers, keys', (t) => {
  const huge = fc.record({ n: fc.integer({ min: 0, max: 30_000 }), what: fc.constantFrom('vips', 'instances', 'checks', 'real-servers', 'keys'), block: fc.boolean() });
  const list = (items: string[], block: boolean, indent: string): string => (block ? `\n${items.map((i) => `${indent}- ${i}`).join('\n')}` : ` [${items.join(', ')}]`);
  run(huge, ({ n, what, block }) => {
    const ips = (k: number): string[] => Array.from({ length: k }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`);
    const inst = (extra: string): string => `instances:\n  - vrid: 1\n    interface: eth0\n    vips: [10.0.0.1/24]\n${extra}`;
    switch (what) {
      case 'vips': return `instances:\n  - vrid: 1\n    interface: eth0\n    vips:${list(ips(n), block, '      ')}\n`;
      case 'instances': return `instances:${list(Array.from({ length: n }, (_, i) => `{vrid: ${(i % 255) + 1}, interface: eth${i}, vips: [10.0.0.1/24]}`), block, '  ')}\n`;
      case 'checks': return inst(`    checks:${list(Array.from({ length: n }, (_, i) => `{name: c${i}, type: file, path: /x}`), block, '      ')}\n`);
      case 'real-servers': return inst(`    virtual-services: [{port: 80, real-servers: [${Array.from({ length: n }, (_, i) => `{address: 10.0.${(i >> 8) & 255}.${i & 255}}`).join(', ')}]}]\n`);
      default: return `${inst('')}${Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join('\n')}\n`;
    }
  }, 40);
  t.end();
});

t.test('aliases: bombs of any width and depth, self references, aliases everywhere', (t) => {
  const bomb = fc.record({ width: fc.integer({ min: 1, max: 16 }), levels: fc.integer({ min: 1, max: 14 }), at: fc.constantFrom('instances', 'vips', 'checks') });
  run(bomb, ({ width, levels, at }) => {
    const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(', ')}]`];
    for (let i = 1; i <= levels; i += 1) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(', ')}]`);
    const top = `*l${levels}`;
    if (at === 'instances') lines.push(`instances: ${top}`);
    else lines.push(`instances:\n  - vrid: 1\n    interface: eth0\n    vips: [10.0.0.1/24]\n    ${at}: ${top}`);
    return `${lines.join('\n')}\n`;
  }, 80);
  const sprinkled = fc.array(fc.constantFrom('&a', '&b', '*a', '*b', '*c', '[*a, *a]', '{k: *b}', '&a [*a]', '&b {x: *a}'), { minLength: 1, maxLength: 12 });
  run(sprinkled, (bits) => `instances:\n  - vrid: ${bits[0]} 1\n    interface: ${bits[1] ?? ''} eth0\n    vips: ${bits.slice(2).join(' ')} [10.0.0.1/24]\n    checks: ${bits.join(' ')}\n`, 300);
  t.end();
});

t.test('the file loader with flags throws nothing but HaagentErrors with one line per problem', (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'c.yaml');
  const flags = fc.record({
    vrid: fc.option(fc.constantFrom('1', '255', '300', 'x'), { nil: undefined }),
    priority: fc.option(fc.constantFrom('1', '0', '999'), { nil: undefined }),
    role: fc.option(fc.constantFrom('master', 'backup', 'boss'), { nil: undefined }),
    vip: fc.option(fc.constantFrom(['10.0.0.9/24'], ['nonsense'], []), { nil: undefined }),
    socket: fc.option(fc.constantFrom('/run/x.sock', 'relative'), { nil: undefined }),
  });
  fc.assert(fc.property(fc.oneof(textMutation, structureMutation, yamlish), flags, (text, f) => {
    writeFileSync(file, text);
    const given = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as Partial<StartFlags>;
    try {
      loadConfig({ ...given, config: file }, false);
    } catch (err) {
      if (!(err instanceof HaagentError)) throw new Error(`threw ${String(err)} for ${JSON.stringify(text.slice(0, 200))}`);
      if (!['HA_ERR_CONFIG', 'HA_ERR_LIMIT', 'HA_ERR_INVALID_ARGUMENT'].includes(err.code)) throw new Error(`code ${err.code}`);
      const [head, ...problems] = err.message.split('\n');
      if (head === undefined || !head.startsWith(file) && !head.includes('takes a whole number')) throw new Error(`first line does not name the file: ${head}`);
      if (problems.some((l) => !l.startsWith('  - '))) throw new Error(`not one line per problem: ${err.message.slice(0, 300)}`);
    }
    return true;
  }), { seed: SEED, numRuns: 200, interruptAfterTimeLimit: TIME_LIMIT_MS });
  t.end();
});
