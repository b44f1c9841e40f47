/**
 * onNetlinkEvent: a VIP removed by someone else while master is put back with the options it is
 * always added with (its label and the lease as kernel lifetimes), not forever; nothing is done
 * for a backup or for an address that is not one of the instance's VIPs.
 */
import { pino } from 'pino';
import t from 'tap';
import type { NetlinkEvent, NetlinkPort } from '../../../src/adapters/netlink/index.js';
import type { Bound } from '../../../src/daemon/bound-instance.js';
import { onNetlinkEvent } from '../../../src/daemon/link-events.js';

const OPTS = { label: 'eth1:web', validLftSec: 3, preferredLftSec: 3 };

function setup(state: 'MASTER' | 'BACKUP'): { bound: Bound[]; netlink: NetlinkPort; adds: unknown[][] } {
  const adds: unknown[][] = [];
  const netlink = { addVip: async (...args: unknown[]) => { adds.push(args); } } as unknown as NetlinkPort;
  const bound = [{
    runner: { vrrpState: state, vipAddOptions: OPTS, input: () => undefined },
    config: { name: 'web', interface: 'eth0', external: 'eth1', vips: [{ cidr: '192.0.2.10/32' }] },
  }] as unknown as Bound[];
  return { bound, netlink, adds };
}

const removed = (address: string, ifname = 'eth1'): NetlinkEvent => ({ type: 'address-removed', ifname, address, prefixLength: 32, family: 4 } as NetlinkEvent);

t.test('a master puts a removed VIP back with its label and lease', async (t) => {
  const { bound, netlink, adds } = setup('MASTER');
  onNetlinkEvent(removed('192.0.2.10'), bound, { netlink, log: pino({ level: 'silent' }) });
  t.same(adds, [['eth1', '192.0.2.10/32', OPTS]]);
});

t.test('nothing for a backup, another address or another interface', async (t) => {
  const backup = setup('BACKUP');
  onNetlinkEvent(removed('192.0.2.10'), backup.bound, { netlink: backup.netlink, log: pino({ level: 'silent' }) });
  t.same(backup.adds, []);
  const master = setup('MASTER');
  onNetlinkEvent(removed('192.0.2.11'), master.bound, { netlink: master.netlink, log: pino({ level: 'silent' }) });
  onNetlinkEvent(removed('192.0.2.10', 'eth9'), master.bound, { netlink: master.netlink, log: pino({ level: 'silent' }) });
  t.same(master.adds, []);
});
