/**
 * The takeover guard runner on real processes (process-group containment, no root): all guards
 * run, the attempt passes only if each exits 0 in time, the environment is the minimal one plus
 * the takeover facts, a hung guard is killed at its timeout.
 */
import t from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GuardRunner, type TakeoverFacts } from '../../../src/daemon/guard-runner.js';
import { SAFE_PATH } from '../../../src/adapters/child-env.js';
import { processGroupContainment } from '../../../src/adapters/containment.js';

const facts: TakeoverFacts = { instance: 'db', vrid: 51, vips: ['192.0.2.10/24'], state: 'BACKUP', epoch: 7, peerHeard: true, masterSilentMs: 1234.4 };

function script(dir: string, name: string, body: string): string {
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
  return f;
}

t.test('every guard runs with the takeover facts; all pass -> ok', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'env');
  const envDump = script(dir, 'env.sh', `env | sort > ${out}`);
  const ok = script(dir, 'ok.sh', 'exit 0');
  const g = new GuardRunner([{ name: 'dump', command: [envDump], timeoutMs: 5000 }, { name: 'ok', command: [ok], timeoutMs: 5000 }],
    { containment: processGroupContainment('test'), environment: [{ name: 'PGHOST', value: '/run/pg' }] });
  const a = await g.run(facts);
  t.equal(a.ok, true);
  t.equal(a.detail, '');
  t.same(a.results.map((r) => r.name), ['dump', 'ok']);
  const env = Object.fromEntries(readFileSync(out, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  t.match(env, {
    PATH: SAFE_PATH, PGHOST: '/run/pg', HAAGENT_GUARD: 'dump', HAAGENT_INSTANCE: 'db', HAAGENT_VRID: '51', HAAGENT_VIPS: '192.0.2.10/24',
    HAAGENT_STATE: 'BACKUP', HAAGENT_EPOCH: '7', HAAGENT_PEER_HEARD: '1', HAAGENT_MASTER_SILENT_MS: '1234',
  });
  t.notOk('HOME' in env, 'nothing else of the agent\'s environment');
  t.same(g.results(), a.results, 'kept for status');
});

t.test('one failing guard fails the attempt and is named with its exit; its output stays in the result', async (t) => {
  const dir = t.testdir({});
  const ok = script(dir, 'ok.sh', 'exit 0');
  const bad = script(dir, 'bad.sh', 'echo "replica is 3 MB behind"; exit 1');
  const g = new GuardRunner([{ name: 'ok', command: [ok], timeoutMs: 5000 }, { name: 'fresh', command: [bad], timeoutMs: 5000 }], { containment: processGroupContainment('test') });
  const a = await g.run({ ...facts, masterSilentMs: null, peerHeard: false });
  t.equal(a.ok, false);
  t.equal(a.detail, 'fresh: exit 1', 'the detail (it reaches alert sinks) never carries the output');
  t.match(a.results[1], { name: 'fresh', ok: false, exitCode: 1, timedOut: false, outputTail: /3 MB behind/ });
});

t.test('a hung guard is killed at its timeout and fails; a missing command fails', async (t) => {
  const dir = t.testdir({});
  const hang = script(dir, 'hang.sh', 'sleep 30');
  const g = new GuardRunner([{ name: 'hang', command: [hang], timeoutMs: 200 }, { name: 'gone', command: [join(dir, 'nope')], timeoutMs: 1000 }],
    { containment: processGroupContainment('test'), killGraceMs: 200 });
  const a = await g.run(facts);
  t.equal(a.ok, false);
  t.match(a.detail, /hang: timed out after 200 ms; gone: could not run/);
  t.match(a.results[0], { timedOut: true, ok: false });
});

t.test('after close a run fails at once', async (t) => {
  const g = new GuardRunner([{ name: 'x', command: ['/bin/true'], timeoutMs: 1000 }], { containment: processGroupContainment('test') });
  g.close();
  t.same(await g.run(facts), { ok: false, detail: 'stopped', results: [] });
});

t.test('a new attempt kills what the previous one still runs; only the latest results are kept', async (t) => {
  const dir = t.testdir({});
  const slow = script(dir, 'slow.sh', 'sleep 30');
  const g = new GuardRunner([{ name: 'slow', command: [slow], timeoutMs: 60_000 }], { containment: processGroupContainment('test'), killGraceMs: 100 });
  const first = g.run(facts);
  await new Promise((r) => setTimeout(r, 200));
  const second = g.run(facts);
  const a = await first;
  t.equal(a.ok, false, 'the earlier attempt was cut short, not left running beside the new one');
  t.notOk(a.results[0]?.timedOut, 'killed by the new attempt, not by its 60 s timeout');
  g.close();
  await second;
  t.not(g.results(), a.results, 'the earlier attempt\'s results are not what status shows');
});
