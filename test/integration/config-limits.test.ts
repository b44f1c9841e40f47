/**
 * Config bounds with the real agent on two hosts in namespaces: a reload with an oversized or
 * hostile file (25k VIPs, over the file size bound, an alias bomb) is refused at once, and the
 * running pair does not notice: the master stays MASTER without a transition and the peer never
 * takes over (a master that stalled for longer than Master_Down_Interval would lose the VIP).
 * Time bounds are liveness limits, not speed claims.
 */
import t from 'tap';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distPath } from '../../src/lab/cluster.js';
import { VIP_CIDR } from '../../src/lab/topology.js';
import { run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `config limits integration tests skipped: ${skip}`);
} else {
  const { h1, h2, hasVip, withCluster } = labSuite(t, 'hacl');
  const dir = mkdtempSync(join(tmpdir(), 'hacl-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  const cli = (...args: string[]): Promise<string> => run(process.execPath, [distPath('cli', 'main.js'), ...args], 30_000);

  /**
   * The one-instance config of a host. Adverts every second: Master_Down_Interval is ~3.6 s, so
   * a loaded test machine does not cause failovers, while the stall this test guards against
   * (seconds of blocked event loop while a huge file was checked) would.
   */
  function writeConfig(file: string, socket: string, priority: number, vips: string): void {
    writeFileSync(file, `socket: ${socket}\ninstances:\n  - name: web\n    vrid: 51\n    interface: int0\n    external: ext0\n    advert-interval: 1s\n    priority: ${priority}\n    vips: ${vips}\n`);
  }

  t.test('reloads with a 25k-VIP file, a file over the size bound and an alias bomb are refused; the master stays MASTER, the peer stays BACKUP', (t) => withCluster(async (c) => {
    const f1 = join(dir, 'h1.yaml');
    const f2 = join(dir, 'h2.yaml');
    writeConfig(f1, c.socketPath(h1), 150, `[${VIP_CIDR}]`);
    writeConfig(f2, c.socketPath(h2), 100, `[${VIP_CIDR}]`);
    const a = c.startAgent(h1, ['--config', f1]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', f2]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP' && (await c.stateOf(a)) === 'MASTER', 10_000), 'h2 BACKUP', { logs: [logsOf(a), logsOf(b)] });
    const before = { a: (await c.status(a)).instances[0]?.transitionsTotal, b: (await c.status(b)).instances[0]?.transitionsTotal };

    const vips25k = Array.from({ length: 25_000 }, (_, i) => `10.${80 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
    const bomb = `a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${['b', 'c', 'd', 'e', 'f', 'g'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`).join('\n')}\ninstances: *g\n`;
    const cases: Array<[string, () => void, RegExp]> = [
      ['25k VIPs, flow list', () => writeConfig(f1, c.socketPath(h1), 150, `[${vips25k.join(', ')}]`), /instances\[0\]\.vips \(line 9\): has more than 1024 entries/],
      ['25k VIPs, block list', () => writeConfig(f1, c.socketPath(h1), 150, `\n${vips25k.map((v) => `      - ${v}`).join('\n')}`), /instances\[0\]\.vips \(line 9\): has more than 1024 entries/],
      ['over the size bound', () => { writeFileSync(f1, ''); truncateSync(f1, 3 * 1024 * 1024); }, /is 3145728 bytes, over the limit of 1 MiB; refused before reading/],
      ['alias bomb', () => writeFileSync(f1, bomb), /\(yaml\): its aliases expand too much \(an "alias bomb"\?\)/],
    ];
    for (const [what, write, reason] of cases) {
      write();
      const startedMs = Date.now();
      await t.rejects(cli('reload', '--socket', a.socket), new RegExp(`reload refused, the running config stays: [^]*${reason.source}`), `${what}: refused with the reason`);
      t.comment(`${what}: \`haagent reload\` returned the refusal after ${Date.now() - startedMs} ms (a CLI process included)`);
    }
    // Longer than Master_Down_Interval (3 x 1 s + skew): a stalled master would have lost the VIP by now.
    await new Promise((r) => setTimeout(r, 4000));
    const sa = (await c.status(a)).instances[0];
    const sb = (await c.status(b)).instances[0];
    t.equal(sa?.state, 'MASTER', 'h1 still MASTER');
    t.equal(sa?.transitionsTotal, before.a, 'no transition on h1');
    t.same(sa?.vips, [VIP_CIDR], 'the running config stays');
    t.equal(sb?.state, 'BACKUP', 'h2 never took over');
    t.equal(sb?.transitionsTotal, before.b, 'no transition on h2');
    t.ok(await hasVip(h1) && !(await hasVip(h2)), 'the VIP is on h1 only');

    // The agent still reloads a good file afterwards.
    writeConfig(f1, c.socketPath(h1), 150, `[${VIP_CIDR}]`);
    t.match(await cli('reload', '--socket', a.socket), /reloaded: 1 unchanged/);
  }));
}
