/**
 * VRRP advertisement decoder (RFC 3768 §7.1 v2, RFC 9568 §7.1 v3 receive checks).
 *
 * Never throws on wire bytes: every rejection is `{ ok: false, reason, detail }` with a readable
 * detail ("IPv4 TTL is 64; should be 255"). Checks, in order: length; TTL/hop limit 255;
 * version and type; v2 over IPv6; count against length (bytes after the message, e.g. Ethernet
 * padding, are ignored); expected version; v2 auth; checksum; VRID 0; interval 0.
 * Exactly 28 bytes after the message are an HMAC trailer (keepalived 2.4 `auth_hmac`; padding
 * never reaches 28 bytes): returned as `signed`, not verified here (hmac-auth.ts does), and on
 * IPv6 the checksum then covers the trailer too, as the sender's kernel computed it.
 * Comparisons with our instance (VRID, v2 interval, address list) are `checkAgainstInstance`'s
 * job (validate.ts). A unicast peer's TTL window is the shell's business: this checks 255.
 */
import { AUTH_DATA_LENGTH, authData, passwordFromAuthData, sameAuthData } from './auth.js';
import { IPPROTO_VRRP, internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader } from './checksum.js';
import { HMAC_TRAILER_LENGTH } from './hmac-trailer.js';
import { formatIp, formatIpv4, parseIp } from './ip.js';
import {
  VRRP_HEADER_LENGTH,
  VRRP_TTL,
  VRRP_TYPE_ADVERTISEMENT,
  addressLength,
  messageLength,
  type Advertisement,
  type ChecksumForm,
  type DecodeExpectations,
  type DecodeResult,
  type DropReason,
  type ReceiveContext,
  type VrrpAuth,
} from './vrrp-types.js';

function drop(reason: DropReason, detail: string): DecodeResult & { ok: false } {
  return { ok: false, reason, detail };
}

const AUTH_NAMES: Readonly<Record<number, string>> = { 0: 'none (0)', 1: 'simple password (1)' };
function authName(type: number): string {
  return AUTH_NAMES[type] ?? `unknown (${type})`;
}

/** Which checksum form verifies, or undefined if none does. */
function verifyChecksum(
  msg: Uint8Array,
  version: number,
  ctx: ReceiveContext,
): ChecksumForm | undefined {
  if (version === 2) return internetChecksum(msg) === 0 ? 'v2' : undefined;
  const src = parseIp(ctx.src, ctx.family);
  const dst = parseIp(ctx.dst, ctx.family);
  if (ctx.family === 6) {
    if (src === undefined || dst === undefined) return undefined;
    return internetChecksum(ipv6PseudoHeader(src, dst, IPPROTO_VRRP, msg.length), msg) === 0
      ? 'v3-ipv6'
      : undefined;
  }
  if (
    src !== undefined &&
    dst !== undefined &&
    internetChecksum(ipv4PseudoHeader(src, dst, IPPROTO_VRRP, msg.length), msg) === 0
  ) {
    return 'v3-pseudo';
  }
  return internetChecksum(msg) === 0 ? 'v3-no-pseudo' : undefined;
}

/**
 * Decode the VRRP message `msg` (the bytes after the IP header) received as described by `ctx`.
 * `ctx.src`/`ctx.dst` are only used for the pseudo-header; a text that is not an address of
 * `ctx.family` makes a v3 pseudo-header checksum fail rather than throw.
 */
export function decodeAdvertisement(
  msg: Uint8Array,
  ctx: ReceiveContext,
  expect: DecodeExpectations = {},
): DecodeResult {
  const ipName = ctx.family === 4 ? 'IPv4 TTL' : 'IPv6 hop limit';
  if (msg.length < VRRP_HEADER_LENGTH) {
    return drop('too-short', `VRRP message is ${msg.length} bytes; the header alone is ${VRRP_HEADER_LENGTH}`);
  }
  if (expect.anyTtl !== true && ctx.ttl !== VRRP_TTL) return drop('bad-ttl', `${ipName} is ${ctx.ttl}; should be ${VRRP_TTL}`);

  const b0 = msg[0] ?? 0;
  const version = b0 >>> 4;
  const type = b0 & 0x0f;
  if (version !== 2 && version !== 3) return drop('bad-version', `VRRP version is ${version}; should be 2 or 3`);
  if (type !== VRRP_TYPE_ADVERTISEMENT) {
    return drop('bad-type', `VRRP packet type is ${type}; should be ${VRRP_TYPE_ADVERTISEMENT} (ADVERTISEMENT)`);
  }
  if (version === 2 && ctx.family === 6) {
    return drop('bad-version', 'VRRP version 2 received over IPv6; VRRPv2 is IPv4 only');
  }

  const count = msg[3] ?? 0;
  const needed = messageLength(version, ctx.family, count);
  if (msg.length < needed) {
    return drop(
      'bad-length',
      `VRRP message is ${msg.length} bytes; ${count} IPv${ctx.family} address(es) need ${needed}`,
    );
  }
  if (expect.version !== undefined && expect.version !== version) {
    return drop('bad-version', `VRRP version is ${version}; this instance runs version ${expect.version}`);
  }

  const body = msg.subarray(0, needed);
  const signed = msg.length === needed + HMAC_TRAILER_LENGTH
    ? { message: body, trailer: msg.subarray(needed, needed + HMAC_TRAILER_LENGTH) }
    : undefined;
  const step = addressLength(ctx.family);
  const addrEnd = VRRP_HEADER_LENGTH + count * step;
  let auth: VrrpAuth | undefined;
  if (version === 2) {
    const authType = msg[4] ?? 0;
    const data = body.subarray(addrEnd, addrEnd + AUTH_DATA_LENGTH);
    if (expect.auth !== undefined) {
      if (authType !== expect.auth.type) {
        return drop(
          'auth-type-mismatch',
          `VRRPv2 auth type is ${authName(authType)}; this instance uses ${authName(expect.auth.type)}`,
        );
      }
      if (expect.auth.type === 1 && !sameAuthData(data, authData(expect.auth))) {
        return drop('auth-mismatch', 'VRRPv2 simple password differs from this instance\'s password');
      }
    } else if (authType !== 0 && authType !== 1) {
      return drop('bad-auth-type', `VRRPv2 auth type is ${authName(authType)}; should be 0 (none) or 1 (simple password)`);
    }
    auth = authType === 1 ? { type: 1, password: passwordFromAuthData(data) } : { type: 0 };
  }

  // IPv6: the sender's kernel (IPV6_CHECKSUM) summed the whole payload, trailer included.
  const summed = signed !== undefined && ctx.family === 6 ? msg.subarray(0, needed + HMAC_TRAILER_LENGTH) : body;
  const checksumForm = verifyChecksum(summed, version, ctx);
  if (checksumForm === undefined) {
    const got = (((body[6] ?? 0) << 8) | (body[7] ?? 0)).toString(16).padStart(4, '0');
    const how =
      version === 2
        ? 'over the message'
        : ctx.family === 6
          ? 'with the IPv6 pseudo-header'
          : 'with or without the IPv4 pseudo-header';
    return drop('bad-checksum', `VRRPv${version} checksum 0x${got} does not verify ${how}`);
  }

  const vrid = msg[1] ?? 0;
  if (vrid === 0) return drop('bad-vrid', 'VRID is 0; should be 1..255');
  const intervalCs =
    version === 2 ? (msg[5] ?? 0) * 100 : (((msg[4] ?? 0) & 0x0f) << 8) | (msg[5] ?? 0);
  if (intervalCs === 0) return drop('bad-interval', 'advertisement interval is 0; should be at least 1');

  const addresses: string[] = [];
  for (let off = VRRP_HEADER_LENGTH; off < addrEnd; off += step) {
    addresses.push(formatIp(body.subarray(off, off + step)));
  }
  const base = {
    version,
    family: ctx.family,
    vrid,
    priority: msg[2] ?? 0,
    maxAdvertIntervalCs: intervalCs,
    addresses,
  } as const;
  const advert: Advertisement = auth === undefined ? base : { ...base, auth };
  return signed === undefined ? { ok: true, advert, checksumForm } : { ok: true, advert, checksumForm, signed };
}

/** The IPv4 header fields a receiver needs. */
export interface Ipv4HeaderInfo {
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  /** IHL * 4, options included. */
  readonly headerLength: number;
}

/** Header fields not yet known (the header itself did not parse). */
interface NoIpv4Header {
  readonly src: undefined;
  readonly dst: undefined;
  readonly ttl: undefined;
  readonly headerLength: undefined;
}
const NO_HEADER: NoIpv4Header = { src: undefined, dst: undefined, ttl: undefined, headerLength: undefined };

/**
 * `DecodeResult` plus the IPv4 header fields (`src`, `dst`, `ttl`, `headerLength`): always set
 * on success; on failure set once the header has parsed, undefined before.
 */
export type DatagramDecodeResult =
  | (DecodeResult & { readonly ok: true } & Ipv4HeaderInfo)
  | (DecodeResult & { readonly ok: false } & (Ipv4HeaderInfo | NoIpv4Header));

/**
 * Decode what a raw IPv4 socket (protocol 112) delivers on Linux: the IPv4 header as on the wire
 * (options per IHL, total length in network order), then the VRRP message. Bytes past the total
 * length are ignored. Checks the header checksum; rejects fragments (the kernel reassembles
 * before delivery, so a fragment here means a malformed datagram).
 */
export function decodeIpv4Datagram(
  datagram: Uint8Array,
  expect: DecodeExpectations = {},
): DatagramDecodeResult {
  if (datagram.length < 20) {
    return { ...drop('too-short', `IPv4 datagram is ${datagram.length} bytes; the header alone is 20`), ...NO_HEADER };
  }
  const b0 = datagram[0] ?? 0;
  const bad = (detail: string): DatagramDecodeResult => ({ ...drop('bad-ip-header', detail), ...NO_HEADER });
  if (b0 >>> 4 !== 4) return bad(`IP version is ${b0 >>> 4}; should be 4`);
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < 20) return bad(`IPv4 header length is ${headerLength}; should be at least 20`);
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const totalLength = view.getUint16(2);
  if (totalLength < headerLength || totalLength > datagram.length) {
    return bad(
      `IPv4 total length is ${totalLength}; header is ${headerLength} and ${datagram.length} bytes arrived`,
    );
  }
  const fragment = view.getUint16(6);
  if ((fragment & 0x3fff) !== 0) {
    return bad(`IPv4 fragment (flags/offset 0x${fragment.toString(16)}); VRRP adverts are never fragmented`);
  }
  if (internetChecksum(datagram.subarray(0, headerLength)) !== 0) return bad('IPv4 header checksum does not verify');

  const ip: Ipv4HeaderInfo = {
    src: formatIpv4(datagram.subarray(12, 16)),
    dst: formatIpv4(datagram.subarray(16, 20)),
    ttl: datagram[8] ?? 0,
    headerLength,
  };
  const protocol = datagram[9] ?? 0;
  if (protocol !== IPPROTO_VRRP) {
    return { ...drop('bad-protocol', `IPv4 protocol is ${protocol}; should be ${IPPROTO_VRRP} (VRRP)`), ...ip };
  }
  const result = decodeAdvertisement(
    datagram.subarray(headerLength, totalLength),
    { family: 4, src: ip.src, dst: ip.dst, ttl: ip.ttl },
    expect,
  );
  return result.ok ? { ...result, ...ip } : { ...result, ...ip };
}
