/**
 * The rtnetlink adapter: VIPs, links and kernel events for the daemon.
 * Everything runs in the network namespace of the process (`ip netns exec NS node ...`).
 */
import { createRtNetlink, type RtNetlinkSocket } from './lib.js';
import { AddressManager } from './addresses.js';
import { loadBinding } from '../packet-socket.js';
import type { RouteBatch } from './sync-batch.js';
import type { AddVipOptionsExt } from './addresses.js';
import { NetlinkError } from './errors.js';
import { LinkResolver } from './links.js';
import { IfindexCache } from './ifindex-cache.js';
import { withoutTypedDecode } from './request.js';
import type { NetlinkPort } from './port.js';
import type { AddressInfo, LinkInfo } from './types.js';
import { RtnetlinkWatcher, type WatcherOptions } from './watcher.js';

export type { NetlinkPort, NetlinkWatcher } from './port.js';
export type { AddVipOptionsExt } from './addresses.js';
export type * from './types.js';
export { NetlinkError, NetlinkErrnoError } from './errors.js';
export { RtnetlinkWatcher } from './watcher.js';
export type { WatcherOptions } from './watcher.js';
export { AddressManager } from './addresses.js';
export { LinkResolver } from './links.js';
export { parseCidr, formatIp } from './ip.js';

let routeBatch: RouteBatch | null | undefined;

/** The addon's synchronous route request (native/netlink_sync.c), looked up once; undefined without it. */
function nativeRouteBatch(): RouteBatch | undefined {
  if (routeBatch === undefined) {
    try {
      const native = loadBinding() as unknown as { routeBatch?: unknown };
      const fn = native.routeBatch;
      routeBatch = typeof fn === 'function' ? (fn as RouteBatch).bind(native) : null;
    } catch {
      routeBatch = null; // no addon: renewals go through the package's socket
    }
  }
  return routeBatch ?? undefined;
}

/**
 * The production NetlinkPort: one request socket (unref'd while idle). addVip remembers
 * interface indexes while one of its watchers is open (see ifindex-cache.ts).
 */
export class RtnetlinkAdapter implements NetlinkPort {
  private readonly links: LinkResolver;
  private readonly addresses: AddressManager;
  private readonly ifindexes: IfindexCache;
  private closed = false;

  constructor(private readonly sock: RtNetlinkSocket) {
    this.links = new LinkResolver(sock);
    this.ifindexes = new IfindexCache(this.links);
    this.addresses = new AddressManager(sock, this.links, undefined, this.ifindexes, nativeRouteBatch);
  }

  addVip(ifname: string, cidr: string, opts?: AddVipOptionsExt): Promise<void> {
    return this.addresses.addVip(ifname, cidr, opts);
  }
  renewVips(ifname: string, entries: readonly { readonly cidr: string; readonly opts?: AddVipOptionsExt }[]): Promise<(Error | undefined)[]> {
    return this.addresses.renewVips(ifname, entries);
  }
  removeVip(ifname: string, cidr: string): Promise<void> {
    return this.addresses.removeVip(ifname, cidr);
  }
  renewalDatagram(ifname: string, entries: readonly { readonly cidr: string; readonly opts?: AddVipOptionsExt }[]): Promise<Uint8Array> {
    return this.addresses.renewalDatagram(ifname, entries);
  }
  linkGeneration(): number {
    return this.ifindexes.linkGeneration;
  }
  listAddresses(ifname?: string): Promise<AddressInfo[]> {
    return this.addresses.listAddresses(ifname);
  }
  hasVip(ifname: string, cidr: string): Promise<boolean> {
    return this.addresses.hasVip(ifname, cidr);
  }
  primaryIpv4(ifname: string): Promise<string | undefined> {
    return this.addresses.primaryIpv4(ifname);
  }
  linkLocalIpv6(ifname: string): Promise<string | undefined> {
    return this.addresses.linkLocalIpv6(ifname);
  }
  getLink(ifname: string): Promise<LinkInfo> {
    return this.links.getLink(ifname);
  }
  getLinkByIndex(ifindex: number): Promise<LinkInfo> {
    return this.links.getLinkByIndex(ifindex);
  }
  async watch(opts?: WatcherOptions): Promise<RtnetlinkWatcher> {
    const w = await RtnetlinkWatcher.open(this.sock, opts);
    this.ifindexes.guardWith(w);
    return w;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.socket.close();
  }
}

/** Opens the adapter in the current network namespace. */
export async function createNetlink(): Promise<RtnetlinkAdapter> {
  try {
    return new RtnetlinkAdapter(withoutTypedDecode(createRtNetlink()));
  } catch (err) {
    throw new NetlinkError('open rtnetlink socket', err);
  }
}
