/**
 * DeadlineTimers: the instances' protocol timers on one Node timer per distinct deadline
 * millisecond. Real Node timers and the real monotonic clock.
 */
import t from 'tap';
import { DeadlineTimers } from '../../../src/daemon/deadline-timers.js';

const clock = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` holds, up to 5 s (a loaded machine runs timers late, never early). */
async function until(done: () => boolean): Promise<void> {
  const end = performance.now() + 5000;
  while (!done() && performance.now() < end) await sleep(5);
}

t.test('entries due in the same millisecond share one Node timer and run in one go, in order', async (t) => {
  const timers = new DeadlineTimers(clock);
  const at = Math.ceil(clock()) + 30;
  const ran: string[] = [];
  let between = 0;
  let betweenAtD = -1;
  let firstAt = 0;
  for (const name of ['a', 'b', 'c']) {
    timers.at(at - 0.5, () => {
      firstAt ||= clock();
      ran.push(name);
      setImmediate(() => { between += 1; });
    });
  }
  timers.at(at, () => { ran.push('d'); betweenAtD = between; });
  t.equal(timers.pending, 1, 'one Node timer for four entries');
  timers.at(at + 5, () => ran.push('later'));
  t.equal(timers.pending, 2);
  await until(() => ran.length === 5);
  t.ok(firstAt >= at - 0.5, 'nothing before its time');
  t.same(ran, ['a', 'b', 'c', 'd', 'later']);
  t.equal(betweenAtD, 0, 'no other turn ran between them');
  t.equal(between, 3);
  t.equal(timers.pending, 0);
});

t.test('an entry never runs before the clock reaches its deadline', async (t) => {
  const timers = new DeadlineTimers(clock);
  const early: number[] = [];
  const runs: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    const atMs = clock() + 1 + Math.random() * 15;
    runs.push(new Promise((resolve) => timers.at(atMs, () => {
      if (clock() < atMs) early.push(atMs - clock());
      resolve();
    })));
  }
  await Promise.all(runs);
  t.same(early, []);
});

t.test('cancel: the entry does not run, an empty bucket drops its Node timer, twice is harmless', async (t) => {
  const timers = new DeadlineTimers(clock);
  const ran: string[] = [];
  const at = clock() + 10;
  const a = timers.at(at, () => ran.push('a'));
  timers.at(at, () => ran.push('b'));
  const c = timers.at(at + 50, () => ran.push('c'));
  timers.cancel(a);
  timers.cancel(a);
  timers.cancel(c);
  t.equal(timers.pending, 1, "c's bucket is gone");
  await until(() => timers.pending === 0);
  await sleep(80);
  t.same(ran, ['b']);
});

t.test('while a bucket runs: a cancelled sibling is skipped, a new entry for now runs after the bucket', async (t) => {
  const timers = new DeadlineTimers(clock);
  const ran: string[] = [];
  const at = clock() + 10;
  const later: { sibling?: ReturnType<DeadlineTimers['at']> } = {};
  timers.at(at, () => {
    ran.push('first');
    if (later.sibling !== undefined) timers.cancel(later.sibling);
    timers.at(at, () => ran.push('rescheduled'));
    t.equal(timers.pending, 1, 'in a new bucket');
  });
  later.sibling = timers.at(at, () => ran.push('sibling'));
  timers.at(at, () => ran.push('last'));
  await until(() => ran.length === 3);
  t.same(ran, ['first', 'last', 'rescheduled']);
});
