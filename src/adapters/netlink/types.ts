/** Shapes exchanged across the rtnetlink port (see port.ts). */
import type { IpFamily } from './ip.js';

export type { IpFamily };

/** RFC 2863 operational state as the kernel reports it (IFLA_OPERSTATE). */
export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';

export interface LinkInfo {
  readonly ifindex: number;
  readonly ifname: string;
  /** IFF_UP: administratively up */
  readonly up: boolean;
  /** IFF_RUNNING: operationally up (carrier present, operstate up/unknown) */
  readonly running: boolean;
  readonly operState: OperState;
  /** lower-case colon-separated hardware address; '' when the link has none */
  readonly mac: string;
}

export interface AddressInfo {
  readonly ifname: string;
  readonly ifindex: number;
  /** canonical text: dotted quad, or RFC 5952 IPv6 */
  readonly address: string;
  readonly prefixLength: number;
  readonly family: IpFamily;
  /** IPv4 only (IFA_LABEL) */
  readonly label?: string;
  /** seconds left; absent when forever */
  readonly validLftSec?: number;
  /** seconds left; absent when forever */
  readonly preferredLftSec?: number;
  /** IFA_F_SECONDARY (IPv4): not the primary address of its subnet */
  readonly secondary: boolean;
  /** IFA_F_TENTATIVE (IPv6): duplicate address detection still running */
  readonly tentative: boolean;
}

export interface AddVipOptions {
  /** IPv4 label (IFA_LABEL); must start with the interface name, at most 15 bytes */
  readonly label?: string;
  /** IFA_CACHEINFO ifa_valid in seconds; omitted = forever */
  readonly validLftSec?: number;
  /** IFA_CACHEINFO ifa_prefered in seconds; omitted = validLftSec (or forever) */
  readonly preferredLftSec?: number;
}

export interface LinkEvent {
  readonly type: 'link';
  readonly ifname: string;
  readonly ifindex: number;
  readonly up: boolean;
  readonly running: boolean;
  /** true for RTM_DELLINK: the interface is gone (up and running are then false) */
  readonly removed: boolean;
}

export interface AddressEvent {
  readonly type: 'address-added' | 'address-removed';
  readonly ifname: string;
  readonly ifindex: number;
  readonly address: string;
  readonly prefixLength: number;
  readonly family: IpFamily;
}

export type NetlinkEvent = LinkEvent | AddressEvent;
