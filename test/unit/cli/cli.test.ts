/** The CLI as a process: exit codes and messages operators see (no root needed). */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/cli/package-info.js';

const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const cli = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

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
      const cfg = JSON.parse(r.out) as { instances: Array<{ vrid: number; priority: number }> };
      t.equal(cfg.instances[0]?.vrid, 51);
    }
    t.end();
  });

  t.test('start: bad flags are refused before anything is touched', (t) => {
    // A private directory for the socket: a world-writable one (/tmp) is refused first.
    const sockDir = mkdtempSync(join(tmpdir(), 'hacli-'));
    t.teardown(() => rmSync(sockDir, { recursive: true, force: true }));
    const sock = join(sockDir, 'haagent-cli-test.sock');
    const bad = cli('start', '--interface', 'eth0', '--vip', '10.0.0.1/24', '--vrid', 'abc');
    t.equal(bad.code, 1);
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
}
