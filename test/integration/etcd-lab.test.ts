/**
 * `haagent lab --etcd` end to end (its code, with this test's own namespaces and directory):
 * the h1-h2 cut holds h2 back by etcd, the cut-off master releases and h2 serves, no sample
 * with two holders, and everything is removed afterwards.
 */
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { skipReason } from '../helpers/root.js';
import { runEtcdLab } from '../../src/lab/etcd-lab.js';

const skip = skipReason({ needsDist: true, needs: ['etcd', 'etcdctl', 'nft', 'stdbuf'] });
if (skip !== undefined) {
  t.plan(0, `etcd lab test skipped: ${skip}`);
} else {
  t.test('lab --etcd shows the partitions and the figures, then removes itself', async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'hel-'));
    t.teardown(() => rmSync(base, { recursive: true, force: true }));
    const prefix = `hel${process.pid % 100000}`;
    const lines: string[] = [];
    await runEtcdLab({ say: (l) => lines.push(l), prefix, dir: join(base, 'lab') });
    const out = lines.join('\n');
    t.match(out, /h2 is BACKUP, takeover held back: etcd \(the leader key is held by 10\.88\.0\.11/);
    t.match(out, /h2 in 0\n/, 'h2 never held the VIP during the h1-h2 cut');
    t.match(out, /h1 released the VIP at \+\d+ ms/);
    t.match(out, /h2 serves from \+\d+ ms .*epoch \d+/);
    t.match(out, /samples with two holders: 0 of \d+/);
    t.comment(lines.filter((l) => /released|serves|gap|two holders/.test(l)).join('\n'));
    const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    t.notOk(ns.includes(`${prefix}-`), 'namespaces removed');
    t.notOk(existsSync(join(base, 'lab')), 'directory removed');
  });
}
