/**
 * A MASTER's hello goes with its periodic advert: the real InstanceRunner (fake ports, real
 * timers, 100 ms adverts) and the real InstancePeers, wired as the agent wires them
 * (afterMasterAdvert -> masterAdvertSent), around a fake peer link that records when it is asked
 * to send. Checked: each periodic advert is followed by one hello request in the same event-loop
 * turn; the advert entering MASTER, the extra advert answering a lower-priority master and the
 * priority-0 advert of a shutdown are not; nothing reaches the link once the peers stopped; a
 * throwing hook is logged and changes nothing else.
 */
import { pino } from 'pino';
import t from 'tap';
import { FileEpochStore } from '../../../src/adapters/epoch-store.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { InstancePeers } from '../../../src/daemon/instance-peers.js';
import type { PeerLink } from '../../../src/daemon/peer-link.js';
import { harness, until } from './instance-runner-fakes.js';

t.test('a master asks the peer link for a hello right after each periodic advert, in the same turn, and only then', async (t) => {
  const seen: string[] = [];
  /** True from an advert being sent until the end of that event-loop turn. */
  let advertThisTurn = false;
  const wired: { peers?: InstancePeers } = {};
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), {
    sendAdvert: async (priority) => {
      seen.push(`advert ${priority}`);
      advertThisTurn = true;
      setImmediate(() => { advertThisTurn = false; });
    },
    afterMasterAdvert: () => wired.peers?.masterAdvertSent(),
  });
  const link = {
    add: async () => undefined,
    remove: () => undefined,
    masterAdvertSent: () => { seen.push(advertThisTurn ? 'hello' : 'hello in a later turn'); },
  } as unknown as PeerLink;
  const peers = new InstancePeers(h.runner.config, { log: pino({ level: 'silent' }), events: new EventBus(), clock: () => performance.now(), runner: h.runner, witness: undefined });
  wired.peers = peers;
  await peers.start(link, '192.0.2.1');
  t.teardown(() => peers.stop(link));

  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER'), 'took over');
  t.ok(await until(() => seen.filter((s) => s === 'advert 100').length >= 5), 'adverts went out');
  t.equal(seen[0], 'advert 100', 'the advert entering MASTER first');
  t.not(seen[1], 'hello', 'no hello with it (the agent sends one after the transition)');
  // Both are recorded in one synchronous run, so a poll never sees an advert without its hello.
  const periodic = seen.slice(1);
  const adverts = periodic.filter((s) => s.startsWith('advert')).length;
  t.ok(adverts >= 4, 'periodic adverts seen');
  t.same(periodic, Array.from({ length: adverts }, () => ['advert 100', 'hello']).flat(), 'each periodic advert, then its hello in the same turn');

  // A lower-priority master is answered at once with an advert: an extra one, no hello.
  const before = seen.length;
  h.runner.input({ type: 'advert', from: '192.0.2.200', priority: 50, maxAdvertIntervalCs: 10 });
  t.same(seen.slice(before), ['advert 100'], 'the extra advert answering a lower master brings no hello');

  // Stopped peers: the runner still calls the hook, the link is no longer asked.
  peers.stop(link);
  const stoppedAt = seen.length;
  t.ok(await until(() => seen.slice(stoppedAt).filter((s) => s === 'advert 100').length >= 2), 'still advertising');
  t.notOk(seen.slice(stoppedAt).some((s) => s.startsWith('hello')), 'no hello requested after stop');

  // Shutting down: the priority-0 advert brings no hello either.
  await peers.start(link, '192.0.2.1');
  const shutdownAt = seen.length;
  h.runner.input({ type: 'shutdown' });
  t.same(seen.slice(shutdownAt), ['advert 0'], 'the priority-0 advert of a shutdown: no hello');
});

t.test('a backup never asks the link for a master hello', async (t) => {
  const seen: string[] = [];
  const wired: { peers?: InstancePeers } = {};
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), {
    sendAdvert: async (priority) => { seen.push(`advert ${priority}`); },
    afterMasterAdvert: () => wired.peers?.masterAdvertSent(),
  });
  const link = { add: async () => undefined, remove: () => undefined, masterAdvertSent: () => { seen.push('hello'); } } as unknown as PeerLink;
  const peers = new InstancePeers(h.runner.config, { log: pino({ level: 'silent' }), events: new EventBus(), clock: () => performance.now(), runner: h.runner, witness: undefined });
  wired.peers = peers;
  await peers.start(link, '192.0.2.1');
  t.teardown(() => peers.stop(link));
  h.runner.input({ type: 'start' });
  // A higher-priority master keeps this node BACKUP.
  const master = setInterval(() => h.runner.input({ type: 'advert', from: '192.0.2.2', priority: 200, maxAdvertIntervalCs: 10 }), 50);
  t.teardown(() => clearInterval(master));
  await new Promise((r) => setTimeout(r, 600));
  t.equal(h.runner.vrrpState, 'BACKUP', 'stayed backup');
  t.same(seen, [], 'no advert, no hello request');
});

t.test('a throwing afterMasterAdvert is logged; the master keeps advertising and stays MASTER', async (t) => {
  let adverts = 0;
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), {
    sendAdvert: async () => { adverts += 1; },
    afterMasterAdvert: () => { throw new Error('hello exploded'); },
  });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER'), 'took over');
  const at = adverts;
  t.ok(await until(() => adverts >= at + 3), 'periodic adverts go on');
  t.equal(h.runner.vrrpState, 'MASTER', 'no fault');
  t.ok(h.logs.some((l) => l.level >= 50 && /after a periodic advert/.test(l.msg)), 'logged at error');
});
