/**
 * The agent's reactions to kernel link and address events (the netlink watcher): the external
 * NIC down is a fault of the instances on it; a heartbeat link back up makes a master
 * re-announce; a VIP removed by someone else while we are master is put back, with the label
 * and lease it is always added with (without the lease a killed agent would leave it behind).
 */
import type { Logger } from 'pino';
import type { NetlinkEvent, NetlinkPort } from '../adapters/netlink/index.js';
import type { Bound } from './bound-instance.js';

export function onNetlinkEvent(ev: NetlinkEvent, bound: readonly Bound[], deps: { readonly netlink: NetlinkPort; readonly log: Logger }): void {
  if (ev.type === 'link') {
    for (const b of bound) {
      b.health.onLink(ev.ifname, ev.up, ev.running);
      // Loss of carrier on the heartbeat link alone is not a reason to refuse the VIP
      // (direct-cable case, VRRP-NOTES.md); only the external NIC being down is FAULT.
      if (b.config.external === ev.ifname) b.runner.input({ type: 'fault', source: `interface:${ev.ifname}`, active: !ev.up || !ev.running });
      // A heartbeat link coming back may end a split brain: the other node may have taken
      // the VIP meanwhile and pointed clients at itself. A master re-announces at once.
      if (b.config.interface === ev.ifname && ev.up && ev.running && b.runner.vrrpState === 'MASTER') {
        b.announcer.announce().catch((err: unknown) => deps.log.warn({ err }, 'gratuitous ARP after link up failed'));
      }
    }
  } else if (ev.type === 'address-removed') {
    for (const b of bound) {
      if (b.config.external !== ev.ifname || b.runner.vrrpState !== 'MASTER') continue;
      const cidr = `${ev.address}/${ev.prefixLength}`;
      if (!b.config.vips.some((v) => v.cidr === cidr)) continue;
      deps.log.warn({ instance: b.config.name, vip: cidr, iface: ev.ifname }, 'VIP removed by someone else while master; re-adding it');
      deps.netlink.addVip(b.config.external, cidr, b.runner.vipAddOptions).catch((err: unknown) => deps.log.error({ err, vip: cidr }, 're-adding VIP failed'));
    }
  }
}
