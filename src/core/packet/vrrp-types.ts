/**
 * Types and constants of the VRRP advertisement codec (RFC 3768 §5 for v2, RFC 9568 §5 for v3).
 */
import type { IpFamily } from './ip.js';

export type VrrpVersion = 2 | 3;

/** VRRPv2 authentication (RFC 3768 §5.3.6; type 1 is keepalived's `auth_type PASS`). */
export type VrrpAuth = { readonly type: 0 } | { readonly type: 1; readonly password: string };

/** A decoded (or to-be-encoded) advertisement, independent of the wire form. */
export interface Advertisement {
  readonly version: VrrpVersion;
  readonly family: IpFamily;
  /** Virtual Router Identifier, 1..255. */
  readonly vrid: number;
  /** 0 = master leaving, 255 = address owner. */
  readonly priority: number;
  /**
   * Max Advertise Interval in centiseconds. v3: the 12-bit wire field, 1..4095.
   * v2: the wire carries whole seconds (1..255); this is seconds * 100.
   */
  readonly maxAdvertIntervalCs: number;
  /** IPvX addresses in wire order, canonical text (lower-case, `::`-compressed IPv6). */
  readonly addresses: readonly string[];
  /** v2 only. Absent on v3 adverts; encoding v2 without it means type 0 (no authentication). */
  readonly auth?: VrrpAuth;
}

/**
 * How the checksum of an accepted advertisement was computed by its sender.
 * - 'v2': over the VRRP message only (RFC 3768).
 * - 'v3-pseudo': v3/IPv4 including the IPv4 pseudo-header (RFC 5798's reading, keepalived's default).
 * - 'v3-no-pseudo': v3/IPv4 over the message only (RFC 9568 §5.2.8; some vendors; keepalived
 *   `v3_checksum_as_v2`).
 * - 'v3-ipv6': v3/IPv6 including the IPv6 pseudo-header.
 */
export type ChecksumForm = 'v2' | 'v3-pseudo' | 'v3-no-pseudo' | 'v3-ipv6';

/**
 * Why a received packet was dropped. Stable names: logs and metrics are keyed by them.
 * The first group comes from `decodeAdvertisement` / `decodeIpv4Datagram`, the second from
 * `checkAgainstInstance`, the last from `checkSource` (source.ts).
 */
export type DropReason =
  /** Fewer bytes than the smallest IPv4 header or VRRP message. */
  | 'too-short'
  /** IPv4 header: version not 4, IHL/total length inconsistent, fragment, bad header checksum. */
  | 'bad-ip-header'
  /** IPv4 protocol is not 112. */
  | 'bad-protocol'
  /** TTL / hop limit is not 255. */
  | 'bad-ttl'
  /** Version nibble not 2 or 3; v2 over IPv6; or not the version we expect. */
  | 'bad-version'
  /** Type nibble not 1 (ADVERTISEMENT). */
  | 'bad-type'
  /** Fewer bytes than the address count implies. */
  | 'bad-length'
  /** Checksum does not verify (in any accepted form). */
  | 'bad-checksum'
  /** v2 auth type is neither 0 nor 1 and no expectation was given. */
  | 'bad-auth-type'
  /** v2 auth type differs from ours. */
  | 'auth-type-mismatch'
  /** v2 simple password differs from ours. */
  | 'auth-mismatch'
  /** Interval 0 on the wire, or (v2) an interval different from ours. */
  | 'bad-interval'
  /** VRID 0 on the wire, or not our VRID. */
  | 'bad-vrid'
  /** Address list differs from our configured VIPs (keepalived drops these too). */
  | 'address-mismatch'
  /** The instance has unicast peers and the source address is not one of them. */
  | 'unknown-source'
  | HmacDropReason;

/** Why HMAC authentication (hmac-auth.ts, keepalived `auth_hmac`) dropped an advert. */
export type HmacDropReason =
  /** No trailer while the instance enforces HMAC authentication. */
  | 'auth-missing'
  /** Trailer with an unknown extension type or non-zero reserved bits. */
  | 'auth-malformed'
  /** Trailer signed with a key id this instance does not have. */
  | 'auth-unknown-key'
  /** The HMAC does not verify (other key, forged or altered advert). */
  | 'auth-bad-hmac'
  /** Time mode: the trailer's time is outside the freshness window of our clock. */
  | 'auth-stale'
  /** The sender's sequence did not grow (a replayed advert). */
  | 'auth-replay';

export type DecodeResult =
  | {
    readonly ok: true;
    readonly advert: Advertisement;
    readonly checksumForm: ChecksumForm;
    /**
     * Present when exactly an HMAC trailer (28 bytes) follows the message: the message and the
     * trailer, for authenticateAdvert (hmac-auth.ts). The decoder does not verify it.
     */
    readonly signed?: { readonly message: Uint8Array; readonly trailer: Uint8Array };
  }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** What the receiver expects, when it knows (checked by the decoder). */
export interface DecodeExpectations {
  /** Drop adverts of the other version ('bad-version'). */
  readonly version?: VrrpVersion;
  /** v2: our authentication; type or password differences drop the advert. */
  readonly auth?: VrrpAuth;
  /**
   * Accept any IPv4 TTL / IPv6 hop limit (default: 255 only). Only for adverts whose source is
   * checked against configured unicast peers afterwards (`unicast-ttl-check: false`).
   */
  readonly anyTtl?: boolean;
}

/** Where the message came from, as the socket reports it. */
export interface ReceiveContext {
  readonly family: IpFamily;
  /** IP source address (text). */
  readonly src: string;
  /** IP destination address (text). */
  readonly dst: string;
  /** IPv4 TTL or IPv6 hop limit. */
  readonly ttl: number;
}

export const VRRP_IPV4_GROUP = '224.0.0.18';
export const VRRP_IPV6_GROUP = 'ff02::12';
/** TTL / hop limit on send, and the only value accepted on receive (RFC 9568 §5.1.1.3). */
export const VRRP_TTL = 255;
/** Message header: version/type, VRID, priority, count, auth/interval, checksum. */
export const VRRP_HEADER_LENGTH = 8;
/** v2 authentication data at the end of the message. */
export const VRRP_V2_AUTH_LENGTH = 8;
/** ADVERTISEMENT, the only VRRP packet type. */
export const VRRP_TYPE_ADVERTISEMENT = 1;
/** v3 12-bit Max Advertise Interval range, centiseconds. */
export const V3_INTERVAL_CS_MIN = 1;
export const V3_INTERVAL_CS_MAX = 4095;
/** v2 8-bit Advertisement Interval range, seconds. */
export const V2_INTERVAL_S_MIN = 1;
export const V2_INTERVAL_S_MAX = 255;
/** Datagrams larger than an Ethernet MTU are not produced (no fragmentation of adverts). */
export const MAX_DATAGRAM_LENGTH = 1500;

/** Bytes per address on the wire. */
export function addressLength(family: IpFamily): 4 | 16 {
  return family === 4 ? 4 : 16;
}

/** Length of a VRRP message (no IP header) carrying `count` addresses. */
export function messageLength(version: VrrpVersion, family: IpFamily, count: number): number {
  return VRRP_HEADER_LENGTH + count * addressLength(family) + (version === 2 ? VRRP_V2_AUTH_LENGTH : 0);
}

/**
 * Most addresses one advertisement can carry: the 8-bit count field, and the whole IP datagram
 * within a 1500-byte MTU (IPv6: 90). Any lower per-advert limit (keepalived has one) is a
 * config matter, not a codec one.
 */
export function maxAddresses(version: VrrpVersion, family: IpFamily): number {
  const ipHeader = family === 4 ? 20 : 40;
  const room = MAX_DATAGRAM_LENGTH - ipHeader - messageLength(version, family, 0);
  return Math.min(255, Math.floor(room / addressLength(family)));
}
