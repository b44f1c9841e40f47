/**
 * README command 1 (`npm run lab` = `haagent lab`), run as the README runs it: the CLI from the
 * compiled tree, as a child process. It must elect one master, spread requests on VIP:8080 over
 * both web servers, survive the master's power loss, take the dead host out of the rotation, and
 * leave no namespace behind. Then `--keep` must leave the whole lab running (agents answer, the
 * client is served) and `--down` remove it. Once with nftables (the default when nft exists), once with the
 * proxy mode (what hosts without nftables get). Timing figures are the benchmark's business;
 * here only that the takeover happened.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import t from 'tap';
import { distPath } from '../../src/lab/cluster.js';
import { run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';

const skip = skipReason({ needsDist: true, needs: ['nft'] });
if (skip !== undefined) {
  t.plan(0, `lab test skipped: ${skip}`);
} else {
  const cli = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [distPath('cli', 'main.js'), ...args], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  for (const mode of ['nftables', 'proxy'] as const) {
    t.test(`haagent lab --lb-mode ${mode}: election, balancing, power loss, takeover, cleanup`, async (t) => {
      const out = await run(process.execPath, [distPath('cli', 'main.js'), 'lab', '--advert-interval', '100ms', '--lb-mode', mode], 120_000);
      const lines = out.split('\n');
      const line = (re: RegExp): RegExpMatchArray | null => lines.map((l) => re.exec(l)).find((m) => m !== null) ?? null;
      const elected = line(/^\[lab\] elected: (h[12]) is MASTER of 10\.77\.0\.100, (h[12]) is BACKUP$/);
      t.ok(elected, 'one master, one backup', { out });
      const [, master, backup] = elected ?? [];
      t.ok(line(new RegExp(`answered by ${master ?? '?'}$`)), 'the client is answered by the master');
      const lb = line(new RegExp(`load balancer on 10\\.77\\.0\\.100:8080 \\(${mode}, round-robin over both web servers\\): 100 requests -> h1 (\\d+), h2 (\\d+)$`));
      t.ok(lb, `the ${mode} balancer line`, { out });
      t.ok(Math.abs(Number(lb?.[1]) - 50) <= 5 && Math.abs(Number(lb?.[2]) - 50) <= 5, `split h1 ${lb?.[1] ?? '?'} / h2 ${lb?.[2] ?? '?'} (50 +- 5)`);
      t.ok(line(new RegExp(`^\\[lab\\] ${backup ?? '?'} became MASTER ~\\d+ ms after the power loss$`)), 'the backup took over');
      t.ok(line(new RegExp(`now answered by ${backup ?? '?'}$`)), 'the client is answered by the new master');
      const dead = master === 'h1' ? '10.66.0.11' : '10.66.0.12';
      t.ok(line(new RegExp(`now on ${backup ?? '?'}: 20 requests -> ${backup ?? '?'} 20 \\(out of rotation: ${dead.replace(/\./g, '\\.')}\\)$`)), 'after the power loss all requests go to the survivor', { out });
      t.equal(lines.filter((l) => l !== '').slice(-1)[0], '[lab] done, everything removed');
      t.notMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), /halab-/, 'no lab namespace left');
    });
  }

  t.test('haagent lab --keep leaves the lab running; lab --down removes it', async (t) => {
    const prefix = 'halab';
    t.teardown(() => { spawnSync(process.execPath, [distPath('cli', 'main.js'), 'lab', '--down']); });
    const out = await run(process.execPath, [distPath('cli', 'main.js'), 'lab', '--keep', '--advert-interval', '100ms'], 150_000);
    t.match(out, /\[lab\] kept running: h1 (MASTER|BACKUP), h2 (MASTER|BACKUP)/);
    t.match(out, /remove it all: .*lab --down/);
    for (const h of ['h1', 'h2']) {
      const st = cli('status', '--socket', `/run/haagent-lab/${prefix}-${h}.sock`, '--json');
      t.equal(st.code, 0, `${h}'s agent still answers after the lab command exited`);
    }
    const curl = spawnSync('ip', ['netns', 'exec', `${prefix}-cl`, process.execPath, '-e',
      "require('http').get('http://10.77.0.100/', (r) => { let b = ''; r.on('data', (d) => { b += d; }); r.on('end', () => { process.stdout.write(b); }); }).on('error', (e) => { process.stdout.write('ERR ' + e.message); })"], { encoding: 'utf8', timeout: 10_000 });
    t.match(curl.stdout, /h[12]/, 'the client is served through the VIP');
    const down = cli('lab', '--down');
    t.equal(down.code, 0);
    t.match(down.out, /lab removed: \d+ process\(es\) stopped, 4 namespace\(s\) deleted/);
    t.notMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(`${prefix}-`), 'no lab namespace left');
    t.match(cli('lab', '--down').out, /no lab was running/);
  });
}
