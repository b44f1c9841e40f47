/**
 * VIP management through the real kernel: the adapter runs in a child process inside a
 * fresh namespace (see helpers.ts); the result is checked with `ip -n NS -j addr show`.
 */
import t from 'tap';
import type { AddressInfo } from '../../../src/adapters/netlink/index.js';
import { addrs, Driver, DriverCallError, findAddr, ip, makeNamespace, pollUntil, skipReason } from './fixtures/helpers.js';

const reason = await skipReason();
if (reason) {
  t.plan(0, reason);
} else {
  const ns = await makeNamespace(t, 'addr');
  const d = await Driver.start(t, ns);

  t.test('addVip adds the address; adding it again is fine', async (t) => {
    await d.call('addVip', 'va', '10.10.0.100/24');
    const a = await findAddr(ns, 'va', '10.10.0.100', 24);
    t.ok(a, 'VIP visible in ip -j addr show');
    t.equal(a?.valid_life_time, 0xffffffff, 'no lifetime given = forever');
    await d.call('addVip', 'va', '10.10.0.100/24');
    t.equal((await addrs(ns, 'va')).filter((x) => x.local === '10.10.0.100').length, 1, 'still exactly one');
    t.equal(await d.call('hasVip', 'va', '10.10.0.100/24'), true);
    t.equal(await d.call('hasVip', 'va', '10.10.0.100/25'), false, 'hasVip compares the prefix length too');
  });

  t.test('removeVip removes it; removing an absent VIP is fine', async (t) => {
    await d.call('addVip', 'va', '10.10.1.5/32');
    t.ok(await findAddr(ns, 'va', '10.10.1.5', 32));
    await d.call('removeVip', 'va', '10.10.1.5/32');
    t.notOk(await findAddr(ns, 'va', '10.10.1.5', 32), 'gone');
    await d.call('removeVip', 'va', '10.10.1.5/32');
    await d.call('removeVip', 'va', '192.0.2.77/32');
    await d.call('removeVip', 'no-such-if', '192.0.2.77/32');
    t.equal(await d.call('hasVip', 'va', '10.10.1.5/32'), false);
  });

  t.test('label is set on IPv4 VIPs and must start with the interface name', async (t) => {
    await d.call('addVip', 'va', '10.10.2.1/32', { label: 'va:vip1' });
    t.equal((await findAddr(ns, 'va', '10.10.2.1', 32))?.label, 'va:vip1');
    const listed = (await d.call<AddressInfo[]>('listAddresses', 'va')).find((a) => a.address === '10.10.2.1');
    t.equal(listed?.label, 'va:vip1', 'listAddresses reports the label');
    const err = await d.call('addVip', 'va', '10.10.2.2/32', { label: 'eth9:x' }).catch((e: unknown) => e);
    t.type(err, DriverCallError);
    t.equal((err as DriverCallError).remote.code, 'HA_ERR_INVALID_ARGUMENT');
    t.notOk(await findAddr(ns, 'va', '10.10.2.2', 32), 'nothing added on a rejected label');
  });

  t.test('lifetime is set and refreshed by re-adding', async (t) => {
    await d.call('addVip', 'va', '10.10.3.1/32', { validLftSec: 100 });
    const first = await findAddr(ns, 'va', '10.10.3.1', 32);
    t.ok(first?.valid_life_time !== undefined && first.valid_life_time <= 100 && first.valid_life_time > 50, `valid_lft ${first?.valid_life_time} ~ 100`);
    t.equal(first?.preferred_life_time, first?.valid_life_time, 'preferred defaults to valid');
    await d.call('addVip', 'va', '10.10.3.1/32', { validLftSec: 300, preferredLftSec: 200 });
    const second = await findAddr(ns, 'va', '10.10.3.1', 32);
    t.ok(second?.valid_life_time !== undefined && second.valid_life_time > 100 && second.valid_life_time <= 300,
      `re-add replaced the lifetime: valid_lft ${second?.valid_life_time}`);
    t.ok(second?.preferred_life_time !== undefined && second.preferred_life_time > 100 && second.preferred_life_time <= 200,
      `preferred_lft ${second?.preferred_life_time}`);
    const listed = (await d.call<AddressInfo[]>('listAddresses', 'va')).find((a) => a.address === '10.10.3.1');
    t.ok(listed?.validLftSec !== undefined && listed.validLftSec > 100, 'listAddresses reports validLftSec');
    await d.call('addVip', 'va', '10.10.3.1/32');
    t.equal((await findAddr(ns, 'va', '10.10.3.1', 32))?.valid_life_time, 0xffffffff, 're-add without a lifetime = forever again');
    t.equal((await addrs(ns, 'va')).filter((x) => x.local === '10.10.3.1').length, 1, 'refreshing never duplicates');
  });

  t.test('a VIP with a 2 s lifetime is removed by the kernel itself', async (t) => {
    await d.call('addVip', 'va', '10.10.4.1/32', { validLftSec: 2 });
    t.ok(await findAddr(ns, 'va', '10.10.4.1', 32), 'present right after adding');
    // Bounded poll: the kernel's address-lifetime worker rounds to whole seconds.
    const gone = await pollUntil(async () => !(await findAddr(ns, 'va', '10.10.4.1', 32)), 20_000, 250);
    t.ok(gone, 'expired without anyone removing it');
  });

  t.test('invalid arguments are rejected before anything reaches the kernel', async (t) => {
    for (const [cidr, opts] of [['10.10.5.1/33', {}], ['not-an-ip', {}], ['10.10.5.1/32', { validLftSec: 0 }],
      ['10.10.5.1/32', { validLftSec: 5, preferredLftSec: 10 }], ['fd00::1/64', { label: 'va:x' }]] as const) {
      const err = await d.call('addVip', 'va', cidr, opts).catch((e: unknown) => e);
      t.equal((err as DriverCallError).remote?.code, 'HA_ERR_INVALID_ARGUMENT', `${cidr} ${JSON.stringify(opts)}`);
    }
  });

  t.test('errors name the interface and address and keep the errno', async (t) => {
    const err = await d.call('addVip', 'nosuch0', '10.10.6.1/32').catch((e: unknown) => e);
    t.type(err, DriverCallError);
    const remote = (err as DriverCallError).remote;
    t.equal(remote.code, 'HA_ERR_NETLINK');
    t.equal(remote.errnoCode, 'ENODEV');
    t.equal(remote.errno, 19);
    t.match(remote.message, /nosuch0/);
  });

  t.test('primaryIpv4 is the first non-secondary IPv4 address', async (t) => {
    await ip('-n', ns, 'link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'pb');
    await ip('-n', ns, 'link', 'set', 'pa', 'up');
    t.equal(await d.call('primaryIpv4', 'pa'), null, 'none yet');
    await ip('-n', ns, 'addr', 'add', '172.16.9.1/24', 'dev', 'pa');
    await d.call('addVip', 'pa', '172.16.9.100/24'); // secondary in the same subnet
    await ip('-n', ns, 'addr', 'add', '172.16.10.1/24', 'dev', 'pa');
    t.equal(await d.call('primaryIpv4', 'pa'), '172.16.9.1');
  });

  t.test('removing a VIP never touches a foreign address on the same interface', async (t) => {
    await ip('-n', ns, 'link', 'add', 'fa', 'type', 'veth', 'peer', 'name', 'fb');
    await ip('-n', ns, 'link', 'set', 'fa', 'up');
    // foreign primary, VIP secondary in the same subnet
    await ip('-n', ns, 'addr', 'add', '10.20.0.1/24', 'dev', 'fa');
    await d.call('addVip', 'fa', '10.20.0.100/24');
    // same address as the VIP with another prefix: a different address to the kernel
    await ip('-n', ns, 'addr', 'add', '10.30.0.100/16', 'dev', 'fa');
    await d.call('addVip', 'fa', '10.30.0.100/32');
    await d.call('removeVip', 'fa', '10.20.0.100/24');
    await d.call('removeVip', 'fa', '10.30.0.100/32');
    t.ok(await findAddr(ns, 'fa', '10.20.0.1', 24), 'foreign primary kept');
    t.ok(await findAddr(ns, 'fa', '10.30.0.100', 16), 'same address, other prefix kept');
    t.notOk(await findAddr(ns, 'fa', '10.20.0.100', 24), 'VIP removed');
    t.notOk(await findAddr(ns, 'fa', '10.30.0.100', 32), 'VIP /32 removed');
    t.equal(await d.call('removeVip', 'fa', '10.30.0.100/24'), null, 'a prefix that is not there: no-op');
    t.ok(await findAddr(ns, 'fa', '10.30.0.100', 16), 'and the /16 is still there');
  });

  t.test('removing a VIP that is the primary of its subnet keeps the foreign secondaries', async (t) => {
    await ip('-n', ns, 'link', 'add', 'ca', 'type', 'veth', 'peer', 'name', 'cb');
    await ip('-n', ns, 'link', 'set', 'ca', 'up');
    await d.call('addVip', 'ca', '10.40.0.100/24'); // becomes the primary
    await ip('-n', ns, 'addr', 'add', '10.40.0.7/24', 'dev', 'ca'); // foreign, secondary
    t.equal((await findAddr(ns, 'ca', '10.40.0.7', 24))?.secondary, true, 'precondition: foreign address is secondary');
    await d.call('removeVip', 'ca', '10.40.0.100/24');
    t.notOk(await findAddr(ns, 'ca', '10.40.0.100', 24), 'VIP removed');
    t.ok(await findAddr(ns, 'ca', '10.40.0.7', 24), 'foreign secondary promoted, not deleted');
  });

  t.test('IPv6 VIPs: added without DAD, listed, removed; link-local lookup', async (t) => {
    await d.call('addVip', 'va', 'fd00:10::100/64');
    const a = (await addrs(ns, 'va')).find((x) => x.family === 'inet6' && x.local === 'fd00:10::100');
    t.ok(a, 'present');
    t.equal(await d.call('hasVip', 'va', 'fd00:10:0:0::0100/64'), true, 'matched in canonical form');
    await d.call('addVip', 'va', 'fd00:10::100/64', { validLftSec: 50 });
    const refreshed = (await addrs(ns, 'va')).find((x) => x.local === 'fd00:10::100');
    t.ok(refreshed?.valid_life_time !== undefined && refreshed.valid_life_time <= 50, 'IPv6 lifetime replaced');
    await d.call('removeVip', 'va', 'fd00:10::100/64');
    await d.call('removeVip', 'va', 'fd00:10::100/64');
    t.notOk((await addrs(ns, 'va')).find((x) => x.local === 'fd00:10::100'), 'removed');
    const ll = await pollUntil(async () => (await d.call('linkLocalIpv6', 'va')) !== null, 10_000);
    t.ok(ll, 'va has a link-local address');
    const expected = (await addrs(ns, 'va')).find((x) => x.family === 'inet6' && x.local.startsWith('fe80:'))?.local;
    t.equal(await d.call('linkLocalIpv6', 'va'), expected);
  });
}
