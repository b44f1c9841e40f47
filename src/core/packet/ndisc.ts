/**
 * Unsolicited Neighbor Advertisement frame builder (RFC 4861 §4.4, §7.2.6): the IPv6 side of a
 * takeover announcement.
 *
 * A complete Ethernet frame, 86 bytes: dst 33:33:00:00:00:01 (ff02::1), src senderMac,
 * ethertype 0x86dd; IPv6 header (traffic class 0, flow label 0, payload 32, next header 58,
 * hop limit 255, src, dst ff02::1); ICMPv6 type 136 code 0, flags Router=0 Solicited=0
 * Override=1, target = VIP, option 2 (target link-layer address) = senderMac; ICMPv6 checksum
 * over the IPv6 pseudo-header. The IPv6 source defaults to the VIP itself, as keepalived 2.2.7
 * sends it (see test/fixtures/keepalived/v3-ipv6-announce.json); pass `src` to use e.g. the
 * interface's link-local address instead.
 */
import { IPPROTO_ICMPV6, internetChecksum, ipv6PseudoHeader } from './checksum.js';
import { parseIpOrThrow } from './ip.js';
import { parseMacOrThrow } from './mac.js';

export const ETHERTYPE_IPV6 = 0x86dd;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const NA_FRAME_LENGTH = 86;
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_SOLICITED = 0x40;
const NA_FLAG_OVERRIDE = 0x20;
const ALL_NODES = 'ff02::1';

export interface UnsolicitedNaOptions {
  /** MAC of the interface that now holds the VIP (target link-layer address option). */
  readonly senderMac: string;
  /** The VIP (IPv6 text): the NA's target address. */
  readonly ip: string;
  /** IPv6 source address. Default: the VIP. */
  readonly src?: string;
  /** Set the Router flag (only for a VIP that is a router's address). Default false. */
  readonly router?: boolean;
}

/** Build the 86-byte unsolicited NA Ethernet frame. Throws HA_ERR_ENCODE on a bad MAC or IP. */
export function buildUnsolicitedNa(opts: UnsolicitedNaOptions): Uint8Array {
  const mac = parseMacOrThrow(opts.senderMac, 'sender MAC');
  const target = parseIpOrThrow(opts.ip, 6, 'VIP', 'HA_ERR_ENCODE');
  const src = opts.src === undefined ? target : parseIpOrThrow(opts.src, 6, 'source address', 'HA_ERR_ENCODE');
  const dst = parseIpOrThrow(ALL_NODES, 6, 'destination address', 'HA_ERR_ENCODE');

  const icmp = new Uint8Array(32);
  icmp[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  icmp[1] = 0;
  icmp[4] = NA_FLAG_OVERRIDE | (opts.router === true ? NA_FLAG_ROUTER : 0);
  // NA_FLAG_SOLICITED stays clear: nobody asked (RFC 4861 §7.2.6).
  icmp.set(target, 8);
  icmp[24] = 2; // option: target link-layer address
  icmp[25] = 1; // length in units of 8 bytes
  icmp.set(mac, 26);
  const sum = internetChecksum(ipv6PseudoHeader(src, dst, IPPROTO_ICMPV6, icmp.length), icmp);
  icmp[2] = sum >>> 8;
  icmp[3] = sum & 0xff;

  const frame = new Uint8Array(NA_FRAME_LENGTH);
  const view = new DataView(frame.buffer);
  frame.set([0x33, 0x33, 0, 0, 0, 1], 0);
  frame.set(mac, 6);
  view.setUint16(12, ETHERTYPE_IPV6);
  view.setUint32(14, 0x60000000); // version 6, traffic class 0, flow label 0
  view.setUint16(18, icmp.length);
  frame[20] = IPPROTO_ICMPV6;
  frame[21] = 255; // hop limit: receivers drop NDISC with anything else (RFC 4861 §7.1.2)
  frame.set(src, 22);
  frame.set(dst, 38);
  frame.set(icmp, 54);
  return frame;
}

/** Exported for tests and for readers: the flag bits of the NA's first reserved word. */
export const NA_FLAGS = { router: NA_FLAG_ROUTER, solicited: NA_FLAG_SOLICITED, override: NA_FLAG_OVERRIDE } as const;
