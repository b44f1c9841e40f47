/**
 * The rtnetlink watcher in a namespace: events caused by someone else's `ip` commands.
 * Waits are bounded event waits, never fixed sleeps.
 */
import t from 'tap';
import { addrs, Driver, ip, makeNamespace, skipReason } from './fixtures/helpers.js';

const reason = await skipReason();
if (reason) {
  t.plan(0, reason);
} else {
  const ns = await makeNamespace(t, 'watch');
  const d = await Driver.start(t, ns);
  t.equal(await d.call('watch'), true, 'subscribed');

  t.test('link down and up are reported (admin state, and carrier of the peer)', async (t) => {
    d.clearEvents();
    await ip('-n', ns, 'link', 'set', 'dev', 'va', 'down');
    const down = await d.waitForEvent((e) => e.type === 'link' && e.ifname === 'va' && e.up === false);
    t.match(down, { type: 'link', ifname: 'va', up: false, running: false, removed: false });
    t.type(down.ifindex, 'number');
    // va down drops vb's carrier: a veth pair is a cable
    await d.waitForEvent((e) => e.type === 'link' && e.ifname === 'vb' && e.up === true && e.running === false);
    await ip('-n', ns, 'link', 'set', 'dev', 'va', 'up');
    const up = await d.waitForEvent((e) => e.type === 'link' && e.ifname === 'va' && e.up === true && e.running === true);
    t.match(up, { type: 'link', ifname: 'va', up: true, running: true });
  });

  t.test('address added and removed by someone else', async (t) => {
    d.clearEvents();
    await ip('-n', ns, 'addr', 'add', '10.50.0.9/24', 'dev', 'va');
    const added = await d.waitForEvent((e) => e.type === 'address-added' && e.address === '10.50.0.9');
    t.match(added, { type: 'address-added', ifname: 'va', address: '10.50.0.9', prefixLength: 24, family: 4 });
    await ip('-n', ns, 'addr', 'del', '10.50.0.9/24', 'dev', 'va');
    const removed = await d.waitForEvent((e) => e.type === 'address-removed' && e.address === '10.50.0.9');
    t.match(removed, { type: 'address-removed', ifname: 'va', address: '10.50.0.9', prefixLength: 24, family: 4 });
  });

  t.test('a VIP of ours removed with ip addr del is reported; refreshes are not re-announced', async (t) => {
    d.clearEvents();
    await d.call('addVip', 'va', '10.50.1.1/32', { validLftSec: 60 });
    await d.waitForEvent((e) => e.type === 'address-added' && e.address === '10.50.1.1');
    await d.call('addVip', 'va', '10.50.1.1/32', { validLftSec: 60 }); // refresh
    await d.call('addVip', 'va', 'fd00:50::1/64');
    await d.waitForEvent((e) => e.type === 'address-added' && e.address === 'fd00:50::1' && e.family === 6);
    t.equal(d.events.filter((e) => e.type === 'address-added' && e.address === '10.50.1.1').length, 1,
      'one address-added although the VIP was added twice (the IPv6 event came later, so the refresh was already seen)');
    await ip('-n', ns, 'addr', 'del', '10.50.1.1/32', 'dev', 'va');
    const removed = await d.waitForEvent((e) => e.type === 'address-removed' && e.address === '10.50.1.1');
    t.match(removed, { ifname: 'va', prefixLength: 32, family: 4 });
    await ip('-n', ns, 'addr', 'del', 'fd00:50::1/64', 'dev', 'va');
    t.match(await d.waitForEvent((e) => e.type === 'address-removed' && e.address === 'fd00:50::1'), { family: 6, prefixLength: 64 });
  });

  t.test('opened with addressAdded false: RTM_NEWADDR is dropped in the kernel, removals still come', async (t) => {
    const ns2 = await makeNamespace(t, 'watchf');
    const d2 = await Driver.start(t, ns2);
    t.equal(await d2.call('watch', { addressAdded: false }), true, 'subscribed, with the kernel filter attached');
    await d2.call('addVip', 'va', '10.50.2.1/32', { validLftSec: 60 });
    for (let i = 0; i < 5; i++) t.same(await d2.call('renewVips', 'va', [{ cidr: '10.50.2.1/32', opts: { validLftSec: 60 } }]), [null]);
    await ip('-n', ns2, 'addr', 'add', '10.50.2.9/24', 'dev', 'va');
    await ip('-n', ns2, 'link', 'set', 'dev', 'va', 'down');
    await d2.waitForEvent((e) => e.type === 'link' && e.ifname === 'va' && e.up === false);
    await ip('-n', ns2, 'link', 'set', 'dev', 'va', 'up');
    await ip('-n', ns2, 'addr', 'del', '10.50.2.1/32', 'dev', 'va');
    const removed = await d2.waitForEvent((e) => e.type === 'address-removed' && e.address === '10.50.2.1');
    t.match(removed, { ifname: 'va', prefixLength: 32, family: 4 });
    t.equal(d2.events.filter((e) => e.type === 'address-added').length, 0, 'no address-added, ours or someone else\'s');
    t.equal(await d2.call('newAddrRead'), 0, 'not one RTM_NEWADDR reached the socket (7 were made before the removal)');
    // The same kind of traffic on the unfiltered watcher does reach its socket.
    const before = await d.call('newAddrRead') as number;
    await d.call('addVip', 'va', '10.50.2.2/32', { validLftSec: 60 });
    await d.call('renewVips', 'va', [{ cidr: '10.50.2.2/32', opts: { validLftSec: 60 } }]);
    await ip('-n', ns, 'addr', 'del', '10.50.2.2/32', 'dev', 'va');
    await d.waitForEvent((e) => e.type === 'address-removed' && e.address === '10.50.2.2');
    t.ok((await d.call('newAddrRead') as number) >= before + 2, 'the unfiltered watcher read the add and the renewal');
  });

  t.test('a link created after the watcher started is named in its events', async (t) => {
    d.clearEvents();
    await ip('-n', ns, 'link', 'add', 'na', 'type', 'veth', 'peer', 'name', 'nb');
    await ip('-n', ns, 'link', 'set', 'na', 'up');
    await ip('-n', ns, 'addr', 'add', '10.60.0.1/24', 'dev', 'na');
    t.match(await d.waitForEvent((e) => e.type === 'address-added' && e.address === '10.60.0.1'), { ifname: 'na' });
    await ip('-n', ns, 'link', 'del', 'na');
    t.match(await d.waitForEvent((e) => e.type === 'link' && e.ifname === 'na' && e.removed === true), { up: false, running: false });
  });

  t.test('while watching, addVip follows a re-created and a renamed interface (remembered indexes are dropped)', async (t) => {
    const onDev = async (dev: string, address: string): Promise<boolean> => (await addrs(ns, dev)).some((a) => a.local === address);
    await ip('-n', ns, 'link', 'add', 'ra', 'type', 'veth', 'peer', 'name', 'rb');
    await ip('-n', ns, 'link', 'set', 'ra', 'up');
    await d.call('addVip', 'ra', '10.70.0.1/32', { validLftSec: 60 });
    await d.call('addVip', 'ra', '10.70.0.1/32', { validLftSec: 60 }); // a renewal, from memory
    t.ok(await onDev('ra', '10.70.0.1'));
    // Deleted and re-created under the same name: a new index. No wait for the watcher here:
    // whichever comes first (its link event, or the kernel's ENODEV for the old index), the
    // address must land on the new interface.
    await ip('-n', ns, 'link', 'del', 'ra');
    await ip('-n', ns, 'link', 'add', 'ra', 'type', 'veth', 'peer', 'name', 'rb');
    await ip('-n', ns, 'link', 'set', 'ra', 'up');
    await d.call('addVip', 'ra', '10.70.0.2/32', { validLftSec: 60 });
    t.ok(await onDev('ra', '10.70.0.2'), 'on the re-created ra');
    // Renamed away, and another interface renamed to the name: the old index still exists, so
    // only the watcher's link change can tell. Wait until the watcher has seen the new ra up
    // (its events are in kernel order, after the renames).
    d.clearEvents();
    await ip('-n', ns, 'link', 'set', 'ra', 'down');
    await ip('-n', ns, 'link', 'set', 'ra', 'name', 'rx');
    await ip('-n', ns, 'link', 'add', 'rc', 'type', 'veth', 'peer', 'name', 'rd');
    await ip('-n', ns, 'link', 'set', 'rc', 'name', 'ra');
    await ip('-n', ns, 'link', 'set', 'ra', 'up');
    await d.waitForEvent((e) => e.type === 'link' && e.ifname === 'ra' && e.up === true);
    await d.call('addVip', 'ra', '10.70.0.3/32', { validLftSec: 60 });
    t.ok(await onDev('ra', '10.70.0.3'), 'on the interface now called ra');
    t.notOk(await onDev('rx', '10.70.0.3'), 'not on the renamed one');
    await ip('-n', ns, 'link', 'del', 'ra');
    await ip('-n', ns, 'link', 'del', 'rx');
  });
}
