/** Link lookups against `ip -j link show` in a namespace. */
import t from 'tap';
import type { LinkInfo } from '../../../src/adapters/netlink/index.js';
import { Driver, DriverCallError, ip, makeNamespace, pollUntil, skipReason } from './fixtures/helpers.js';

interface IpLink { ifindex: number; ifname: string; address: string; flags: string[]; operstate: string }

const reason = await skipReason();
if (reason) {
  t.plan(0, reason);
} else {
  const ns = await makeNamespace(t, 'link');
  const d = await Driver.start(t, ns);
  const ipLink = async (dev: string): Promise<IpLink> =>
    (JSON.parse(await ip('-n', ns, '-j', 'link', 'show', 'dev', dev)) as IpLink[])[0] as IpLink;

  t.test('getLink matches ip link show', async (t) => {
    t.ok(await pollUntil(async () => (await ipLink('va')).operstate === 'UP', 10_000), 'va comes up');
    const want = await ipLink('va');
    const got = await d.call<LinkInfo>('getLink', 'va');
    t.same(got, { ifindex: want.ifindex, ifname: 'va', up: true, running: true, operState: 'up', mac: want.address });
    t.same(await d.call<LinkInfo>('getLinkByIndex', want.ifindex), got, 'ifindex -> ifname');
  });

  t.test('admin down, and carrier loss on the peer', async (t) => {
    await ip('-n', ns, 'link', 'set', 'dev', 'vb', 'down');
    const vb = await d.call<LinkInfo>('getLink', 'vb');
    t.match(vb, { up: false, running: false, operState: 'down' });
    const va = await d.call<LinkInfo>('getLink', 'va');
    t.match(va, { up: true, running: false, operState: 'lowerlayerdown' }, 'peer down: no carrier');
    await ip('-n', ns, 'link', 'set', 'dev', 'vb', 'up');
    t.ok(await pollUntil(async () => (await d.call<LinkInfo>('getLink', 'va')).running, 10_000), 'va running again');
  });

  t.test('unknown interface: HA_ERR_NETLINK with ENODEV, naming it', async (t) => {
    const err = await d.call('getLink', 'nosuch0').catch((e: unknown) => e);
    t.type(err, DriverCallError);
    t.match((err as DriverCallError).remote, { code: 'HA_ERR_NETLINK', errnoCode: 'ENODEV', message: /nosuch0/ });
  });
}
