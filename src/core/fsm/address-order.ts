/**
 * Unsigned ordering of address text for the equal-priority tie-break of RFC 5798 §6.4.3 ("the
 * primary IPvX Address of the sender is greater than the local primary IPvX Address").
 * Parsing is the codec's (src/core/packet/ip.ts); a `%zone` suffix is ignored.
 */
import { compareAddressBytes, parseIp } from '../packet/ip.js';

/** Parse an IPv4 or IPv6 address into 4 or 16 bytes; null when the text is not an address. */
export function parseAddressBytes(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  return parseIp(zone === -1 ? text : text.slice(0, zone)) ?? null;
}

/**
 * Total order on address text: unsigned byte-wise comparison of the parsed addresses.
 * Returns -1, 0 or 1. Not expected in practice but still ordered: unparsable text sorts below
 * any address (two unparsable texts compare as strings), and IPv4 sorts below IPv6.
 */
export function compareAddresses(a: string, b: string): number {
  const x = parseAddressBytes(a);
  const y = parseAddressBytes(b);
  if (x === null || y === null) {
    if (x !== null) return 1;
    if (y !== null) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return compareAddressBytes(x, y);
}
