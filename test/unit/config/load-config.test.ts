/**
 * Every error path of the config loader is a HaagentError with HA_ERR_CONFIG or HA_ERR_LIMIT and
 * a message naming the file and the problem: unreadable, not a regular file, too big (refused
 * before reading), not UTF-8, bad YAML, invalid. Flags are merged into the one parsed document.
 * As processes: `check-config` and `start` exit 2 with those messages and no stack.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/adapters/package-info.js';
import { readConfigFile } from '../../../src/cli/config-file.js';
import { loadConfig } from '../../../src/cli/load-config.js';
import { ConfigInvalidError } from '../../../src/core/config/invalid.js';
import { HaagentError } from '../../../src/core/errors.js';
import { LIMITS } from '../../../src/core/config/limits.js';

const valid = 'instances:\n  - name: web\n    vrid: 51\n    interface: eth0\n    vips: [10.0.0.1/24]\n';
const bomb = `a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${['b', 'c', 'd', 'e', 'f', 'g'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`).join('\n')}\ninstances: *g\n`;

function thrown(f: () => unknown): HaagentError {
  try {
    f();
  } catch (err) {
    if (err instanceof HaagentError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

t.test('a file over the size bound is refused from its size, before it is read', (t) => {
  const dir = t.testdir({});
  const f = join(dir, 'huge.yaml');
  writeFileSync(f, '');
  truncateSync(f, 2 ** 31); // sparse 2 GiB: reading it would take seconds and 2 GiB of memory
  const err = thrown(() => readConfigFile(f));
  t.equal(err.code, 'HA_ERR_LIMIT');
  t.equal(err.message, `config file ${f} is ${2 ** 31} bytes, over the limit of 1 MiB; refused before reading`);
  const over = join(dir, 'over.yaml');
  writeFileSync(over, `${valid}#${'x'.repeat(LIMITS.configBytes - valid.length)}`);
  t.equal(thrown(() => readConfigFile(over)).code, 'HA_ERR_LIMIT', 'one byte over');
  const at = join(dir, 'at.yaml');
  writeFileSync(at, `${valid}#${'x'.repeat(LIMITS.configBytes - valid.length - 2)}\n`);
  t.equal(readConfigFile(at).length, LIMITS.configBytes, 'exactly at the bound is read');
  t.end();
});

t.test('not a regular file, unreadable, not UTF-8: HA_ERR_CONFIG naming the file', (t) => {
  const dir = t.testdir({ 'latin1.yaml': Buffer.from([0x23, 0x20, 0xe9, 0x0a]) });
  const fifo = join(dir, 'fifo.yaml');
  const mk = spawnSync('mkfifo', [fifo]);
  const cases: Array<[string, RegExp]> = [
    [dir, /^config file .* is not a regular file$/],
    ['/dev/zero', /^config file \/dev\/zero is not a regular file$/],
    [join(dir, 'missing.yaml'), /^cannot read config file .*missing\.yaml: ENOENT/],
    [join(dir, 'latin1.yaml'), /^config file .*latin1\.yaml is not UTF-8 text$/],
  ];
  if (mk.status === 0) cases.push([fifo, /^config file .*fifo\.yaml is not a regular file$/]); // and opening it did not wait for a writer
  for (const [path, message] of cases) {
    const err = thrown(() => readConfigFile(path));
    t.equal(err.code, 'HA_ERR_CONFIG', path);
    t.match(err.message, message);
  }
  t.end();
});

t.test('loadConfig: bad YAML, invalid and over-bound configs are ConfigInvalidErrors with the file name', (t) => {
  const dir = t.testdir({
    'syntax.yaml': 'instances:\n  - vrid: 1\n   bad: [\n',
    'invalid.yaml': valid.replace('vrid: 51', 'vrid: 0'),
    'vips.yaml': valid.replace('[10.0.0.1/24]', `[${Array.from({ length: 256 }, (_, i) => `10.0.${i >> 8}.${i & 255}/32`).join(', ')}]`),
    'bomb.yaml': bomb,
  });
  const expect: Array<[string, string, RegExp]> = [
    ['syntax.yaml', 'HA_ERR_CONFIG', /^ {2}- \(yaml\) \(line 3\): .+ \(column 1\)$/m],
    ['invalid.yaml', 'HA_ERR_CONFIG', /^ {2}- instances\[0\]\.vrid \(line 3\): must be an integer from 1 to 255, got 0$/m],
    ['vips.yaml', 'HA_ERR_LIMIT', /^ {2}- instances\[0\]\.vips \(line 5\): has 256 addresses, over the limit of 255/m],
    ['bomb.yaml', 'HA_ERR_LIMIT', /^ {2}- \(yaml\): its aliases expand too much/m],
  ];
  for (const [name, code, line] of expect) {
    const file = join(dir, name);
    const err = thrown(() => loadConfig({ config: file }, false));
    t.ok(err instanceof ConfigInvalidError, name);
    t.equal(err.code, code, name);
    t.ok(err.message.startsWith(`${file}: `), `${name}: names the file`);
    t.match(err.message, line, name);
  }
  t.end();
});

t.test('flags are merged into the parsed document: flags win, file lines stay, flag values have none', (t) => {
  const dir = t.testdir({ 'c.yaml': 'instances:\n  - name: web\n    vrid: 300\n    interface: eth0\n    priority: 0\n    vips: [10.0.0.1/24]\n' });
  const file = join(dir, 'c.yaml');
  // --vrid replaces the file's bad vrid; the file's bad priority keeps its line.
  const err = thrown(() => loadConfig({ config: file, vrid: '7', socket: 'relative.sock' }, false));
  const lines = err.message.split('\n').slice(1);
  t.same(lines, [
    '  - socket: must be an absolute path',
    '  - instances[0].priority (line 5): must be an integer from 1 to 255, got 0',
  ]);
  const ok = loadConfig({ config: file, vrid: '7', priority: '120', role: 'master', stateDir: '/tmp/x' }, false);
  t.match(ok.config.instances[0], { vrid: 7, priority: 120, role: 'master', name: 'web' });
  t.equal(ok.config.stateDir, '/tmp/x');
  t.end();
});

const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
if (!existsSync(main)) {
  t.test('CLI exit codes', (t) => { t.plan(0, 'dist/ is not built: run `npm run build`'); });
} else {
  const cli = (...args: string[]): { code: number | null; err: string } => {
    const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, err: r.stderr };
  };

  t.test('check-config: every refused file exits 2 with one line per problem, no stack', (t) => {
    const dir = t.testdir({
      'syntax.yaml': 'instances: [\n',
      'bomb.yaml': bomb,
      'vips.yaml': valid.replace('[10.0.0.1/24]', `[${Array.from({ length: 25_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32`).join(', ')}]`),
      sub: {},
    });
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, LIMITS.configBytes + 1);
    const expect: Array<[string, RegExp]> = [
      ['syntax.yaml', /^haagent: .*syntax\.yaml: \d problem\(s\):\n( {2}- \(yaml\) \(line \d+\): [^\n]+ \(column \d+\)\n)+$/],
      ['bomb.yaml', /^haagent: .*bomb\.yaml: 1 problem\(s\):\n {2}- \(yaml\): its aliases expand too much \(an "alias bomb"\?\)[^\n]*\n$/],
      ['vips.yaml', /^haagent: .*vips\.yaml: 1 problem\(s\):\n {2}- instances\[0\]\.vips \(line 5\): has more than 1024 entries[^\n]*\n$/],
      ['big.yaml', /^haagent: config file .*big\.yaml is 1048577 bytes, over the limit of 1 MiB; refused before reading\n$/],
      ['sub', /^haagent: config file .*sub is not a regular file\n$/],
      ['missing.yaml', /^haagent: cannot read config file .*missing\.yaml: ENOENT[^\n]*\n$/],
    ];
    for (const [name, err] of expect) {
      const r = cli('check-config', join(dir, name));
      t.equal(r.code, 2, name);
      t.match(r.err, err, name);
      t.notMatch(r.err, /unexpected error| {4}at /, `${name}: no stack`);
    }
    t.end();
  });

  t.test('start: a file over the bound exits 2 before anything is touched', (t) => {
    const dir = t.testdir({ run: {} });
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, LIMITS.configBytes * 3);
    const socket = join(dir, 'run', 'agent.sock');
    const stateDir = join(dir, 'state');
    const r = cli('start', '--config', big, '--socket', socket, '--state-dir', stateDir);
    t.equal(r.code, 2);
    t.match(r.err, /over the limit of 1 MiB; refused before reading/);
    t.notOk(existsSync(socket), 'no control socket');
    t.notOk(existsSync(stateDir), 'no state directory');
    t.end();
  });
}
