/**
 * RFC 1071 Internet checksum and the pseudo-headers VRRP and ICMPv6 checksums cover.
 *
 * The checksum is the 16-bit one's complement of the one's complement sum of the data taken as
 * big-endian 16-bit words (an odd trailing byte is padded with a zero byte on the right).
 * Verifying: the checksum over data that includes a correct checksum field is 0.
 */

/** IANA protocol number of VRRP (IPv4 protocol / IPv6 next header). */
export const IPPROTO_VRRP = 112;
/** IANA protocol number of ICMPv6 (IPv6 next header). */
export const IPPROTO_ICMPV6 = 58;

/**
 * The Internet checksum (RFC 1071) over the concatenation of `parts`, as a number 0..0xffff.
 * Parts may have odd lengths: bytes are paired across part boundaries as if concatenated.
 */
export function internetChecksum(...parts: readonly Uint8Array[]): number {
  let sum = 0;
  let odd = false;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      const byte = part[i] ?? 0;
      sum += odd ? byte : byte << 8;
      odd = !odd;
    }
  }
  // Fold the carries back in (end-around carry). Division, not `>>>`: the sum may pass 2^32
  // for inputs over ~64 KiB, and stays an exact integer far beyond any packet size.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/**
 * IPv4 pseudo-header (RFC 768 form, used by VRRPv3 over IPv4 as keepalived computes it):
 * source (4), destination (4), zero (1), protocol (1), upper-layer length (2). 12 bytes.
 * Does not check that `src`/`dst` are 4 bytes long beyond copying the first 4.
 */
export function ipv4PseudoHeader(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  length: number,
): Uint8Array {
  const out = new Uint8Array(12);
  out.set(src.subarray(0, 4), 0);
  out.set(dst.subarray(0, 4), 4);
  out[8] = 0;
  out[9] = protocol & 0xff;
  out[10] = (length >>> 8) & 0xff;
  out[11] = length & 0xff;
  return out;
}

/**
 * IPv6 pseudo-header (RFC 8200 §8.1): source (16), destination (16), upper-layer packet
 * length (u32), three zero bytes, next header (1). 40 bytes.
 */
export function ipv6PseudoHeader(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  length: number,
): Uint8Array {
  const out = new Uint8Array(40);
  out.set(src.subarray(0, 16), 0);
  out.set(dst.subarray(0, 16), 16);
  new DataView(out.buffer).setUint32(32, length >>> 0);
  out[39] = nextHeader & 0xff;
  return out;
}
