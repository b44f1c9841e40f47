/**
 * VRRP over IPv6 (IP protocol 112, group ff02::12; RFC 9568 §5.1.2) through the native addon
 * (native/vrrp6_socket.c): one socket per heartbeat interface, shared by every IPv6 instance
 * on it.
 *
 * Contract:
 * - bound to the interface (SO_BINDTODEVICE) and a member of ff02::12 on it only;
 * - sends with hop limit 255 (multicast and unicast), source = `sourceLinkLocal` (set per
 *   packet with IPV6_PKTINFO, so the kernel never picks another address), never looped back;
 * - delivers every received VRRP message (the bytes after the IPv6 header) with the sender's
 *   address, the destination it was sent to (ff02::12 or our unicast address) and the hop limit
 *   it arrived with (-1 if the kernel did not say). It does NOT check the hop limit, the
 *   checksum or anything else: the codec (decodeAdvertisement with `ttl: hopLimit`) does, and
 *   must be given these values for the IPv6 pseudo-header;
 * - the kernel neither computes nor verifies the VRRP checksum (IPV6_CHECKSUM is not set).
 * Errors are `HaagentError('HA_ERR_SOCKET')` naming the interface, the native error (`code`
 * such as 'ENODEV' or 'EPERM', `errno`, `syscall`) as `cause`. Needs CAP_NET_RAW.
 * Like a dgram socket, an open socket keeps the process alive until `close()`.
 */
import { HaagentError } from '../core/errors.js';
import { describeNative, loadBinding } from './packet-socket.js';
import type { VrrpTransport } from './ports.js';

export const VRRP_MULTICAST_V6 = 'ff02::12';

/** An opaque handle from vrrp6Open. */
type Vrrp6Handle = object;

/** The addon's IPv6 VRRP exports, as documented in native/vrrp6_socket.c. */
interface Vrrp6Binding {
  vrrp6Open(
    ifname: string,
    onMessage: (msg: Buffer, src: string, dst: string, hopLimit: number) => void,
    onError: (err: Error) => void,
  ): Vrrp6Handle;
  vrrp6Send(handle: Vrrp6Handle, msg: Uint8Array, dst: string, src: string): number;
  vrrp6Close(handle: Vrrp6Handle): void;
}

/** One received VRRP message and what the kernel told us about its IPv6 header. */
export interface Vrrp6Message {
  /** The VRRP message (after the IPv6 header), a private copy. */
  readonly message: Uint8Array;
  /** Sender address without zone, e.g. 'fe80::1'. */
  readonly src: string;
  /** Destination address: 'ff02::12' or our own unicast address; '' if not reported. */
  readonly dst: string;
  /** IPv6 hop limit on arrival (must be 255, RFC 9568 §7.1); -1 if not reported. */
  readonly hopLimit: number;
}

function binding(ifname: string): Vrrp6Binding {
  let native: unknown;
  try {
    native = loadBinding();
  } catch (cause) {
    throw new HaagentError('HA_ERR_SOCKET', `cannot open an IPv6 VRRP socket on interface ${ifname}: ${describeNative(cause)}`, { cause });
  }
  const b = native as Partial<Vrrp6Binding>;
  if (typeof b.vrrp6Open !== 'function' || typeof b.vrrp6Send !== 'function' || typeof b.vrrp6Close !== 'function') {
    throw new HaagentError(
      'HA_ERR_SOCKET',
      `cannot open an IPv6 VRRP socket on interface ${ifname}: the native addon has no vrrp6 support (rebuild it: \`npx node-gyp rebuild -C native\`)`,
    );
  }
  return native as Vrrp6Binding;
}

export class Vrrp6Socket implements VrrpTransport {
  readonly ifname: string;
  readonly sourceLinkLocal: string;
  #handle: Vrrp6Handle | undefined;
  readonly #native: Vrrp6Binding;

  private constructor(ifname: string, sourceLinkLocal: string, handle: Vrrp6Handle, native: Vrrp6Binding) {
    this.ifname = ifname;
    this.sourceLinkLocal = sourceLinkLocal;
    this.#handle = handle;
    this.#native = native;
  }

  /**
   * Opens the socket on `ifname` and starts receiving. `sourceLinkLocal` is the interface's
   * link-local address (fe80::...), used as the source of every advert; it must be assigned and
   * no longer tentative, or sends fail. `onMessage` and `onError` are not called after close().
   * Throws HA_ERR_SOCKET (ENODEV for a missing interface, EPERM without CAP_NET_RAW, ...).
   */
  static open(
    ifname: string,
    sourceLinkLocal: string,
    onMessage: (m: Vrrp6Message) => void,
    onError: (err: Error) => void,
  ): Vrrp6Socket {
    const native = binding(ifname);
    let handle: Vrrp6Handle;
    try {
      handle = native.vrrp6Open(
        ifname,
        (message, src, dst, hopLimit) => onMessage({ message, src, dst, hopLimit }),
        (cause) => onError(new HaagentError('HA_ERR_SOCKET', `receiving VRRP on interface ${ifname} failed: ${describeNative(cause)}`, { cause })),
      );
    } catch (cause) {
      throw new HaagentError('HA_ERR_SOCKET', `cannot open an IPv6 VRRP socket on interface ${ifname}: ${describeNative(cause)}`, { cause });
    }
    return new Vrrp6Socket(ifname, sourceLinkLocal, handle, native);
  }

  /**
   * Sends one VRRP message (checksum already computed for `sourceLinkLocal` -> `dst`) to `dst`:
   * ff02::12 or a unicast peer. The send itself is synchronous and non-blocking; the promise
   * only reports its result (a full send buffer is an EAGAIN rejection, not a wait).
   */
  send(message: Uint8Array, dst: string): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) {
      return Promise.reject(new HaagentError('HA_ERR_SOCKET', `cannot send VRRP on interface ${this.ifname}: the IPv6 VRRP socket is closed`));
    }
    let sent: number;
    try {
      sent = this.#native.vrrp6Send(handle, message, dst, this.sourceLinkLocal);
    } catch (cause) {
      return Promise.reject(
        new HaagentError(
          'HA_ERR_SOCKET',
          `sending a VRRP advert from ${this.sourceLinkLocal} to ${dst} on interface ${this.ifname} failed: ${describeNative(cause)}`,
          { cause },
        ),
      );
    }
    if (sent !== message.length) {
      return Promise.reject(new HaagentError('HA_ERR_SOCKET', `short send on interface ${this.ifname}: ${sent} of ${message.length} bytes`));
    }
    return Promise.resolve();
  }

  /** Stops receiving and closes the socket. Idempotent; safe to call from inside onMessage. */
  close(): void {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    try {
      this.#native.vrrp6Close(handle);
    } catch (cause) {
      throw new HaagentError('HA_ERR_SOCKET', `cannot close the IPv6 VRRP socket on interface ${this.ifname}: ${describeNative(cause)}`, { cause });
    }
  }
}
