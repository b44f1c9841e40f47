/**
 * The floating SNAT address of `conntrack-sync`: on the master only, like a VIP, on its own
 * interface (usually the internal network, where the real servers answer it), and announced
 * (gratuitous ARP) with the VIPs so the real servers' neighbour entries follow the master.
 *
 * The runner's queue adds and removes it with the VIPs (InstanceDeps.floating); this is the
 * rest. Contract: remove never rejects (a failure is logged at error; an absent address is not
 * a failure). Unlike the VIPs it has no kernel lifetime: an agent that was killed leaves it, and
 * the instance removes it when it starts again.
 */
import type { Logger } from 'pino';
import type { ConntrackSyncConfig } from '../core/config/conntrack.js';
import type { InstanceConfig } from '../core/config/types.js';
import type { NetlinkPort } from '../adapters/netlink/index.js';

/** What the floating address needs of the agent's ports (AgentPorts has both). */
export interface FloatingPorts {
  readonly netlink: Pick<NetlinkPort, 'removeVip'>;
  announcer(inst: InstanceConfig): Pick<FloatingAddress, 'announce' | 'quiet' | 'close'>;
}

export interface FloatingAddress {
  /** Removes it (at start: one a killed agent left). Adding and removing while running is the runner's (`floating`). */
  remove(): Promise<void>;
  announce(): Promise<void>;
  quiet(): void;
  close(): void;
}

export function floatingAddress(inst: InstanceConfig, sync: ConntrackSyncConfig, ports: FloatingPorts, log: Logger): FloatingAddress {
  const { cidr } = sync.snat;
  const ifname = sync.snatInterface;
  const announcer = ports.announcer({ ...inst, external: ifname, vips: [sync.snat], vipLabel: undefined });
  return {
    remove: () => ports.netlink.removeVip(ifname, cidr).then(
      () => undefined,
      (err: unknown) => log.error({ err, address: cidr, iface: ifname }, 'removing the floating SNAT address failed'),
    ),
    announce: () => announcer.announce(),
    quiet: () => announcer.quiet(),
    close: () => announcer.close(),
  };
}
