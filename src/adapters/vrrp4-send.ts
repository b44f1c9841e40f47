/**
 * The sending half of the IPv4 VRRP transport: a send-only raw IP protocol 112 socket per
 * heartbeat interface, opened by the native addon (native/vrrp4_send.c).
 *
 * Contract:
 * - the socket has the sending options the receiving socket (vrrp-socket.ts) has always had:
 *   bound to the interface, TTL 255 (unicast and multicast), multicast out of that interface,
 *   no loopback; the kernel builds the IPv4 header, so the wire bytes are the same;
 * - it receives nothing (a filter that accepts nothing is attached before it is bound);
 * - `send` is synchronous and never waits: a full send queue is an error (EAGAIN, ENOBUFS),
 *   reported as HaagentError('HA_ERR_SOCKET') naming the interface and destination, with the
 *   native error (`code`, `errno`, `syscall`) as its cause. A short send is an error too.
 * It does not check what it sends (the encoder builds adverts) nor where (the caller picks
 * 224.0.0.18 or a unicast peer).
 */
import { HaagentError } from '../core/errors.js';
import { hasTrains, scheduleTrain, trainReport } from './advert-train.js';
import { describeNative, loadBinding } from './packet-socket.js';
import { NO_TRAIN, type AdvertRepeat, type TrainReport } from './ports.js';

/** The addon's exports used here, as documented in native/vrrp4_send.c and packet_socket.c. */
export interface Vrrp4SendBinding {
  vrrp4Open(ifname: string, ifindex: number): number;
  vrrp4Send(fd: number, message: Uint8Array, dst: string): number;
  close(fd: number): void;
}

function binding(ifname: string): Vrrp4SendBinding {
  let native: unknown;
  try {
    native = loadBinding();
  } catch (cause) {
    throw new HaagentError('HA_ERR_SOCKET', `cannot open the VRRP send socket on ${ifname}: ${describeNative(cause)}`, { cause });
  }
  const b = native as Partial<Vrrp4SendBinding>;
  if (typeof b.vrrp4Open !== 'function' || typeof b.vrrp4Send !== 'function' || typeof b.close !== 'function') {
    throw new HaagentError(
      'HA_ERR_SOCKET',
      `cannot open the VRRP send socket on ${ifname}: the native addon has no IPv4 VRRP send (rebuild it: \`npx node-gyp rebuild -C native\`)`,
    );
  }
  return native as Vrrp4SendBinding;
}

export class Vrrp4SendSocket {
  readonly ifname: string;
  #fd: number | undefined;
  readonly #native: Vrrp4SendBinding;

  private constructor(ifname: string, fd: number, native: Vrrp4SendBinding) {
    this.ifname = ifname;
    this.#fd = fd;
    this.#native = native;
  }

  /** Opens the socket; `ifindex` is `ifname`'s index. Throws HA_ERR_SOCKET (EPERM without CAP_NET_RAW, ENODEV, ...). */
  static open(ifname: string, ifindex: number, native: Vrrp4SendBinding = binding(ifname)): Vrrp4SendSocket {
    try {
      return new Vrrp4SendSocket(ifname, native.vrrp4Open(ifname, ifindex), native);
    } catch (cause) {
      throw new HaagentError('HA_ERR_SOCKET', `cannot open a raw VRRP send socket on ${ifname} (needs root or CAP_NET_RAW): ${describeNative(cause)}`, { cause });
    }
  }

  /** Sends one VRRP message to `dst` now. Throws HA_ERR_SOCKET (see the module contract). */
  send(message: Uint8Array, dst: string): void {
    const fd = this.#fd;
    if (fd === undefined) throw new HaagentError('HA_ERR_SOCKET', `VRRP socket on ${this.ifname} is closed`);
    let sent: number;
    try {
      sent = this.#native.vrrp4Send(fd, message, dst);
    } catch (cause) {
      throw new HaagentError('HA_ERR_SOCKET', `sending a VRRP advert to ${dst} on ${this.ifname} failed: ${describeNative(cause)}`, { cause });
    }
    if (sent !== message.length) {
      throw new HaagentError('HA_ERR_SOCKET', `short send to ${dst} on ${this.ifname}: ${sent} of ${message.length} bytes`);
    }
  }

  /** Whether this socket can carry advert trains (the addon has them). */
  get canRepeat(): boolean {
    return hasTrains(this.#native);
  }

  /**
   * Train `id` repeats `message` to each of `dsts` on this socket (advert-train.ts), replacing
   * its earlier train; returns that one's report. Throws HA_ERR_SOCKET when the socket is
   * closed or the addon has no trains, and the addon's error for a bad argument.
   */
  repeat(id: number, message: Uint8Array, dsts: readonly string[], plan: AdvertRepeat): TrainReport {
    const fd = this.#fd;
    const native = this.#native;
    if (fd === undefined) throw new HaagentError('HA_ERR_SOCKET', `VRRP socket on ${this.ifname} is closed`);
    if (!hasTrains(native)) throw new HaagentError('HA_ERR_SOCKET', `the native addon has no advert trains (rebuild it: \`npx node-gyp rebuild -C native\`)`);
    return scheduleTrain(native, id, fd, message, dsts, plan);
  }

  /** What train `id` did since its last report; `stop` ends it. NO_TRAIN without trains. */
  trainReport(id: number, stop: boolean): TrainReport {
    const native = this.#native;
    return hasTrains(native) ? trainReport(native, id, stop) : NO_TRAIN;
  }

  /**
   * Closes the socket, after stopping every train on it. Idempotent. A failing close(2) is not
   * reported: the descriptor is gone either way.
   */
  close(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    const native = this.#native;
    if (hasTrains(native)) native.trainCancelFd(fd);
    try {
      this.#native.close(fd);
    } catch {
      // EBADF/EIO from close(2): nothing the caller could do; the descriptor is released.
    }
  }
}
