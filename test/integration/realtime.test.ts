/**
 * Real-time scheduling and memory locking, for real (root): a child Node process applies them
 * through the addon and reports every thread's policy from /proc/self/task/<tid>/stat: the main
 * thread SCHED_RR at the priority, and with setRealtimeOtherThreads the threads that existed
 * then (V8's workers, the threadpool) too; threads created after (a worker) and a spawned process
 * SCHED_OTHER. Without CAP_SYS_NICE and with RLIMIT_RTPRIO 0 the error is HA_ERR_SCHED naming
 * what is missing. And the agent itself, started with --realtime-priority and --lock-memory in
 * a namespace: its main thread and the threads it reports having set are SCHED_RR, the rest
 * SCHED_OTHER.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster } from '../../src/lab/cluster.js';
import { packageRoot } from '../../src/adapters/package-info.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';
import { VIP_CIDR } from '../../src/lab/topology.js';

const skip = skipReason({ needsDist: true, needs: ['setpriv'] });
const SCHED_RR = 2;
const SCHED_OTHER = 0;

/** A script run by a child Node: applies, starts threadpool work and a process, prints JSON. */
const probe = (priority: number): string => `
import { setRealtime, setRealtimeOtherThreads, lockMemory, threadPolicies, schedulerOf } from ${JSON.stringify(join(packageRoot(), 'dist', 'src', 'adapters', 'realtime.js'))};
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
try {
  const locked = lockMemory();
  setRealtime(${priority});
  const early = setRealtimeOtherThreads(${priority});
  await Promise.all(Array.from({ length: 8 }, () => readFile('/proc/self/status')));
  // A thread created after: a worker (its own threads too), alive while the policies are read.
  const worker = new Worker('setTimeout(() => {}, 3000)', { eval: true });
  await new Promise((resolve) => worker.once('online', resolve));
  const child = spawnSync('sh', ['-c', 'cat /proc/self/stat'], { encoding: 'utf8' }).stdout;
  const f = child.slice(child.lastIndexOf(')') + 2).split(' ');
  const vmLck = Number(/VmLck:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  const threads = threadPolicies();
  await worker.terminate();
  console.log(JSON.stringify({ ok: true, pid: process.pid, self: schedulerOf(0), early, threads, child: { policy: Number(f[38]), rtPriority: Number(f[37]) }, locked, vmLck }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err.code, message: err.message }));
}
`;

function runProbe(priority: number, prefix: string[] = []): Record<string, unknown> {
  const r = spawnSync(prefix[0] ?? process.execPath, [...prefix.slice(1), ...(prefix.length > 0 ? [process.execPath] : []), '--input-type=module', '-e', probe(priority)], { encoding: 'utf8', timeout: 20_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { ok: false, raw: r.stdout, stderr: r.stderr };
  }
}

if (skip !== undefined) {
  t.plan(0, `real-time integration tests skipped: ${skip}`);
} else {
  t.test('main thread and the threads started before it SCHED_RR; later threads and a spawned process SCHED_OTHER; code locked', (t) => {
    const r = runProbe(10) as { ok: boolean; pid: number; self: unknown; early: { set: number[]; failed: unknown[] }; threads: Array<{ tid: number; name: string; policy: number; rtPriority: number }>; child: { policy: number; rtPriority: number }; locked: { regions: number }; vmLck: number };
    t.ok(r.ok, 'applied', { r });
    t.match(r.self, { policy: 'rr', priority: 10, resetOnFork: true });
    const main = r.threads.find((x) => x.tid === r.pid);
    t.match(main, { policy: SCHED_RR, rtPriority: 10 }, 'the main thread (tid = pid), read from /proc');
    t.ok(r.early.set.length >= 4, 'V8\'s workers existed and were set', { early: r.early });
    t.same(r.early.failed, []);
    const early = r.threads.filter((x) => r.early.set.includes(x.tid));
    t.same(early.filter((x) => x.policy !== SCHED_RR || x.rtPriority !== 10), [], 'every thread set is SCHED_RR 10, read from /proc');
    const later = r.threads.filter((x) => x.tid !== r.pid && !r.early.set.includes(x.tid));
    t.ok(later.length >= 1, 'threads were created after (a worker)', { later });
    t.same(later.filter((x) => x.policy !== SCHED_OTHER), [], 'none of the later ones is real-time (reset on fork)');
    t.match(r.child, { policy: SCHED_OTHER, rtPriority: 0 }, 'a spawned process starts as SCHED_OTHER (reset on fork)');
    t.ok(r.locked.regions > 0 && r.vmLck > 0, 'memory locked', { locked: r.locked, vmLck: r.vmLck });
    t.end();
  });

  t.test('without CAP_SYS_NICE (and RLIMIT_RTPRIO 0): HA_ERR_SCHED saying what is missing', (t) => {
    const rtprio = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max realtime priority'));
    if (!/\s0\s+0\s/.test(rtprio ?? '')) {
      t.comment(`RLIMIT_RTPRIO is not 0 here (${rtprio ?? '?'}): an unprivileged call would succeed; nothing to check`);
      t.end();
      return;
    }
    const r = runProbe(10, ['setpriv', '--inh-caps', '-sys_nice', '--bounding-set', '-sys_nice', '--']);
    t.match(r, { ok: false, code: 'HA_ERR_SCHED', message: /SCHED_RR priority 10 .*not permitted .*CAP_SYS_NICE.*LimitRTPRIO/ });
    t.end();
  });

  t.test('out of range: HA_ERR_SCHED', (t) => {
    t.match(runProbe(100), { ok: false, code: 'HA_ERR_SCHED', message: /priority 100/ });
    t.end();
  });

  const { h1, withCluster } = labSuite(t, 'hart');
  t.test('the agent started with --realtime-priority 10 --lock-memory: its main thread and the threads started before it', (t) => withCluster(async (c: LabCluster) => {
    const a = c.startAgent(h1, ['--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR, '--vrid', '51', '--advert-interval', '100ms', '--role', 'master', '--realtime-priority', '10', '--lock-memory']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'MASTER', { logs: logsOf(a) });
    const pid = a.child.pid ?? 0;
    const names = (): string[] => readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
    // The advert train thread starts with the master's first train (within a second of MASTER).
    await c.waitFor(() => names().includes('vrrp-trains'), 5000);
    const threads = readdirSync(`/proc/${pid}/task`).map((tid) => {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      return { tid: Number(tid), policy: Number(f[38]), rtPriority: Number(f[37]), name: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() };
    });
    t.match(threads.find((x) => x.tid === pid), { policy: SCHED_RR, rtPriority: 10 }, 'main thread SCHED_RR 10');
    const line = a.logs.find((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('realtime: SCHED_RR priority 10'));
    t.ok(line, 'logged', { logs: logsOf(a) });
    const helpers = Number(line?.['helperThreads']);
    t.ok(helpers >= 4, `V8's workers set too (${helpers})`);
    // The addon's advert-train thread, started with the first MASTER's train, takes the main thread's policy, one above.
    const trains = threads.filter((x) => x.name === 'vrrp-trains');
    t.equal(trains.length, 1, 'the advert train thread runs (a MASTER at 100 ms)');
    t.same(trains.filter((x) => x.policy !== SCHED_RR || x.rtPriority !== 11), [], 'and is SCHED_RR 11, one above (root: no RLIMIT_RTPRIO bound)');
    const others = threads.filter((x) => x.tid !== pid && x.name !== 'vrrp-trains');
    t.equal(others.filter((x) => x.policy === SCHED_RR && x.rtPriority === 10).length, helpers, 'exactly the threads it reports are SCHED_RR 10');
    t.same(others.filter((x) => x.policy !== SCHED_RR && x.policy !== SCHED_OTHER), [], 'the rest SCHED_OTHER');
    t.ok(Number(/VmLck:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) > 0, 'memory locked');
  }));
}
