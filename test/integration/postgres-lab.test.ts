/**
 * `haagent lab --postgres` (runLab with postgres: true, under a prefix of its own so it never
 * meets the web lab's namespaces): the primary's power loss loses no acknowledged write, the
 * standby takes over, and the old primary rejoins as a standby with the same rows; everything is
 * removed afterwards. Timing figures are printed, not asserted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { runLab } from '../../src/lab/run.js';
import { pgSkipReason } from '../helpers/postgres.js';
import { skipReason } from '../helpers/root.js';

const skip = skipReason({ needsDist: true }) ?? pgSkipReason();
if (skip !== undefined) {
  t.plan(0, `PostgreSQL lab test skipped: ${skip}`);
} else {
  t.test('haagent lab --postgres: power loss of the primary, no acknowledged write lost, rejoin', async (t) => {
    const prefix = `hapl${process.pid % 100000}`;
    const lines: string[] = [];
    await runLab({ keep: false, advertInterval: '1s', postgres: true, prefix, out: (l) => { lines.push(l); } });
    const line = (re: RegExp): RegExpMatchArray | null => lines.map((l) => re.exec(l)).find((m) => m !== null) ?? null;
    const acked = line(/^ {2}acknowledged writes: (\d+) \((\d+) by h1, (\d+) by h2\)/);
    t.ok(acked, 'the acknowledged writes are reported', { lines });
    t.ok(Number(acked?.[2]) > 0 && Number(acked?.[3]) > 0, `writes acknowledged by both primaries (h1 ${acked?.[2] ?? '?'}, h2 ${acked?.[3] ?? '?'})`);
    t.ok(line(/^ {2}writes lost \(acknowledged, missing on h2\): 0$/), 'no acknowledged write lost', { lines });
    const gap = line(/^ {2}write gap \(power loss -> first write acknowledged by h2\): (\d+) ms$/);
    t.ok(gap, 'the write gap is reported');
    const rows = line(/rejoined as a streaming standby of h2 \(pg_rewind\); h2 replicates synchronously again; rows: h1 (\d+), h2 (\d+)$/);
    t.ok(rows !== null && rows[1] === rows[2], `the old primary rejoined with the same rows (${rows?.[1] ?? '?'} / ${rows?.[2] ?? '?'})`, { lines });
    t.equal(lines[lines.length - 1], 'done, everything removed');
    t.notMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(`${prefix}-`), 'no lab namespace left');
    t.notOk(existsSync(`/run/haagent-lab-pg/${prefix}`), 'no cluster left');
    t.comment(`lab --postgres: ${acked?.[1] ?? '?'} acknowledged, 0 lost, write gap ${gap?.[1] ?? '?'} ms`);
  });
}
