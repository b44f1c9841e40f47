/** Public API of the VRRP packet codec and announcement frame builders. */
export { ARP_FRAME_LENGTH, buildGratuitousArp, type GratuitousArpOptions } from './arp.js';
export { IPPROTO_ICMPV6, IPPROTO_VRRP, internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader } from './checksum.js';
export { decodeAdvertisement, decodeIpv4Datagram, type DatagramDecodeResult, type Ipv4HeaderInfo } from './decode.js';
export { encodeAdvertisement, encodeIpv4Datagram, type EncodeContext, type HmacSigning, type Ipv4DatagramOptions } from './encode.js';
export { authenticateAdvert, type AuthResult, type HmacMode, type HmacPolicy, type SignedPart } from './hmac-auth.js';
export { ReplayMarks, clockSequence, nextSendSequence, sequenceAfter, type AntiReplay } from './hmac-replay.js';
export { HMAC_KEY_MAX, HMAC_KEY_MIN, HMAC_TRAILER_LENGTH, hmacTag, readTrailer, type HmacBinding } from './hmac-trailer.js';
export {
  compareAddressBytes,
  formatIp,
  formatIpv4,
  formatIpv6,
  ipFamily,
  normalizeIp,
  parseIp,
  parseIpOrThrow,
  parseIpv4,
  parseIpv6,
  stripPrefix,
  type IpFamily,
} from './ip.js';
export { BROADCAST_MAC, ZERO_MAC, formatMac, parseMac } from './mac.js';
export { NA_FLAGS, NA_FRAME_LENGTH, buildUnsolicitedNa, type UnsolicitedNaOptions } from './ndisc.js';
export { canonicalAddress, checkSource } from './source.js';
export { checkAgainstInstance, type AdvertCheck, type InstanceExpectation } from './validate.js';
export {
  VRRP_IPV4_GROUP,
  VRRP_IPV6_GROUP,
  VRRP_TTL,
  maxAddresses,
  messageLength,
  type Advertisement,
  type ChecksumForm,
  type DecodeExpectations,
  type DecodeResult,
  type DropReason,
  type HmacDropReason,
  type ReceiveContext,
  type VrrpAuth,
  type VrrpVersion,
} from './vrrp-types.js';
