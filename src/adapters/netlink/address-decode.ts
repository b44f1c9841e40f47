/**
 * Decoding of rtnetlink address messages (RTM_NEWADDR / RTM_DELADDR payloads): the full decode
 * (parseAddress), the cheap identity read for the watcher (addressIdentity), and a dump's
 * addresses. Functions of the bytes only.
 */
import { endianness } from 'node:os';
import { rt, type NetlinkMessage } from './lib.js';
import { AF_INET, AF_INET6, formatIp } from './ip.js';
import { RTM } from './request.js';

/** The kernel's "forever" lifetime (IFA_CACHEINFO). */
export const FOREVER = 0xffffffff;

/** Raw decode of one RTM_NEWADDR/RTM_DELADDR payload, without the interface name. */
export interface RawAddress {
  readonly ifindex: number;
  readonly family: 4 | 6;
  readonly bytes: Buffer;
  readonly address: string;
  readonly prefixLength: number;
  readonly label?: string;
  readonly validLftSec?: number;
  readonly preferredLftSec?: number;
  readonly secondary: boolean;
  readonly tentative: boolean;
}

export function parseAddress(msg: NetlinkMessage): RawAddress | undefined {
  const { data, attrs } = rt.parseAddressMessage(msg.data);
  const family = data.family === AF_INET ? 4 : data.family === AF_INET6 ? 6 : undefined;
  // IFA_LOCAL is the local address; IFA_ADDRESS is the peer on point-to-point links.
  const bytes = family === 4 ? (attrs.local ?? attrs.address) : (attrs.address ?? attrs.local);
  if (family === undefined || data.index === undefined || !bytes) return undefined;
  const flags = attrs.flags ?? data.flags ?? {};
  const valid = attrs.cacheInfo?.ifaValid;
  const preferred = attrs.cacheInfo?.ifaPrefered;
  return {
    ifindex: data.index,
    family,
    bytes,
    address: formatIp(bytes),
    prefixLength: data.prefixlen ?? 0,
    ...(family === 4 && attrs.label !== undefined ? { label: attrs.label } : {}),
    ...(valid !== undefined && valid !== FOREVER ? { validLftSec: valid } : {}),
    ...(preferred !== undefined && preferred !== FOREVER ? { preferredLftSec: preferred } : {}),
    secondary: flags.secondary === true,
    tentative: flags.tentative === true,
  };
}

const IFADDRMSG_LENGTH = 8;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
/** NLA_F_NESTED | NLA_F_NET_BYTEORDER: attributes with either are left to parseAddress. */
const NLA_FLAGS = 0xc000;
const readU16 = endianness() === 'LE' ? (b: Buffer, o: number): number => b.readUInt16LE(o) : (b: Buffer, o: number): number => b.readUInt16BE(o);
const readU32 = endianness() === 'LE' ? (b: Buffer, o: number): number => b.readUInt32LE(o) : (b: Buffer, o: number): number => b.readUInt32BE(o);

/**
 * Only what identifies an RTM_NEWADDR/RTM_DELADDR payload (interface index, address, prefix
 * length), read straight from the bytes: the watcher's cheap test for a lifetime refresh of an
 * address it knows (a master renews its VIPs about once per advert). Whenever it answers, the
 * answer equals parseAddress's fields; it answers undefined for anything parseAddress would
 * decode differently or refuse (unknown family, no address, a malformed or flagged attribute),
 * so the caller then takes the full decode.
 */
export function addressIdentity(data: Buffer): Pick<RawAddress, 'ifindex' | 'address' | 'prefixLength'> | undefined {
  if (data.length < IFADDRMSG_LENGTH) return undefined;
  const familyCode = data[0];
  const family = familyCode === AF_INET ? 4 : familyCode === AF_INET6 ? 6 : undefined;
  if (family === undefined) return undefined;
  let address: Buffer | undefined;
  let local: Buffer | undefined;
  for (let off = IFADDRMSG_LENGTH; off < data.length;) {
    if (data.length - off < 4) return undefined;
    const length = readU16(data, off);
    const typeAndFlags = readU16(data, off + 2);
    if (length < 4 || data.length - off < length || (typeAndFlags & NLA_FLAGS) !== 0) return undefined;
    if (typeAndFlags === IFA_ADDRESS) address = data.subarray(off + 4, off + length);
    else if (typeAndFlags === IFA_LOCAL) local = data.subarray(off + 4, off + length);
    off += (length + 3) & ~3;
  }
  const bytes = family === 4 ? (local ?? address) : (address ?? local);
  if (bytes === undefined || bytes.length !== (family === 4 ? 4 : 16)) return undefined;
  return { ifindex: readU32(data, 4), address: formatIp(bytes), prefixLength: data[1] ?? 0 };
}

/** The addresses of a dump's replies (RTM_NEWADDR messages), those parseAddress decodes. */
export function rawAddresses(replies: readonly NetlinkMessage[]): RawAddress[] {
  return replies.filter((m) => m.type === RTM.NEWADDR).map(parseAddress).filter((a): a is RawAddress => a !== undefined);
}
