/**
 * InstanceTimers: a due Master_Down_Timer is checked only after the socket reads of the same
 * event-loop turn. The scenario is a backup stalled longer than its Master_Down_Interval while
 * an advert waits in its socket: the advert must restart the timer before the expired one is
 * acted on. Real Node timers and a real UDP socket stand in for the VRRP socket.
 */
import t from 'tap';
import { createSocket } from 'node:dgram';
import pino from 'pino';
import type { TimerKind } from '../../../src/core/fsm/types.js';
import { InstanceTimers } from '../../../src/daemon/instance-timers.js';

const clock = (): number => performance.now();
const log = pino({ level: 'silent' });

/** Blocks this thread for `ms` (the stall). */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

async function scenario(kind: TimerKind): Promise<{ fired: TimerKind[]; rearmed: boolean }> {
  const fired: TimerKind[] = [];
  const current = new Map<TimerKind, number>();
  const timers = new InstanceTimers({
    clock, log, beforeMasterDown: () => undefined,
    isCurrent: (k, d) => current.get(k) === d,
    fire: (k) => fired.push(k),
  });
  const arm = (k: TimerKind, d: number): void => { current.set(k, d); timers.arm(k, d); };
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  let rearmed = false;
  // The "advert": restarts the timer, as the core does for a master's advert.
  sock.on('message', () => { rearmed = true; arm(kind, clock() + 1000); });
  const port = sock.address().port;
  await new Promise<void>((resolve, reject) => sock.send('advert', port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  arm(kind, clock() + 5);
  stall(50); // the timer is long due and the datagram is waiting
  await new Promise((r) => setTimeout(r, 100));
  timers.stopAll();
  sock.close();
  return { fired, rearmed };
}

t.test('an advert waiting after a stall restarts master-down before it fires', async (t) => {
  const r = await scenario('master-down');
  t.ok(r.rearmed, 'the waiting advert was read');
  t.same(r.fired, [], 'the expired master-down timer was not acted on');
});

t.test('a master-down timer with nothing waiting still fires', async (t) => {
  const fired: TimerKind[] = [];
  let deadline = 0;
  const timers = new InstanceTimers({
    clock, log, beforeMasterDown: () => undefined,
    isCurrent: (_k, d) => d === deadline,
    fire: (k) => fired.push(k),
  });
  deadline = clock() + 5;
  timers.arm('master-down', deadline);
  await new Promise((r) => setTimeout(r, 60));
  t.same(fired, ['master-down']);
});

t.test('stopAll drops a master-down fire waiting for its loop turn', async (t) => {
  const fired: TimerKind[] = [];
  const deadline = clock() + 2;
  const timers = new InstanceTimers({
    clock, log, beforeMasterDown: () => undefined,
    isCurrent: (_k, d) => d === deadline,
    fire: (k) => fired.push(k),
  });
  timers.arm('master-down', deadline);
  // A timer of our own, due after the master-down one, runs in the same timers phase, before
  // the master-down check (setImmediate): stopping there must drop the pending check.
  setTimeout(() => timers.stopAll(), 2);
  stall(20);
  await new Promise((r) => setTimeout(r, 40));
  t.same(fired, []);
});

/** Timers over a `current` map as the core keeps it, recording fires (with their time) and isolation checks. */
function recorded(): { timers: InstanceTimers; arm: (k: TimerKind, d: number) => void; fired: Array<[TimerKind, number]>; checks: number[] } {
  const current = new Map<TimerKind, number>();
  const fired: Array<[TimerKind, number]> = [];
  const checks: number[] = [];
  const timers = new InstanceTimers({
    clock, log, beforeMasterDown: () => { checks.push(clock()); },
    isCurrent: (k, d) => current.get(k) === d,
    fire: (k) => fired.push([k, clock()]),
  });
  return { timers, fired, checks, arm: (k, d) => { current.set(k, d); timers.arm(k, d); } };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('re-armed for later: fires once, at the later deadline', async (t) => {
  for (const kind of ['advert', 'master-down'] as const) {
    const r = recorded();
    r.arm(kind, clock() + 15);
    await sleep(5);
    const later = clock() + 40;
    r.arm(kind, later);
    await sleep(90);
    t.equal(r.fired.length, 1, `${kind}: one fire`);
    t.ok((r.fired[0]?.[1] ?? 0) >= later, `${kind}: not before the later deadline`);
    r.timers.stopAll();
  }
});

t.test('a master-down re-armed for later is not checked for isolation at the old deadline', async (t) => {
  const r = recorded();
  r.arm('master-down', clock() + 10);
  await sleep(3);
  const later = clock() + 60;
  r.arm('master-down', later);
  await sleep(35);
  t.same(r.checks, [], 'nothing at the old deadline');
  await sleep(70);
  t.equal(r.checks.length, 1);
  t.ok((r.checks[0] ?? 0) >= later);
  t.same(r.fired.map(([k]) => k), ['master-down']);
  r.timers.stopAll();
});

t.test('re-armed for earlier: the earlier deadline fires', async (t) => {
  const r = recorded();
  r.arm('advert', clock() + 500);
  r.arm('advert', clock() + 10);
  await sleep(80);
  t.same(r.fired.map(([k]) => k), ['advert']);
  r.timers.stopAll();
});

t.test('cancel after a later re-arm: nothing fires', async (t) => {
  const r = recorded();
  r.arm('master-down', clock() + 10);
  r.arm('master-down', clock() + 30);
  r.timers.cancel('master-down');
  await sleep(70);
  t.same(r.fired, []);
  t.same(r.checks, []);
});
