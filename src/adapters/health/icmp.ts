/**
 * ICMP echo ("ping") with the `raw-socket` package: one echo request, healthy when the matching
 * echo reply arrives before `signal` fires. Like the other checkers it never rejects.
 *
 * - IPv4: a raw IPPROTO_ICMP socket; the checksum is computed here. A raw IPv4 socket delivers
 *   whole datagrams, so the IP header (IHL * 4 bytes) is skipped before reading the ICMP header.
 * - IPv6: a raw IPPROTO_ICMPV6 socket; Linux always computes the ICMPv6 checksum (pseudo-header
 *   included) for this protocol (RFC 3542 section 3.1), so the field is sent as zero. The socket
 *   delivers the ICMPv6 message without the IPv6 header.
 * - The reply is matched on type (0 / 129), identifier and sequence (both random) and the source
 *   address; every other ICMP message the raw socket sees (our own request on loopback, other
 *   processes' pings, errors) is ignored.
 * - Needs root or CAP_NET_RAW: without it the result is `ok: false` saying so.
 * - A name that is not an IP address is resolved first (first address, any family).
 * The socket is closed in every case (reply, send error, socket error, abort).
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import { createRequire } from 'node:module';
import { errorText, isTimeout, settleOnce, stopwatch, type CheckResult } from './common.js';

const require = createRequire(import.meta.url);
// raw-socket ships no types; this is the part of its API used here.
interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, from: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, addr: string, before: null, after: (err: Error | null, bytes: number) => void): void;
  close(): void;
}
interface RawModule {
  createSocket(opts: { addressFamily: number; protocol: number; bufferSize?: number }): RawSocket;
  createChecksum(...bufs: Buffer[]): number;
  writeChecksum(buf: Buffer, offset: number, checksum: number): Buffer;
  AddressFamily: { IPv4: number; IPv6: number };
  Protocol: { ICMP: number; ICMPv6: number };
}
const raw = require('raw-socket') as RawModule;

export const ICMP_ECHO_REQUEST = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

/** Payload after the 8-byte ICMP header (56 bytes, as ping(8) sends). */
const PAYLOAD = Buffer.from('haagent-witness-icmp-echo-'.padEnd(56, '.'));

/** An echo request: type, code 0, checksum (IPv4 only; 0 for IPv6: the kernel fills it), id, seq, payload. */
export function echoRequest(v6: boolean, id: number, seq: number): Buffer {
  const buf = Buffer.alloc(8 + PAYLOAD.length);
  buf.writeUInt8(v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO_REQUEST, 0);
  buf.writeUInt16BE(id, 4);
  buf.writeUInt16BE(seq, 6);
  PAYLOAD.copy(buf, 8);
  if (!v6) raw.writeChecksum(buf, 2, raw.createChecksum(buf));
  return buf;
}

/**
 * True when `datagram` (as a raw socket delivers it: IPv4 header first, IPv6 without one) is an
 * echo reply carrying `id` and `seq`.
 */
export function isEchoReply(datagram: Buffer, v6: boolean, id: number, seq: number): boolean {
  let off = 0;
  if (!v6) {
    if (datagram.length < 20 || datagram[0] === undefined || datagram[0] >> 4 !== 4) return false;
    off = (datagram[0] & 0x0f) * 4;
  }
  if (datagram.length < off + 8) return false;
  return datagram.readUInt8(off) === (v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHO_REPLY)
    && datagram.readUInt8(off + 1) === 0
    && datagram.readUInt16BE(off + 4) === id
    && datagram.readUInt16BE(off + 6) === seq;
}

function abortText(signal: AbortSignal): string {
  return isTimeout(signal.reason) ? 'timed out' : 'aborted';
}

function permissionText(err: unknown): string | undefined {
  const text = errorText(err);
  return /EPERM|EACCES|not permitted|permission denied/i.test(text)
    ? `cannot open a raw ICMP socket (needs root or CAP_NET_RAW): ${text}`
    : undefined;
}

/** Canonical text of an address (zone dropped, IPv6 compressed) to compare with what raw-socket reports. */
function canonical(address: string): string {
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) return bare;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare.toLowerCase();
  }
}

/** The address itself when it is a literal, else its first DNS address; undefined when `signal` fires first. */
async function resolveAddress(address: string, signal: AbortSignal): Promise<string | undefined> {
  if (isIP(address.replace(/%.*$/, '')) !== 0) return address;
  let onAbort = (): void => undefined;
  const aborted = new Promise<undefined>((res) => { onAbort = () => res(undefined); });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([lookup(address).then((r) => r.address), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** One ICMP echo to `address` (IPv4 or IPv6 literal, or a name); ok when the reply arrives before `signal` fires. */
export async function ping(address: string, signal: AbortSignal): Promise<CheckResult> {
  const elapsed = stopwatch();
  const what = `ping ${address}`;
  if (signal.aborted) return { ok: false, detail: `${what}: ${abortText(signal)}`, latencyMs: elapsed() };
  let resolved: string | undefined;
  try {
    resolved = await resolveAddress(address, signal);
  } catch (err) {
    return { ok: false, detail: `${what}: cannot resolve: ${errorText(err)}`, latencyMs: elapsed() };
  }
  if (resolved === undefined) return { ok: false, detail: `${what}: ${abortText(signal)} resolving the name`, latencyMs: elapsed() };
  const target = resolved;
  return settleOnce(signal, (finish, onAbort) => {
    if (signal.aborted) {
      finish({ ok: false, detail: `${what}: ${abortText(signal)}`, latencyMs: elapsed() });
      return;
    }
    const v6 = isIPv6(target.replace(/%.*$/, ''));
    let sock: RawSocket;
    try {
      sock = raw.createSocket({
        addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4,
        protocol: v6 ? raw.Protocol.ICMPv6 : raw.Protocol.ICMP,
        bufferSize: 65535,
      });
    } catch (err) {
      finish({ ok: false, detail: `${what}: ${permissionText(err) ?? `cannot open a raw ICMP socket: ${errorText(err)}`}`, latencyMs: elapsed() });
      return;
    }
    let closed = false;
    const done = (ok: boolean, reason: string): void => {
      finish({ ok, detail: `${what}: ${reason}`, latencyMs: elapsed() });
      if (!closed) {
        closed = true;
        try { sock.close(); } catch { /* already closed by raw-socket after an error */ }
      }
    };
    const rand = randomBytes(4);
    const id = rand.readUInt16BE(0);
    const seq = rand.readUInt16BE(2);
    onAbort(() => done(false, abortText(signal)));
    sock.on('error', (err) => done(false, errorText(err)));
    sock.on('message', (buf, from) => {
      if (isEchoReply(buf, v6, id, seq) && canonical(from) === canonical(target)) done(true, 'echo reply');
    });
    const req = echoRequest(v6, id, seq);
    sock.send(req, 0, req.length, target, null, (err) => {
      if (err) done(false, `send failed: ${errorText(err)}`);
    });
  });
}
