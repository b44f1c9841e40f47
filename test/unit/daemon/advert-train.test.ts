/**
 * A MASTER with an advert train (InstanceEffects, src/core/fsm/advert-wake.ts): at 100 ms adverts
 * and the 1 s lease it sends every third advert itself and hands the two ticks in between to the
 * train; what the train reports is counted and published; a priority change, leaving MASTER and
 * a train that cannot run all give the adverts back to the runner at once. Fake ports, real
 * timers.
 */
import t from 'tap';
import type { Test } from 'tap';
import { FileEpochStore } from '../../../src/adapters/epoch-store.js';
import { NO_TRAIN, type AdvertRepeat, type TrainReport } from '../../../src/adapters/ports.js';
import type { AdvertTrainPort } from '../../../src/daemon/instance-ports.js';
import { harness, until, type Harness } from './instance-runner-fakes.js';

const RESUMED = /adverts resumed after the self-fence had expired/;

/** A report of `sent` adverts 100 ms apart, no renewal. */
const rep = (sent: number): TrainReport => ({ sent, errno: 0, sinceLastMs: 100, maxGapMs: 100, renewedAgoMs: -1, renewErrno: 0 });

interface FakeTrain extends AdvertTrainPort {
  readonly plans: Array<AdvertRepeat & { priority: number; atMs: number }>;
  readonly reports: boolean[];
  /** What the next report (or the replaced train) says; default: the plan's ticks all sent, 100 ms gaps. */
  next: TrainReport | undefined;
  refuse: boolean;
}

function fakeTrain(calls: string[]): FakeTrain {
  const train: FakeTrain = {
    plans: [],
    reports: [],
    refuse: false,
    next: undefined,
    schedule(priority, plan) {
      if (train.refuse) return undefined;
      const last = train.plans[train.plans.length - 1];
      train.plans.push({ ...plan, priority, atMs: performance.now() });
      calls.push(`train ${priority} x${plan.count}`);
      return train.next ?? (last === undefined ? NO_TRAIN : rep(last.count));
    },
    report(stop) {
      train.reports.push(stop);
      if (stop) calls.push('train stopped');
      const last = train.plans[train.plans.length - 1];
      const r = train.next ?? (last === undefined ? NO_TRAIN : rep(last.count));
      train.next = undefined;
      return r;
    },
    close() { calls.push('train closed'); },
  };
  return train;
}

const ownAdverts = (calls: readonly string[]): number => calls.filter((c) => /^advert [1-9]/.test(c)).length;

t.test('100 ms adverts, 1 s lease: the runner sends every third advert, the train the two between', async (t) => {
  const calls: string[] = [];
  const train = fakeTrain(calls);
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { advertTrain: train });
  // The harness records into its own array; mirror the train's calls into it.
  const hc = h.calls;
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER'), 'MASTER');
  const sent0 = ownAdverts(hc);
  const t0 = performance.now();
  t.ok(await until(() => ownAdverts(hc) >= sent0 + 5, 5000), 'five more adverts of its own');
  const perOwnMs = (performance.now() - t0) / 5;
  t.ok(perOwnMs > 200, `the runner's own adverts come about every 300 ms (${perOwnMs.toFixed(0)} ms each)`);
  const steady = train.plans.slice(1);
  t.ok(steady.length >= 4, 'a train after each of its adverts');
  t.ok(steady.every((p) => p.count === 2 && p.everyMs === 100 && p.priority === 100 && p.firstDelayMs <= 100), 'two ticks, 100 ms apart, at its priority, from the next tick');
  t.ok(h.runner.status().advertsSent >= 3 * 5, `what the trains sent is counted (${h.runner.status().advertsSent})`);
  t.ok(h.events.filter((e) => e.type === 'advert-sent').length >= 3 * 5, 'and published, one event per advert');
  t.notOk(h.logs.some((l) => RESUMED.test(l.msg)), 'steady trains: no silence seen');
  void calls;
});

t.test('a lower priority stops the train and is advertised at once', async (t) => {
  const calls: string[] = [];
  const train = fakeTrain(calls);
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { advertTrain: train });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER' && train.plans.length >= 3), 'MASTER with a train');
  await new Promise((r) => setTimeout(r, 20)); // just after a wake-up: ~280 ms to the next one
  const before = h.calls.length;
  const trainCalls = calls.length;
  const at = performance.now();
  h.runner.applyHealth(90, []);
  t.ok(calls.slice(trainCalls).some((c) => c === 'train stopped' || c.startsWith('train 90')), 'the train at 100 is stopped or replaced at once');
  t.notOk(calls.slice(trainCalls).some((c) => c.startsWith('train 100')), 'and none at 100 follows');
  t.ok(await until(() => h.calls.slice(before).includes('advert 90'), 1000), 'an advert at 90');
  t.ok(performance.now() - at < 150, `within the interval, not at the next wake-up (${(performance.now() - at).toFixed(0)} ms)`);
  t.ok(await until(() => train.plans.some((p) => p.priority === 90)), 'then a train at 90');
});

t.test('shutdown: the train stops before the priority-0 advert', async (t) => {
  const calls: string[] = [];
  const train = fakeTrain(calls);
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { advertTrain: { ...train, schedule: (p, plan) => { const r = train.schedule(p, plan); h.calls.push(`train ${p}`); return r; }, report: (stop) => { const r = train.report(stop); if (stop) h.calls.push('train stopped'); return r; } } });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER' && train.plans.length >= 2), 'MASTER with a train');
  h.runner.input({ type: 'shutdown' });
  const stop = h.calls.lastIndexOf('train stopped');
  const zero = h.calls.lastIndexOf('advert 0');
  t.ok(stop >= 0 && zero > stop, `stopped (${stop}) before the priority-0 advert (${zero})`);
  const plans = train.plans.length;
  await new Promise((r) => setTimeout(r, 350));
  t.equal(train.plans.length, plans, 'no train after it');
});

t.test('a train that cannot run: the runner sends every advert itself', async (t) => {
  const calls: string[] = [];
  const train = fakeTrain(calls);
  train.refuse = true;
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { advertTrain: train });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER'), 'MASTER');
  const sent0 = ownAdverts(h.calls);
  const t0 = performance.now();
  t.ok(await until(() => ownAdverts(h.calls) >= sent0 + 6, 3000), 'six more adverts of its own');
  const per = (performance.now() - t0) / 6;
  t.ok(per < 150, `one per 100 ms interval (${per.toFixed(0)} ms each)`);
});

t.test("a train's long gap counts as a silence: logged and announced again", async (t) => {
  const calls: string[] = [];
  const train = fakeTrain(calls);
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { advertTrain: train });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER' && train.plans.length >= 3), 'MASTER with a train');
  const announced = h.calls.filter((c) => c === 'announce').length;
  train.next = { ...rep(1), sinceLastMs: 150, maxGapMs: 5000 }; // the process stood still inside the train
  t.ok(await until(() => h.logs.some((l) => RESUMED.test(l.msg))), 'the silence is logged');
  t.ok(await until(() => h.calls.filter((c) => c === 'announce').length > announced), 'and the VIPs announced again');
});

t.test('a failed send of the train is logged', async (t) => {
  const calls: string[] = [];
  const train = fakeTrain(calls);
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { advertTrain: train });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER' && train.plans.length >= 2), 'MASTER with a train');
  train.next = { ...rep(1), errno: 105 };
  t.ok(await until(() => h.logs.some((l) => /sending advert failed \(advert train\)/.test(l.msg))), 'warned');
});

/** The harness's VIP port plus a renewal datagram maker (and the port's link generation, when given). */
function renewingVips(calls: string[], linkGeneration?: () => number): Partial<Parameters<typeof harness>[2]> {
  return {
    vips: {
      addVip: async (_if, cidr) => { calls.push(`add ${cidr}`); },
      removeVip: async (_if, cidr) => { calls.push(`remove ${cidr}`); },
      renewalDatagram: async (_if, entries) => { calls.push(`datagram ${entries.length}`); return new Uint8Array(36); },
      ...(linkGeneration === undefined ? {} : { linkGeneration }),
    },
  };
}

/** A master whose train renews the lease: started, and its first train with a renewal scheduled. */
async function renewingMaster(t: Test, vipCalls: string[] = []): Promise<{ train: ReturnType<typeof fakeTrain>; h: Harness }> {
  const train = fakeTrain([]);
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { advertTrain: train, ...renewingVips(vipCalls) });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => train.plans.some((p) => p.renewal !== undefined), 3000), 'a train with the renewal');
  return { train, h };
}

t.test('a train that renews the lease: the runner wakes twice per lease, the train renews by the same rule', async (t) => {
  const vipCalls: string[] = [];
  const { train } = await renewingMaster(t, vipCalls);
  t.ok(vipCalls.includes('datagram 1'), 'made once the VIPs were in place');
  // The first one runs to the next half second from wherever the switch came; the next ones are half seconds.
  t.ok(await until(() => train.plans.filter((x) => x.renewal !== undefined).length >= 2, 3000), 'a second one');
  const p = train.plans.filter((x) => x.renewal !== undefined);
  const last = p[p.length - 1];
  t.equal(last?.count, 4, 'four ticks up to the next wake-up, half the 1 s lease after the last');
  t.ok(last !== undefined && Math.abs((last.renewal?.dueAfterMs ?? 0) - (1000 / 3 - 50)) < 1e-9, 'due a third of the 1 s lease less half an interval after the last');
  t.ok(last !== undefined && (last.renewal?.lastAgoMs ?? -1) >= 0 && (last.renewal?.lastAgoMs ?? Infinity) < 1000, 'counted from the last renewal');
  // Until now the fake train renewed nothing: the runner renewed at its wake-ups (due every 283 ms).
  t.ok(vipCalls.some((c) => c.startsWith('add ')), 'the runner renews while the train does not');
  const renewalsBefore = vipCalls.filter((c) => c.startsWith('add ')).length;
  // The train says it renewed 50 ms ago: the runner's own renewal is not due at its next advert.
  train.next = { ...rep(4), renewedAgoMs: 50 };
  const n = train.plans.length;
  t.ok(await until(() => train.plans.length >= n + 1, 3000), 'the next wake-up');
  t.equal(vipCalls.filter((c) => c.startsWith('add ')).length, renewalsBefore, 'no renewal of its own');
  const ago = train.plans[train.plans.length - 1]?.renewal?.lastAgoMs ?? -1;
  t.ok(ago >= 50 && ago < 150, `the next train counts from the train's renewal (${ago} ms ago)`);
});

t.test("a failed renewal of the train: logged, and the master steps down", async (t) => {
  const { train, h } = await renewingMaster(t);
  train.next = { ...rep(3), renewErrno: 1 };
  t.ok(await until(() => h.logs.some((l) => /refreshing the VIP lifetime failed/.test(l.msg))), 'logged');
  t.ok(await until(() => h.events.some((e) => e.type === 'transition' && e.from === 'MASTER')), 'left MASTER');
  t.match(h.runner.status().vipLeaseError, /errno 1\b/, 'kept for status');
  // The report came in while the periodic advert was being sent: that advert goes first, the
  // release (priority 0) after it, and nothing at full priority until this node takes over again
  // (alone in the harness, it does once its Master_Down_Timer runs out).
  const released = h.calls.indexOf('advert 0');
  t.ok(released > 0 && /^advert [1-9]/.test(h.calls[released - 1] ?? ''), `the periodic advert, then the release (${h.calls.join(', ')})`);
  const again = h.calls.findIndex((c, i) => i > released && c === 'hook before-master');
  const until2 = again === -1 ? h.calls.length : again;
  t.notOk(h.calls.slice(released, until2).some((c) => /^advert [1-9]/.test(c)), 'no advert at full priority after the release');
});

t.test('a link change: the renewal datagram is made again before a train renews with it', async (t) => {
  const vipCalls: string[] = [];
  let links = 1;
  const train = fakeTrain([]);
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { advertTrain: train, ...renewingVips(vipCalls, () => links) });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => train.plans.some((p) => p.renewal !== undefined), 3000), 'a train with the renewal');
  t.equal(vipCalls.filter((c) => c.startsWith('datagram')).length, 1, 'made once');
  links = 2;
  const n = train.plans.length;
  t.ok(await until(() => train.plans.length > n, 3000), 'the next wake-up');
  t.equal(train.plans[train.plans.length - 1]?.renewal, undefined, 'that train does not renew with the old datagram');
  t.equal(vipCalls.filter((c) => c.startsWith('datagram')).length, 2, 'made again');
  t.ok(await until(() => train.plans.length > n + 1 && train.plans[train.plans.length - 1]?.renewal !== undefined, 3000), 'the next train renews with the new one');
  t.equal(vipCalls.filter((c) => c.startsWith('datagram')).length, 2, 'not made again while nothing changes');
});

t.test('ENODEV from the train: the runner renews the lease itself at once, no step down', async (t) => {
  const vipCalls: string[] = [];
  const { train, h } = await renewingMaster(t, vipCalls);
  const adds = vipCalls.filter((c) => c.startsWith('add ')).length;
  train.next = { ...rep(3), renewErrno: 19 };
  t.ok(await until(() => vipCalls.filter((c) => c.startsWith('add ')).length > adds, 2000), 'renewed by the runner');
  t.ok(await until(() => vipCalls.filter((c) => c.startsWith('datagram')).length >= 2, 3000), 'the datagram made again');
  t.notOk(h.events.some((e) => e.type === 'transition' && e.from === 'MASTER'), 'still MASTER');
  t.notOk(h.logs.some((l) => /refreshing the VIP lifetime failed/.test(l.msg)), 'no failure');
});

t.test('a train stopped late in its run: the next advert of the runner is no silence', async (t) => {
  const { train, h } = await renewingMaster(t);
  const n = train.plans.length;
  t.ok(await until(() => train.plans.length > n, 3000), 'a fresh wake-up');
  const woke = train.plans[train.plans.length - 1]?.atMs ?? 0;
  await until(() => performance.now() - woke >= 700, 2000);
  // Its train has sent the ticks since (the fake reports them 100 ms apart, the last 100 ms ago).
  train.next = { ...rep(6), sinceLastMs: 60, maxGapMs: 100 };
  h.runner.applyHealth(90, []);
  t.ok(await until(() => h.calls.includes('advert 90'), 1000), 'the runner advertises the new priority');
  await new Promise((r) => setTimeout(r, 400));
  t.notOk(h.logs.some((l) => RESUMED.test(l.msg)), "the train's adverts count: no silence");
});
