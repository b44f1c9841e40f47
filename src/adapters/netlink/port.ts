/**
 * What the daemon needs from rtnetlink, as an interface it can fake in unit tests.
 * The real implementation is `createNetlink()` in index.ts.
 */
import type { AddVipOptionsExt } from './addresses.js';
import type { AddressInfo, LinkInfo, NetlinkEvent, LinkEvent, AddressEvent } from './types.js';
import type { NetlinkError } from './errors.js';
import type { WatcherOptions } from './watcher.js';

/** Kernel link/address events; see watcher.ts for the exact contract. */
export interface NetlinkWatcher {
  on(event: 'event', listener: (ev: NetlinkEvent) => void): this;
  on(event: 'link', listener: (ev: LinkEvent) => void): this;
  on(event: 'address-added' | 'address-removed', listener: (ev: AddressEvent) => void): this;
  on(event: 'error', listener: (err: NetlinkError) => void): this;
  /** Opened with addressAdded false: why RTM_NEWADDR is not dropped in the kernel, else undefined. */
  readonly kernelFilterError?: string | undefined;
  close(): void;
}

export interface NetlinkPort {
  /** Adds or refreshes (NLM_F_CREATE|NLM_F_REPLACE) a VIP; already present is fine. */
  addVip(ifname: string, cidr: string, opts?: AddVipOptionsExt): Promise<void>;
  /**
   * addVip for several VIPs of one interface in one batched request (the lease renewals): one
   * outcome per entry, in order, undefined = in place; never rejects.
   */
  renewVips(ifname: string, entries: readonly { readonly cidr: string; readonly opts?: AddVipOptionsExt }[]): Promise<(Error | undefined)[]>;
  /**
   * Optional: the requests renewVips would send for `entries`, as one datagram for a sender of
   * its own (an advert train renews the lease with it); rejects like addVip.
   */
  renewalDatagram?(ifname: string, entries: readonly { readonly cidr: string; readonly opts?: AddVipOptionsExt }[]): Promise<Uint8Array>;
  /**
   * Optional, with renewalDatagram: changes whenever interface indexes may have changed (a
   * renewal datagram made before names its link by the old index); NaN when unknown.
   */
  linkGeneration?(): number;
  /** Removes exactly this address/prefix; absent (or no such interface) is fine. */
  removeVip(ifname: string, cidr: string): Promise<void>;
  listAddresses(ifname?: string): Promise<AddressInfo[]>;
  hasVip(ifname: string, cidr: string): Promise<boolean>;
  /** First non-secondary IPv4 address: the VRRP source address. */
  primaryIpv4(ifname: string): Promise<string | undefined>;
  /** IPv6 link-local address (DAD finished preferred): the VRRPv3/IPv6 source address. */
  linkLocalIpv6(ifname: string): Promise<string | undefined>;
  /** Throws a NetlinkError with errnoCode 'ENODEV' when the interface does not exist. */
  getLink(ifname: string): Promise<LinkInfo>;
  getLinkByIndex(ifindex: number): Promise<LinkInfo>;
  /** Opens a separate subscribed socket; close it with its own close(). Options: see watcher.ts. */
  watch(opts?: WatcherOptions): Promise<NetlinkWatcher>;
  /** Closes the request socket. Idempotent. */
  close(): void;
}
