/**
 * Gratuitous ARP frame builder (RFC 826 packet, RFC 5227 §3 / RFC 5944 §4.6 "gratuitous" use):
 * announces that the VIP now lives at `senderMac` after a takeover.
 *
 * The frame is complete from the Ethernet header on, 42 bytes, unpadded (the kernel/NIC pads to
 * the 60-byte minimum). Layout: dst ff:ff:ff:ff:ff:ff, src senderMac, ethertype 0x0806; then
 * htype 1, ptype 0x0800, hlen 6, plen 4, op (1 request / 2 reply), sender MAC, sender IP = VIP,
 * target MAC, target IP = VIP.
 *
 * Target MAC: broadcast by default, in both forms. That is byte for byte what keepalived 2.2.7
 * sends (see test/fixtures/keepalived/v3-ipv4-announce.json); RFC 5227 suggests zero for
 * request-form announcements and receivers ignore the field, so `targetMac: 'zero'` is offered.
 */
import { parseIpOrThrow } from './ip.js';
import { MAC_LENGTH, parseMacOrThrow } from './mac.js';

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV4 = 0x0800;
export const ARP_FRAME_LENGTH = 42;

export interface GratuitousArpOptions {
  /** MAC of the interface that now holds the VIP. */
  readonly senderMac: string;
  /** The VIP (IPv4 text). */
  readonly ip: string;
  readonly op: 'request' | 'reply';
  /** ARP target hardware address. Default 'broadcast' (keepalived's choice). */
  readonly targetMac?: 'broadcast' | 'zero';
}

/** Build the 42-byte gratuitous ARP Ethernet frame. Throws HA_ERR_ENCODE on a bad MAC or IP. */
export function buildGratuitousArp(opts: GratuitousArpOptions): Uint8Array {
  const mac = parseMacOrThrow(opts.senderMac, 'sender MAC');
  const ip = parseIpOrThrow(opts.ip, 4, 'VIP', 'HA_ERR_ENCODE');
  const frame = new Uint8Array(ARP_FRAME_LENGTH);
  const view = new DataView(frame.buffer);
  frame.fill(0xff, 0, MAC_LENGTH);
  frame.set(mac, 6);
  view.setUint16(12, ETHERTYPE_ARP);
  view.setUint16(14, 1); // htype: Ethernet
  view.setUint16(16, ETHERTYPE_IPV4); // ptype
  frame[18] = MAC_LENGTH;
  frame[19] = 4;
  view.setUint16(20, opts.op === 'request' ? 1 : 2);
  frame.set(mac, 22);
  frame.set(ip, 28);
  frame.fill(opts.targetMac === 'zero' ? 0x00 : 0xff, 32, 38);
  frame.set(ip, 38);
  return frame;
}
