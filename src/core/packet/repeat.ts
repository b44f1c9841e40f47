/**
 * Recognizing a repeated IPv4 VRRP datagram: a master sends the same advert every interval, and
 * on the wire two of them differ only in the IPv4 header's Identification and, with it, its
 * header checksum. Decoding is a pure function of the bytes (and the receiver's settings), so a
 * datagram equal to one already decoded and accepted, outside those two fields, decodes to the
 * same advert: the receiver can reuse that result instead of decoding again.
 *
 * Contract: `isRepeatOf(datagram, earlier)` is true only when both have the same length, every
 * byte other than the Identification (bytes 4-5) and the header checksum (10-11) is equal, and
 * `datagram`'s own header checksum verifies (its header length taken from `earlier`, which is
 * equal). Deliberately not checked: anything about `earlier` itself (the caller keeps only
 * datagrams it fully decoded and accepted).
 */
import { internetChecksum } from './checksum.js';

/** Bytes of the IPv4 header that differ between two sends of the same advert. */
const ID_FIRST = 4;
const ID_LAST = 5;
const CHECKSUM_FIRST = 10;
const CHECKSUM_LAST = 11;

export function isRepeatOf(datagram: Uint8Array, earlier: Uint8Array): boolean {
  const n = earlier.length;
  if (datagram.length !== n || n < 20) return false;
  for (let i = 0; i < n; i++) {
    if (datagram[i] !== earlier[i] && !(i >= ID_FIRST && i <= ID_LAST) && !(i >= CHECKSUM_FIRST && i <= CHECKSUM_LAST)) return false;
  }
  const headerLength = ((earlier[0] ?? 0) & 0x0f) * 4;
  return internetChecksum(datagram.subarray(0, headerLength)) === 0;
}
