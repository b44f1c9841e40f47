/** The CLI as a process: exit codes and messages operators see (no root needed). */
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/adapters/package-info.js';

const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
/** The built CLI with `args`; HAAGENT_SOCKET is only set when `env` sets it. */
const cliEnv = (env: Readonly<Record<string, string>>, ...args: string[]): { code: number | null; out: string; err: string } => {
  const base = { ...process.env };
  delete base['HAAGENT_SOCKET'];
  delete base['JOURNAL_STREAM'];
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...base, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const cli = (...args: string[]): { code: number | null; out: string; err: string } => cliEnv({}, ...args);

if (!existsSync(main)) {
  t.plan(0, 'dist/ is not built: run `npm run build` (npm test does)');
} else {
  t.test('status with no agent running: a clear message and exit 3', (t) => {
    const r = cli('status', '--socket', '/nonexistent/x.sock');
    t.equal(r.code, 3);
    t.match(r.err, /no haagent is running \(nothing listens on \/nonexistent\/x\.sock\)/);
    t.end();
  });

  t.test('check-config: a bad file names key path and line, exit 2', (t) => {
    const dir = t.testdir({ 'bad.yaml': 'instances:\n  - vrid: 0\n    interface: eth0\n    vips: [10.0.0.1/24]\n' });
    const r = cli('check-config', join(dir, 'bad.yaml'));
    t.equal(r.code, 2);
    t.match(r.err, /instances\[0\]\.vrid \(line 2\): must be an integer from 1 to 255, got 0/);
    t.end();
  });

  t.test('check-config: the example configs are valid and print effective settings', (t) => {
    for (const f of ['host-a.yaml', 'host-b.yaml']) {
      const r = cli('check-config', join(packageRoot(), 'examples', f));
      t.equal(r.code, 0, f);
      const cfg = parseYaml(r.out) as { instances: Array<{ vrid: number; priority: number }> };
      t.equal(cfg.instances[0]?.vrid, 51);
      t.match(r.err, /OK \(1 instance\(s\)/, 'one OK line');
    }
    t.end();
  });

  t.test('start: bad flags are refused before anything is touched', (t) => {
    // A private directory for the socket: a world-writable one (/tmp) is refused first.
    const sockDir = mkdtempSync(join(tmpdir(), 'hacli-'));
    t.teardown(() => rmSync(sockDir, { recursive: true, force: true }));
    const sock = join(sockDir, 'haagent-cli-test.sock');
    const bad = cli('start', '--interface', 'eth0', '--vip', '10.0.0.1/24', '--vrid', 'abc');
    t.equal(bad.code, 2, 'a usage error');
    t.match(bad.err, /--vrid takes a whole number, got "abc"/);
    const noVip = cli('start', '--interface', 'eth0', '--vrid', '5', '--socket', sock);
    t.equal(noVip.code, 2);
    t.match(noVip.err, /instances\[0\]\.vips: needs at least one address/);
    const role = cli('start', '--role', 'boss');
    t.not(role.code, 0);
    t.match(role.err, /boss.*is invalid|Allowed choices/);
    const missing = cli('start', '--interface', 'nosuch0', '--vip', '10.0.0.1/24', '--vrid', '5', '--socket', sock);
    t.equal(missing.code, 2, 'a missing interface is a config error');
    t.match(missing.err, /interface "nosuch0" not found/);
    t.end();
  });

  t.test('start: a control socket directory others can write to (/tmp) is refused before the interfaces are even looked at', (t) => {
    const r = cli('start', '--interface', 'nosuch0', '--vip', '10.0.0.1/24', '--vrid', '5', '--socket', '/tmp/haagent-cli-test.sock');
    t.equal(r.code, 1);
    t.match(r.err, /control socket directory \/tmp .*refusing to use it/);
    t.notMatch(r.err, /nosuch0/);
    t.end();
  });

  t.test('usage errors: one line on stderr and the usage exit code', (t) => {
    const cases: Array<{ args: string[]; err: RegExp }> = [
      { args: ['start', '--log-level', 'verbose'], err: /argument 'verbose' is invalid\. Allowed choices are trace, debug, info, warn, error/ },
      { args: ['start', '--log-format', 'xml'], err: /argument 'xml' is invalid\. Allowed choices are auto, json, text/ },
      { args: ['start', '--interface', 'eth0', '--vip', '10.0.0.1/24', '--vrid', 'abc', '--socket', '/tmp/haagent-cli-test.sock'], err: /--vrid takes a whole number, got "abc"/ },
      { args: ['status', '--bogus'], err: /unknown option '--bogus'/ },
      { args: ['frobnicate'], err: /unknown command 'frobnicate'/ },
      { args: ['maintenance'], err: /missing required argument/ },
      { args: ['maintenance', 'maybe', '--socket', '/nonexistent/x.sock'], err: /maintenance takes "on" or "off", got "maybe"/ },
    ];
    for (const c of cases) {
      const r = cli(...c.args);
      t.equal(r.code, 2, c.args.join(' '));
      t.match(r.err, c.err, c.args.join(' '));
      t.match(r.err, /^haagent: [^\n]+\n$/, `${c.args.join(' ')}: one line`);
      t.notMatch(r.err, /\bat .*\.js:\d+/, 'no stack');
    }
    const zero = cli('start', '--interface', 'eth0', '--vip', '10.0.0.1/24', '--vrid', '0', '--socket', '/tmp/haagent-cli-test.sock');
    t.equal(zero.code, 2, '--vrid 0: the same code as --vrid abc');
    t.match(zero.err, /instances\[0\]\.vrid: must be an integer from 1 to 255, got 0/);
    t.end();
  });

  t.test('--help and --version exit 0; the help lists exit codes and the socket precedence', (t) => {
    const help = cli('--help');
    t.equal(help.code, 0);
    t.match(help.out, /Exit codes:[\s\S]*2 {2}usage or config error[\s\S]*3 {2}no agent is running/);
    t.match(help.out, /--socket PATH, then \$HAAGENT_SOCKET, then the socket: key of -c FILE/);
    t.equal(cli('--version').code, 0);
    t.equal(cli('status', '--help').code, 0);
    t.end();
  });

  t.test('client commands find the agent: --socket > HAAGENT_SOCKET > -c FILE\'s socket:', (t) => {
    const dir = t.testdir({
      'good.yaml': 'socket: /nonexistent/from-config.sock\ninstances:\n  - vrid: 51\n    interface: eth0\n    vips: [10.0.0.1/24]\n',
      'broken-elsewhere.yaml': 'socket: /nonexistent/still-from-config.sock\ninstances:\n  - vrid: 0\n',
      'bad-socket.yaml': 'socket: relative.sock\ninstances:\n  - vrid: 51\n    interface: eth0\n    vips: [10.0.0.1/24]\n',
      'syntax.yaml': 'socket: [unclosed\n',
    });
    const env = cliEnv({ HAAGENT_SOCKET: '/nonexistent/from-env.sock' }, 'status');
    t.equal(env.code, 3, 'HAAGENT_SOCKET with no agent: exit 3');
    t.match(env.err, /nothing listens on \/nonexistent\/from-env\.sock.*HAAGENT_SOCKET/);
    const file = cli('status', '-c', join(dir, 'good.yaml'));
    t.equal(file.code, 3);
    t.match(file.err, /nothing listens on \/nonexistent\/from-config\.sock/, '-c FILE: its socket');
    for (const cmd of [['reload'], ['switchover'], ['maintenance', 'on'], ['events']]) {
      const r = cli(...cmd, '--config', join(dir, 'good.yaml'));
      t.equal(r.code, 3, `${cmd[0] ?? ''} --config`);
      t.match(r.err, /nothing listens on \/nonexistent\/from-config\.sock/, `${cmd[0] ?? ''} --config: its socket`);
    }
    t.match(cliEnv({ HAAGENT_SOCKET: '/nonexistent/from-env.sock' }, 'status', '-c', join(dir, 'good.yaml')).err, /from-env\.sock/, 'HAAGENT_SOCKET beats -c');
    t.match(cliEnv({ HAAGENT_SOCKET: '/nonexistent/from-env.sock' }, 'status', '--socket', '/nonexistent/flag.sock').err, /flag\.sock/, '--socket beats HAAGENT_SOCKET');
    const elsewhere = cli('status', '-c', join(dir, 'broken-elsewhere.yaml'));
    t.equal(elsewhere.code, 3, 'problems outside socket: do not matter to a client');
    t.match(elsewhere.err, /still-from-config\.sock/);
    const badSocket = cli('status', '-c', join(dir, 'bad-socket.yaml'));
    t.equal(badSocket.code, 2);
    t.match(badSocket.err, /bad-socket\.yaml: 1 problem\(s\):\n {2}- socket \(line 1\): must be an absolute path/);
    const syntax = cli('status', '-c', join(dir, 'syntax.yaml'));
    t.equal(syntax.code, 2);
    t.match(syntax.err, /syntax\.yaml/);
    const wins = cli('status', '-c', join(dir, 'syntax.yaml'), '--socket', '/nonexistent/flag.sock');
    t.equal(wins.code, 3, '--socket wins over a broken config');
    t.match(wins.err, /nothing listens on \/nonexistent\/flag\.sock/);
    const missing = cli('status', '-c', join(dir, 'nope.yaml'));
    t.equal(missing.code, 2);
    t.match(missing.err, /cannot read config file .*nope\.yaml/);
    t.end();
  });
}
