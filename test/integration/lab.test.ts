/**
 * README command 1 (`npm run lab` = `haagent lab`), run as the README runs it: the CLI from the
 * compiled tree, as a child process. It must elect one master, spread requests on VIP:8080 over
 * both web servers, survive the master's power loss, take the dead host out of the rotation, and
 * leave no namespace behind. Once with nftables (the default when nft exists), once with the
 * proxy mode (what hosts without nftables get). Timing figures are the benchmark's business;
 * here only that the takeover happened.
 */
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { distPath } from '../../src/lab/cluster.js';
import { run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';

const skip = skipReason({ needsDist: true, needs: ['nft'] });
if (skip !== undefined) {
  t.plan(0, `lab test skipped: ${skip}`);
} else {
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
}
