/**
 * `haagent import-keepalived` as a process: includes read from disk (globs relative to the
 * including file), the exit statuses (0 all mapped, 7 something not mapped, 2 unparsable or not
 * valid), warnings on stderr with file:line, --out; and the hints for keepalived files and
 * spellings given to check-config.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/adapters/package-info.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { validateConfig } from '../../../src/core/config/validate.js';
import { EXIT_CODES } from '../../../src/cli/exit-codes.js';
import { expandInclude, findOnPath } from '../../../src/cli/import-keepalived.js';

const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const cli = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const CLEAN = `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  include peers.inc
  virtual_ipaddress {
    192.0.2.10/24
  }
}
include conf.d/*.conf
`;

t.test('pure helpers: glob expansion relative to the including file, PATH lookup', (t) => {
  const dir = t.testdir({ 'k.conf': '', 'conf.d': { 'b.conf': '', 'a.conf': '', '.hidden.conf': '', 'c.txt': '' } });
  t.same(expandInclude('conf.d/*.conf', join(dir, 'k.conf')), { files: [join(dir, 'conf.d', 'a.conf'), join(dir, 'conf.d', 'b.conf')] });
  t.same(expandInclude(join(dir, 'conf.d', '[ab].conf'), '/elsewhere/k.conf'), { files: [join(dir, 'conf.d', 'a.conf'), join(dir, 'conf.d', 'b.conf')] });
  t.same(expandInclude('plain.conf', join(dir, 'k.conf')), { files: [join(dir, 'plain.conf')] });
  t.match(expandInclude('*/x.conf', join(dir, 'k.conf')), { problem: /wildcards are supported in the file name only/ });
  t.equal(findOnPath('sh', '/nonexistent:/bin:/usr/bin')?.startsWith('/'), true);
  t.equal(findOnPath('no-such-command-here', '/bin:/usr/bin'), undefined);
  t.end();
});

t.test('a keepalived spelling in a haagent file gets a "did you mean"', (t) => {
  const r = validateConfig({ instances: [{ vrid: 1, interface: 'eth0', vips: ['192.0.2.1/24'], advert_int: 1, virtual_ipaddress: [], preempt_delay: '1s', auth: { type: 'pass', auth_pass: 'x' } }] });
  const msgs = r.ok ? [] : r.errors.map((e) => e.message);
  t.match(msgs.join('\n'), /unknown key "advert_int" \(allowed: [^)]*\); did you mean "advert-interval"\? \(keepalived spells it advert_int\)/);
  t.match(msgs.join('\n'), /unknown key "virtual_ipaddress" .*did you mean "vips"\?/);
  t.match(msgs.join('\n'), /unknown key "preempt_delay" .*; did you mean "preempt-delay"\?/);
  t.match(msgs.join('\n'), /auth\.auth_pass: unknown key "auth_pass" .*did you mean "password"\?/);
  const plain = validateConfig({ instances: [{ vrid: 1, interface: 'eth0', vips: ['192.0.2.1/24'], colour: 1 }] });
  t.notMatch(plain.ok ? '' : plain.errors.map((e) => e.message).join('\n'), /did you mean/, 'no hint for an unrelated key');
  t.end();
});

if (!existsSync(main)) {
  t.plan(2, 'dist/ is not built: run `npm run build` (npm test does)');
} else {
  t.test('includes are read; everything mapped: exit 0 and valid YAML on stdout', (t) => {
    const dir = t.testdir({
      'keepalived.conf': CLEAN,
      'peers.inc': 'unicast_peer {\n  192.0.2.2\n}\n',
      'conf.d': { 'v2.conf': 'vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 52\n  virtual_ipaddress {\n    192.0.2.20/24\n  }\n}\n' },
    });
    const r = cli('import-keepalived', join(dir, 'keepalived.conf'));
    t.equal(r.code, 0, r.err);
    t.equal(r.err, '');
    const v = parseConfigYaml(r.out);
    t.ok(v.ok, 'validates');
    if (v.ok) {
      t.same(v.config.instances.map((i) => [i.name, i.peers]), [['VI_1', ['192.0.2.2']], ['VI_2', []]]);
    }
    t.match(r.out, `# from vrrp_instance VI_2 (${join(dir, 'conf.d', 'v2.conf')}:1)`);
    t.end();
  });

  t.test('something not mapped: exit 7, a warning per option on stderr with file:line', (t) => {
    const dir = t.testdir({ 'k.conf': CLEAN.replace('priority 100', 'priority 100\n  smtp_alert').replace('include conf.d/*.conf', 'include conf.d/*.none'), 'peers.inc': '' });
    const r = cli('import-keepalived', join(dir, 'k.conf'), '--out', join(dir, 'out.yaml'));
    t.equal(r.code, EXIT_CODES.importUnmapped);
    t.equal(r.code, 7);
    t.match(r.err, `haagent: warning: ${join(dir, 'k.conf')}:6: smtp_alert: not mapped`);
    t.match(r.err, `haagent: warning: ${join(dir, 'k.conf')}:12: include conf.d/*.none: no file matches`);
    t.equal(r.out, '');
    const out = join(dir, 'out.yaml');
    t.equal(statSync(out).mode & 0o777, 0o600, '--out file is private (it may hold a password)');
    t.match(readFileSync(out, 'utf8'), /# NOT MAPPED .*:6: smtp_alert: not mapped/);
    t.end();
  });

  t.test('--out over an existing 0644 file leaves it 0600; no word of a password on stderr or in the YAML', (t) => {
    const conf = CLEAN.replace('include conf.d/*.conf', '').replace('include peers.inc', '  authentication {\n    auth_type PASS\n    auth_pass pwAlpha pwBravo\n  }');
    const dir = t.testdir({ 'k.conf': conf });
    const out = join(dir, 'out.yaml');
    writeFileSync(out, 'old\n');
    chmodSync(out, 0o644);
    const r = cli('import-keepalived', join(dir, 'k.conf'), '--out', out);
    t.equal(r.code, EXIT_CODES.importUnmapped, r.err);
    t.equal(statSync(out).mode & 0o777, 0o600, 'the existing file is private now');
    const yaml = readFileSync(out, 'utf8');
    t.match(yaml, /password: pwAlpha/, 'the password itself is the config');
    t.match(r.err, /auth_pass …: takes one value; 1 more word\(s\) ignored/);
    t.notMatch(r.err, /pwAlpha|pwBravo/, 'stderr shows no word of the password');
    t.notMatch(yaml, /pwBravo/, 'the ignored word is not in a comment');
    t.equal(yaml.split('pwAlpha').length, 2, 'the password appears once, as the value only');
    t.same(readdirSync(dir).sort(), ['k.conf', 'out.yaml'], 'no temporary file left');
    t.end();
  });

  t.test('unparsable keepalived text, or a result that does not validate: exit 2 with the reasons', (t) => {
    const dir = t.testdir({
      'broken.conf': 'vrrp_instance A {\n  interface eth0\n',
      'novrid.conf': 'vrrp_instance A {\n  interface eth0\n  virtual_ipaddress {\n    192.0.2.1/24\n  }\n}\n',
    });
    const broken = cli('import-keepalived', join(dir, 'broken.conf'));
    t.equal(broken.code, 2);
    t.match(broken.err, `${join(dir, 'broken.conf')}:1: block "vrrp_instance" is not closed`);
    const novrid = cli('import-keepalived', join(dir, 'novrid.conf'));
    t.equal(novrid.code, 2);
    t.match(novrid.err, /the converted config does not validate.*\n.*instances\[0\]\.vrid.*is required/);
    const missing = cli('import-keepalived', join(dir, 'nope.conf'));
    t.equal(missing.code, 2);
    t.end();
  });

  t.test('check-config on a keepalived.conf says so and suggests import-keepalived', (t) => {
    const dir = t.testdir({ 'keepalived.conf': CLEAN, 'bad.yaml': 'instances:\n  - vrid: 0\n' });
    const r = cli('check-config', join(dir, 'keepalived.conf'));
    t.equal(r.code, 2);
    t.match(r.err, `is a keepalived config, not a haagent one: convert it with \`haagent import-keepalived ${join(dir, 'keepalived.conf')}\``);
    const y = cli('check-config', join(dir, 'bad.yaml'));
    t.equal(y.code, 2);
    t.notMatch(y.err, /is a keepalived config/, 'no hint for a broken haagent file');
    t.end();
  });
}
