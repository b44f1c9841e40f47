/**
 * VIP lease renewals as one batched request through the real kernel: 50 addresses with a
 * lifetime renewed by a single RTM_NEWADDR datagram (counted on the sockets the adapter sends
 * requests on, in the driver; the interface's index lookup is a request of its own), their
 * lifetimes read back with `ip -j addr`; more than one chunk's worth split; an entry the kernel
 * refuses fails alone; an interface that is gone fails every entry.
 */
import t from 'tap';
import { addrs, Driver, ip, makeNamespace, skipReason } from './fixtures/helpers.js';

interface Outcome { name?: string; code?: string; errnoCode?: string; message?: string }

const reason = await skipReason();
if (reason) {
  t.plan(0, reason);
} else {
  const ns = await makeNamespace(t, 'renew');
  const d = await Driver.start(t, ns);
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const vips = Array.from({ length: 50 }, (_, i) => `10.30.0.${i + 1}/32`);
  const entries = (cidrs: string[], validLftSec: number): unknown[] => cidrs.map((cidr) => ({ cidr, opts: { validLftSec, preferredLftSec: validLftSec } }));
  const lifetimes = async (dev: string, cidrs: string[]): Promise<number[]> => {
    const have = new Map((await addrs(ns, dev)).map((a) => [`${a.local}/${a.prefixlen}`, a.valid_life_time ?? -1]));
    return cidrs.map((c) => have.get(c) ?? -1);
  };

  t.test('50 VIPs renewed by one datagram: every lifetime rises again', async (t) => {
    t.ok(await d.call('nativeRoute'), "renewals take the addon's synchronous route socket");
    const before = await d.call<number>('sends');
    t.same(await d.call('renewVips', 'va', entries(vips, 60)), vips.map(() => null), 'all added');
    t.equal(await d.call<number>('sends') - before, 1, 'one datagram for 50 messages');
    await sleep(3500);
    const aged = await lifetimes('va', vips);
    t.ok(aged.every((v) => v > 0 && v <= 57), `lifetimes ran down: ${Math.min(...aged)}..${Math.max(...aged)}`);
    const mid = await d.call<number>('sends');
    t.same(await d.call('renewVips', 'va', entries(vips, 60)), vips.map(() => null), 'all renewed');
    t.equal(await d.call<number>('sends') - mid, 1, 'one datagram again');
    const renewed = await lifetimes('va', vips);
    // Read back within a second or two of the renewal even on a loaded machine.
    t.ok(renewed.every((v, i) => v >= 58 && v <= 60 && v > (aged[i] ?? 60)), `lifetimes back up: ${Math.min(...renewed)}..${Math.max(...renewed)}`);
    t.equal((await addrs(ns, 'va')).filter((a) => a.local?.startsWith('10.30.0.')).length, 50, 'no duplicates');
  });

  t.test('more than a chunk: split, every entry answered', async (t) => {
    const many = Array.from({ length: 100 }, (_, i) => `10.31.${Math.floor(i / 200)}.${(i % 200) + 1}/32`);
    const before = await d.call<number>('sends');
    t.same(await d.call('renewVips', 'va', entries(many, 3000)), many.map(() => null));
    t.equal(await d.call<number>('sends') - before, 2, '100 messages in two datagrams (64 + 36)');
    t.ok((await lifetimes('va', many)).every((v) => v >= 2990 && v <= 3000));
  });

  t.test('an entry the kernel refuses fails alone; the others are renewed', async (t) => {
    // IPv6 disabled on vb: the kernel refuses an IPv6 address there, IPv4 ones are fine.
    await ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.vb.disable_ipv6=1');
    const cidrs = ['10.32.0.1/32', 'fd00:32::1/64', '10.32.0.2/32'];
    const out = await d.call<(Outcome | null)[]>('renewVips', 'vb', entries(cidrs, 4000));
    t.equal(out[0], null);
    t.equal(out[2], null);
    t.equal(out[1]?.code, 'HA_ERR_NETLINK', `the IPv6 entry fails: ${out[1]?.message}`);
    t.ok(out[1]?.errnoCode?.startsWith('E'), 'with the kernel errno');
    t.match(out[1]?.message, /fd00:32::1\/64 on vb/, 'naming its own address');
    const l = await lifetimes('vb', ['10.32.0.1/32', '10.32.0.2/32']);
    t.ok(l.every((v) => v >= 3990 && v <= 4000), `the others in place: ${l.join(', ')}`);
  });

  t.test('an interface that is gone fails every entry, and nothing else', async (t) => {
    await ip('-n', ns, 'link', 'add', 'vgone', 'type', 'veth', 'peer', 'name', 'vgone-p');
    await ip('-n', ns, 'link', 'set', 'vgone', 'up');
    t.same(await d.call('renewVips', 'vgone', entries(['10.33.0.1/32'], 20)), [null]);
    await ip('-n', ns, 'link', 'del', 'vgone');
    const out = await d.call<(Outcome | null)[]>('renewVips', 'vgone', entries(['10.33.0.1/32', '10.33.0.2/32'], 20));
    t.equal(out.length, 2);
    for (const o of out) t.equal(o?.errnoCode, 'ENODEV');
    t.same(await d.call('renewVips', 'va', entries(['10.30.0.1/32'], 60)), [null], 'the socket still serves the next batch');
  });
}
