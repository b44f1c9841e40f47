/**
 * VipRenewals (the agent's lease renewal batcher) on a recording port, and VipLease on top of
 * it: what is handed in during one event-loop turn goes out as one request per interface, each caller gets
 * its own entries' outcomes, a flush never overlaps the previous one of its interface, close drops
 * what waits; an instance whose VIP failed fails alone.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import type { AddVipOptionsExt } from '../../../src/adapters/netlink/index.js';
import { VipRenewals, type RenewPort } from '../../../src/daemon/vip-renewals.js';
import { VipLease } from '../../../src/daemon/vip-lease.js';
import { instance, until } from './instance-runner-fakes.js';

interface Call { ifname: string; cidrs: string[]; opts: (AddVipOptionsExt | undefined)[] }

/** A port that records each renewVips call; `fail` names CIDRs the kernel refuses; `hold` delays answers. */
function recordingPort(fail: ReadonlySet<string> = new Set()): RenewPort & { calls: Call[]; hold: () => () => void } {
  const calls: Call[] = [];
  let gate: Promise<void> | undefined;
  return {
    calls,
    renewVips: async (ifname, entries) => {
      calls.push({ ifname, cidrs: entries.map((e) => e.cidr), opts: entries.map((e) => e.opts) });
      if (gate !== undefined) await gate;
      return entries.map((e) => (fail.has(e.cidr) ? new Error(`add VIP ${e.cidr} on ${ifname}: ENODEV`) : undefined));
    },
    hold: () => {
      let release = (): void => undefined;
      gate = new Promise((r) => { release = r; });
      return () => { gate = undefined; release(); };
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('what is handed in during one turn goes out at its end as one request per interface', async (t) => {
  const port = recordingPort(new Set(['192.0.2.12/24']));
  const r = new VipRenewals(port);
  const opts = { validLftSec: 3, preferredLftSec: 3 };
  const a = r.renew('eth0', [{ cidr: '192.0.2.10/24', opts }, { cidr: '192.0.2.11/24', opts }], {});
  const b = r.renew('eth1', [{ cidr: '198.51.100.1/24', opts }], {});
  const c = r.renew('eth0', [{ cidr: '192.0.2.12/24', opts }], {});
  const d = r.renew('eth0', [{ cidr: '192.0.2.13/24' }], {});
  t.equal(port.calls.length, 0, 'nothing sent before the turn ends');
  await new Promise((r) => setImmediate(r));
  t.equal(port.calls.length, 2, 'sent at the end of the turn, no timer later');
  const [oa, ob, oc, od] = await Promise.all([a, b, c, d]);
  t.same(port.calls.map((c) => [c.ifname, c.cidrs]).sort(), [
    ['eth0', ['192.0.2.10/24', '192.0.2.11/24', '192.0.2.12/24', '192.0.2.13/24']],
    ['eth1', ['198.51.100.1/24']],
  ]);
  t.same(port.calls.find((c) => c.ifname === 'eth0')?.opts, [opts, opts, opts, undefined], 'each entry keeps its options');
  t.same(oa, [undefined, undefined]);
  t.same(ob, [undefined]);
  t.equal(oc?.length, 1);
  t.match(oc?.[0]?.message, /192\.0\.2\.12.*ENODEV/, 'the failed entry reaches the caller that handed it in');
  t.same(od, [undefined], 'and only that caller');
  const e = await r.renew('eth0', [{ cidr: '192.0.2.10/24' }], {});
  t.same(e, [undefined]);
  t.equal(port.calls.length, 3, 'a later renewal is a new request');
  r.close();
});

t.test('a flush never overlaps the previous one of its interface', async (t) => {
  const port = recordingPort();
  const r = new VipRenewals(port);
  const release = port.hold();
  const first = r.renew('eth0', [{ cidr: '192.0.2.10/24' }], {});
  t.ok(await until(() => port.calls.length === 1));
  const second = r.renew('eth0', [{ cidr: '192.0.2.11/24' }], {});
  const third = r.renew('eth0', [{ cidr: '192.0.2.12/24' }], {});
  await sleep(40);
  t.equal(port.calls.length, 1, 'held while the first is in flight');
  release();
  t.same(await first, [undefined]);
  t.same(await Promise.all([second, third]), [[undefined], [undefined]]);
  t.same(port.calls.map((c) => c.cidrs), [['192.0.2.10/24'], ['192.0.2.11/24', '192.0.2.12/24']], 'then together');
  r.close();
});

t.test('withdraw takes back what its owner handed in and is not sent yet', async (t) => {
  const port = recordingPort();
  const r = new VipRenewals(port);
  const leaving = {};
  const staying = {};
  const gone = r.renew('eth0', [{ cidr: '192.0.2.10/24' }], leaving);
  const kept = r.renew('eth0', [{ cidr: '192.0.2.11/24' }], staying);
  r.withdraw(leaving);
  t.equal(await gone, undefined, 'withdrawn: not sent');
  t.same(await kept, [undefined]);
  t.same(port.calls.map((c) => c.cidrs), [['192.0.2.11/24']], 'only the other owner\'s VIP went out');
  const release = port.hold();
  const sent = r.renew('eth0', [{ cidr: '192.0.2.10/24' }], leaving);
  t.ok(await until(() => port.calls.length === 2));
  r.withdraw(leaving);
  release();
  t.same(await sent, [undefined], 'what was already sent is not taken back');
  r.close();
});

t.test('a port that rejects fails every entry of the flush; close drops what waits', async (t) => {
  const r = new VipRenewals({ renewVips: async () => { throw new Error('socket closed'); } });
  const out = await r.renew('eth0', [{ cidr: '192.0.2.10/24' }, { cidr: '192.0.2.11/24' }], {});
  t.equal(out?.length, 2);
  for (const e of out ?? []) t.match(e?.message, /socket closed/);

  const port = recordingPort();
  const r2 = new VipRenewals(port);
  const waiting = r2.renew('eth0', [{ cidr: '192.0.2.10/24' }], {});
  r2.close();
  r2.close();
  t.equal(await waiting, undefined, 'dropped, not sent');
  t.equal(await r2.renew('eth0', [{ cidr: '192.0.2.10/24' }], {}), undefined);
  await sleep(30);
  t.equal(port.calls.length, 0);
});

t.test('VipLease on a shared batcher: one request for two instances, a failure is its instance\'s alone', async (t) => {
  const port = recordingPort(new Set(['192.0.2.20/24']));
  const renewals = new VipRenewals(port);
  t.teardown(() => renewals.close());
  const logs: string[] = [];
  const log = pino({ level: 'error' }, new Writable({ write(chunk: Buffer, _e, cb) { logs.push(chunk.toString()); cb(); } }));
  const failed: string[] = [];
  const addVip = async (): Promise<void> => { throw new Error('addVip must not be used with a batcher'); };
  let now = 0;
  const lease = (name: string, vips: string[]): VipLease => {
    const cfg = instance(vips);
    const l = new VipLease({
      clock: () => now, log, config: () => cfg, renewals,
      vips: { addVip, removeVip: async () => undefined },
      onRenewFailed: () => failed.push(name),
    });
    l.inPlace = true;
    return l;
  };
  const good = lease('good', ['192.0.2.10/24', '192.0.2.11/24']);
  const bad = lease('bad', ['192.0.2.20/24']);
  good.renew();
  bad.renew();
  await new Promise((r) => setImmediate(r));
  t.equal(port.calls.length, 0, 'the adds just now count as renewals');
  now += 1000;
  good.renew();
  bad.renew();
  good.renew(); // in flight: not handed in twice
  t.ok(await until(() => failed.length > 0 || port.calls.length > 0));
  t.ok(await until(() => failed.length > 0));
  t.equal(port.calls.length, 1, 'one request');
  t.same(port.calls[0]?.cidrs, ['192.0.2.10/24', '192.0.2.11/24', '192.0.2.20/24']);
  t.same(port.calls[0]?.opts[0], { validLftSec: 1, preferredLftSec: 1 }, 'with the lease as both lifetimes');
  await sleep(10);
  t.same(failed, ['bad'], 'only the instance whose VIP failed');
  t.match(bad.error, /192\.0\.2\.20.*ENODEV/);
  t.equal(good.error, undefined);
  t.match(logs.join(''), /refreshing the VIP lifetime failed/);
  good.renew();
  await sleep(40);
  t.equal(port.calls.length, 1, 'not due again before the renew interval');
  now += 1000;
  good.renew();
  good.inPlace = false; // the VIPs are being removed: the waiting renewal must not re-add them
  await sleep(60);
  t.equal(port.calls.length, 1, 'withdrawn before it was sent');
  t.equal(good.error, undefined, 'and not an error');
  good.inPlace = true;
  now += 1000;
  good.renew();
  t.ok(await until(() => port.calls.length === 2), 'the next renewal goes out again');
});

t.test('VipLease hands the batcher the same entries for one config, new ones after a reload', async (t) => {
  const handed: (readonly { cidr: string }[])[] = [];
  const renewals = {
    submit: (_ifname: string, entries: readonly { cidr: string }[], _owner: object, done: (o: undefined[]) => void): void => {
      handed.push(entries);
      done(entries.map(() => undefined));
    },
    withdraw: (): void => undefined,
  };
  let now = 0;
  let cfg = instance(['192.0.2.10/24']);
  const lease = new VipLease({
    clock: () => now, log: pino({ level: 'silent' }), config: () => cfg, renewals,
    vips: { addVip: async () => undefined, removeVip: async () => undefined },
    onRenewFailed: () => t.fail('no renewal fails here'),
  });
  lease.inPlace = true;
  now += 1000;
  lease.renew();
  now += 1000;
  lease.renew();
  t.equal(handed.length, 2, 'renewed twice (each done at once)');
  t.equal(handed[1], handed[0], 'the same entries object: nothing rebuilt per renewal');
  cfg = instance(['192.0.2.10/24', '192.0.2.11/24']); // a reload
  now += 1000;
  lease.renew();
  t.same(handed[2]?.map((e) => e.cidr), ['192.0.2.10/24', '192.0.2.11/24'], 'the reloaded VIP list');
  t.not(handed[2], handed[0]);
});

t.test('vip-lease-wait waits the same with the batcher: a renewal leaves in its advert\'s turn', async (t) => {
  const base = instance(['192.0.2.10/24']);
  const cfg = { ...base, vipLeaseWait: true };
  const backup = { state: 'BACKUP', master: { address: '192.0.2.2', priority: 200, lastSeenMs: 500 } } as const;
  const log = pino({ level: 'silent' });
  const deps = { clock: () => 0, log, config: () => cfg, vips: { addVip: async () => undefined, removeVip: async () => undefined }, onRenewFailed: () => undefined };
  const alone = new VipLease(deps);
  const batched = new VipLease({ ...deps, renewals: new VipRenewals(recordingPort()) });
  const s = backup as unknown as Parameters<VipLease['waitBeforeAddMs']>[0];
  const plain = alone.waitBeforeAddMs(s, 600);
  t.ok(plain > 0, `a lease to wait for: ${plain} ms`);
  t.equal(batched.waitBeforeAddMs(s, 600), plain);
  t.equal(batched.waitBeforeAddMs(s, 60_000), 0, 'nothing left: still nothing');
});
