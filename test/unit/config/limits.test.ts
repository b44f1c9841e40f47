/**
 * The config's bounds (src/core/config/limits.ts): each is accepted at the bound and refused one
 * over it with one HA_ERR_LIMIT problem naming the key path; YAML-level bounds (size, depth,
 * entries, aliases) stop the parse; syntax errors are one line each with line and column.
 */
import t, { type Test } from 'tap';
import { HaagentError, type ConfigError } from '../../../src/core/errors.js';
import { LIMITS } from '../../../src/core/config/limits.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { formatPath } from '../../../src/core/config/collector.js';

/** One instance with `extra` YAML lines (indented 4) appended. */
/** Configs with paths need a peer key. */
const keyed = 'peer-key: "0123456789abcdef0123456789abcdef"\n';
const one = (extra = '', vips = '[10.0.0.1/24]'): string => `instances:\n  - name: web\n    vrid: 1\n    interface: eth0\n    vips: ${vips}\n${extra}`;
const flowList = (n: number, f: (i: number) => string): string => `[${Array.from({ length: n }, (_, i) => f(i)).join(', ')}]`;
const ip4 = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function errorsOf(text: string): readonly ConfigError[] {
  const r = parseConfigYaml(text);
  return r.ok ? [] : r.errors;
}

/** Exactly one problem, over a bound, at `path`. */
function refusedOnce(t: Test, text: string, path: string, message: RegExp): void {
  const errors = errorsOf(text);
  t.equal(errors.length, 1, `one problem (${errors.map((e) => e.message).join(' | ')})`);
  t.equal(errors[0]?.code, 'HA_ERR_LIMIT');
  t.equal(errors[0]?.path, path);
  t.match(errors[0]?.message, message);
}

function accepted(t: Test, text: string, what: string): void {
  const errors = errorsOf(text);
  t.same(errors.map((e) => e.message), [], `${what} is accepted`);
}

t.test('VIPs: 255 accepted, 256 refused with one problem before any entry is parsed', (t) => {
  accepted(t, one('', flowList(255, (i) => `${ip4(i)}/32`)), '255 VIPs');
  refusedOnce(t, one('', flowList(256, (i) => `${ip4(i)}/32`)), 'instances[0].vips', /has 256 addresses, over the limit of 255/);
  // Entries that are all invalid still give one problem: the count is checked first.
  refusedOnce(t, one('', flowList(300, () => 'nonsense')), 'instances[0].vips', /has 300 addresses/);
  t.end();
});

t.test('25k VIPs: the parse stops at the entries bound, one problem with the key path and line', (t) => {
  const text = one('', flowList(25_000, (i) => `${ip4(i)}/32`));
  refusedOnce(t, text, 'instances[0].vips', /has more than 1024 entries/);
  t.equal(errorsOf(text)[0]?.line, 5);
  const block = `instances:\n  - vrid: 1\n    interface: eth0\n    vips:\n${Array.from({ length: 25_000 }, (_, i) => `      - ${ip4(i)}/32`).join('\n')}\n`;
  refusedOnce(t, block, 'instances[0].vips', /has more than 1024 entries/);
  t.end();
});

t.test(`instances: ${LIMITS.instances} accepted, one more refused before any instance is parsed`, (t) => {
  const inst = (i: number): string => `  - {name: i${i}, vrid: ${(i % 255) + 1}, interface: eth${Math.floor(i / 255)}, vips: [${ip4(i)}/32]}\n`;
  const file = (n: number): string => `instances:\n${Array.from({ length: n }, (_, i) => inst(i)).join('')}`;
  accepted(t, file(LIMITS.instances), `${LIMITS.instances} instances`);
  refusedOnce(t, file(LIMITS.instances + 1), 'instances', new RegExp(`has ${LIMITS.instances + 1} instances, over the limit of ${LIMITS.instances}`));
  t.end();
});

t.test('per-list bounds: at the bound accepted, one over refused with one problem', (t) => {
  const check = (i: number): string => `{name: c${i}, type: file, path: /run/c${i}}`;
  const cases: Array<{ what: string; max: number; text: (n: number) => string; path: string }> = [
    { what: 'peers', max: LIMITS.peers, text: (n) => one(`    peers: ${flowList(n, (i) => ip4(i + 1))}\n`), path: 'instances[0].peers' },
    { what: 'checks', max: LIMITS.checks, text: (n) => one(`    checks: ${flowList(n, check)}\n`), path: 'instances[0].checks' },
    { what: 'arguments', max: LIMITS.argv, text: (n) => one(`    hooks: { master: ${flowList(n, (i) => (i === 0 ? '/bin/true' : `a${i}`))} }\n`), path: 'instances[0].hooks.master.command' },
    { what: 'paths', max: LIMITS.paths, text: (n) => keyed + one(`    paths: ${flowList(n, (i) => `{interface: eth${i}, peer: 10.1.0.${i + 1}}`)}\n`), path: 'instances[0].paths' },
    { what: 'witnesses', max: LIMITS.witnesses, text: (n) => keyed + one(`    paths: [{interface: eth1, peer: 10.1.0.1}]\n    witness: ${flowList(n, (i) => `{type: icmp, address: 10.2.0.${i + 1}}`)}\n`), path: 'instances[0].witness' },
    { what: 'virtual services', max: LIMITS.virtualServices, text: (n) => one(`    virtual-services: ${flowList(n, (i) => `{port: ${i + 1}, real-servers: [{address: 10.3.0.1}]}`)}\n`), path: 'instances[0].virtual-services' },
    { what: 'real servers', max: LIMITS.realServers, text: (n) => one(`    virtual-services: [{port: 80, real-servers: ${flowList(n, (i) => `{address: ${ip4(i + 1)}}`)}}]\n`), path: 'instances[0].virtual-services[0].real-servers' },
    { what: 'status codes', max: LIMITS.expectStatus, text: (n) => one(`    checks: [{type: http, url: "http://127.0.0.1/", expect-status: ${flowList(n, () => '200')}}]\n`), path: 'instances[0].checks[0].expect-status' },
  ];
  for (const c of cases) {
    accepted(t, c.text(c.max), `${c.max} ${c.what}`);
    refusedOnce(t, c.text(c.max + 1), c.path, new RegExp(`has ${c.max + 1} ${c.what}, over the limit of ${c.max}`));
  }
  t.end();
});

t.test('string lengths: any string value and the instance name', (t) => {
  const long = 'x'.repeat(LIMITS.stringChars + 1);
  refusedOnce(t, one(`    vip-label: "${long}"\n`), 'instances[0].vip-label', new RegExp(`is ${LIMITS.stringChars + 1} characters long, over the limit of ${LIMITS.stringChars}`));
  refusedOnce(t, one(`    hooks: { master: [/bin/true, "${long}"] }\n`), 'instances[0].hooks.master.command[1]', /characters long/);
  accepted(t, one().replace('name: web', `name: ${'n'.repeat(LIMITS.nameChars)}`), `a ${LIMITS.nameChars}-character name`);
  refusedOnce(t, one().replace('name: web', `name: ${'n'.repeat(LIMITS.nameChars + 1)}`), 'instances[0].name', /over the limit of 64/);
  t.end();
});

t.test('a long key or value is shortened in the message, never echoed whole', (t) => {
  const key = 'k'.repeat(50_000);
  // (an explicit key: YAML allows implicit keys up to 1024 characters only)
  const errors = errorsOf(one(`    ? ${key}\n    : 1\n    vrrp-version: "${'v'.repeat(50_000)}"\n`));
  t.equal(errors.length, 2, errors.map((e) => e.message.slice(0, 100)).join(' | '));
  for (const e of errors) t.ok(e.message.length < 800, `${e.message.length} characters: ${e.message.slice(0, 120)}`);
  t.end();
});

t.test(`at most ${LIMITS.reportedProblems} problems are reported, then one line counting the rest`, (t) => {
  const errors = errorsOf(one('', flowList(200, () => 'nonsense')));
  t.equal(errors.length, LIMITS.reportedProblems + 1);
  t.match(errors.at(-1)?.message, /^\(more\): 150 more problem\(s\) not shown/);
  t.end();
});

t.test('nesting: deeper than the bound is refused where it happens, flow or block', (t) => {
  const flow = one(`    garp: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
  const e1 = errorsOf(flow);
  t.equal(e1.length, 1);
  t.equal(e1[0]?.code, 'HA_ERR_LIMIT');
  t.match(e1[0]?.message, /^instances\[0\]\.garp(\[0\])+ \(line 6\): YAML nesting is deeper than 32 levels$/);
  const block = `instances:\n  - ${'- '.repeat(100_000)}x\n`;
  const e2 = errorsOf(block);
  t.equal(e2.length, 1);
  t.match(e2[0]?.message, /YAML nesting is deeper than 32 levels/);
  // The deepest real config is well within the bound.
  accepted(t, one('    virtual-services: [{port: 80, real-servers: [{address: 10.3.0.1, check: {type: exec, command: [/bin/true]}}]}]\n'), 'a real server check command');
  t.end();
});

t.test('text over the size bound is refused before parsing', (t) => {
  refusedOnce(t, `${one()}#${'x'.repeat(LIMITS.configBytes)}\n`, '(yaml)', /over the limit of 1048576 bytes/);
  t.end();
});

t.test('alias bomb: one clean HA_ERR_LIMIT line, no exception', (t) => {
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
    'instances: *i',
  ].join('\n');
  refusedOnce(t, bomb, '(yaml)', /aliases expand too much \(an "alias bomb"\?\)/);
  t.notMatch(errorsOf(bomb)[0]?.message, /\n|at .*\.js/, 'no stack, one line');
  // An anchor reused by many entries under the expansion bound: each alias is one copy.
  const many = `defaults: &chk [{name: up, type: file, path: /run/up}]\ninstances:\n${Array.from({ length: 300 }, (_, i) => `  - {name: i${i}, vrid: ${(i % 255) + 1}, interface: eth${Math.floor(i / 255)}, vips: [${ip4(i)}/32], checks: *chk}\n`).join('')}`;
  // (the top-level key `defaults` is unknown: the only problem must be that one)
  t.same(errorsOf(many).map((e) => e.path), ['defaults'], 'shared anchors are fine');
  const half = `[${Array(LIMITS.yamlAliases / 2).fill('*x').join(', ')}]`;
  const tooMany = `x: &x 1\ny: [${half}, ${half}, [*x]]\n`;
  refusedOnce(t, tooMany, '(yaml)', /has more than 1024 aliases/);
  t.end();
});

t.test('an alias of its own anchor or of no anchor is one clean problem', (t) => {
  for (const text of ['instances: &a [*a]\n', 'instances: [*nowhere]\n', 'a: &a {b: *a}\ninstances: [*a]\n']) {
    const errors = errorsOf(text);
    t.ok(errors.length >= 1, text);
    for (const e of errors) {
      t.ok(e instanceof HaagentError, 'a HaagentError');
      t.notMatch(e.message, /\n/, `one line: ${e.message}`);
    }
  }
  t.end();
});

t.test('syntax errors: one line each, with line and column', (t) => {
  const errors = errorsOf('instances:\n  - vrid: 1\n   bad: [\n');
  t.ok(errors.length >= 1);
  for (const e of errors) {
    t.equal(e.code, 'HA_ERR_CONFIG');
    t.match(e.message, /^\(yaml\) \(line \d+\): [^\n]+ \(column \d+\)$/);
  }
  t.match(errors[0]?.message, /^\(yaml\) \(line 3\): .* \(column 1\)$/);
  const dupKey = errorsOf('instances: []\ninstances: []\n');
  t.match(dupKey[0]?.message, /^\(yaml\) \(line 2\): Map keys must be unique \(column 1\)$/);
  const two = errorsOf('instances: []\n---\ninstances: []\n');
  t.match(two[0]?.message, /more than one YAML document/);
  t.end();
});

t.test('a deep path of long keys is shortened: the message stays one bounded line', (t) => {
  const long = (i: number): string => `k${i}${'x'.repeat(80)}`;
  const path = ['instances', 0, 'checks', 1, ...Array.from({ length: 30 }, (_, i) => long(i))];
  const shown = formatPath(path);
  t.ok(shown.length <= 240, `${shown.length} characters`);
  t.match(shown, /^instances\[0\]\.checks\[1\]\.k0x+…/);
  t.match(shown, /k29x+…$/);
  t.end();
});
