/**
 * VRRP over IP protocol 112 (IPv4): one transport per heartbeat interface, shared by every
 * instance (VRID) on it. Two sockets: the `raw-socket` package receives, a send-only native
 * socket (vrrp4-send.ts) sends. raw-socket's send queues each datagram and sends it from a
 * writable event (two epoll_ctl calls and a loop iteration per advert); the native send is one
 * sendto.
 *
 * Contract:
 * - bound to the interface (SO_BINDTODEVICE): only adverts arriving on it are seen;
 * - joins 224.0.0.18 on that interface only (IP_ADD_MEMBERSHIP with ip_mreqn.ifindex);
 * - multicast TTL 255, unicast TTL 255, no loopback of our own multicast (both sockets);
 * - a receive buffer for a burst of adverts of every instance at once (VRRP_RCVBUF_BYTES);
 * - delivers whole IPv4 datagrams (header included: a raw IPv4 socket gives it) so the codec can
 *   check TTL; this module does not decode or filter anything itself;
 * - `send` is done when it returns: the promise only carries its result (HA_ERR_SOCKET);
 * - `repeat` hands an advert to a native train on the send socket (advert-train.ts); closing
 *   the transport stops its trains first.
 * IPv6 (ff02::12) is not carried here: raw-socket cannot read the hop limit (no recvmsg), and
 * accepting adverts without the hop-limit-255 check would be a security hole.
 */
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { HaagentError } from '../core/errors.js';
import type { AdvertRepeat, TrainReport, VrrpTransport } from './ports.js';
import { Vrrp4SendSocket } from './vrrp4-send.js';

const require = createRequire(import.meta.url);
// raw-socket ships no types; this is the part of its API we use.
interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, from: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  setOption(level: number, option: number, value: Buffer | number, length?: number): void;
  close(): void;
}
interface RawModule {
  createSocket(opts: { addressFamily: number; protocol: number; bufferSize?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
}
const raw = require('raw-socket') as RawModule;

export const VRRP_PROTOCOL = 112;
export const VRRP_MULTICAST_V4 = '224.0.0.18';

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
/**
 * Receive buffer asked for (the kernel doubles it for its bookkeeping). Masters advertise on a
 * shared tick grid, so a backup gets the adverts of all instances of an interface (up to 255)
 * in one burst. The kernel charges a small datagram about 830 bytes, so its default buffer
 * (net.core.rmem_default, 208 KiB) holds 256 of them: one tick's burst with nothing to spare if
 * the agent reads late (a collection, a moment without CPU), and the next tick's adverts would
 * be dropped. This one holds about 2500. SO_RCVBUFFORCE (root) goes past net.core.rmem_max;
 * without the privilege the kernel caps SO_RCVBUF at rmem_max.
 */
export const VRRP_RCVBUF_BYTES = 1 << 20;
const IPPROTO_IP = 0;
const IP_TTL = 2;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;

/** struct ip_mreqn { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; } */
function ipMreqn(group: string, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  group.split('.').forEach((o, i) => b.writeUInt8(Number(o), i));
  if (endianness() === 'LE') b.writeInt32LE(ifindex, 8);
  else b.writeInt32BE(ifindex, 8);
  return b;
}

export class RawVrrpSocket implements VrrpTransport {
  private readonly sock: RawSocket;
  private readonly sender: Vrrp4SendSocket;
  private closed = false;

  private constructor(readonly ifname: string, sock: RawSocket, sender: Vrrp4SendSocket) {
    this.sock = sock;
    this.sender = sender;
  }

  /** Opens, binds and joins. `ifindex` comes from netlink (the interface must exist). */
  static open(ifname: string, ifindex: number, onDatagram: (datagram: Uint8Array) => void, onError: (err: Error) => void): RawVrrpSocket {
    const sender = Vrrp4SendSocket.open(ifname, ifindex);
    let sock: RawSocket;
    try {
      sock = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: VRRP_PROTOCOL, bufferSize: 65535 });
    } catch (cause) {
      sender.close();
      throw new HaagentError('HA_ERR_SOCKET', `cannot open a raw VRRP socket (needs root or CAP_NET_RAW): ${String(cause)}`, { cause });
    }
    try {
      const name = Buffer.from(`${ifname}\0`);
      sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
      try {
        sock.setOption(SOL_SOCKET, SO_RCVBUFFORCE, VRRP_RCVBUF_BYTES);
      } catch {
        sock.setOption(SOL_SOCKET, SO_RCVBUF, VRRP_RCVBUF_BYTES);
      }
      sock.setOption(IPPROTO_IP, IP_TTL, 255);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_TTL, 255);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
      const ifreq = ipMreqn('0.0.0.0', ifindex);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, ifreq, ifreq.length);
      const mreq = ipMreqn(VRRP_MULTICAST_V4, ifindex);
      sock.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq, mreq.length);
    } catch (cause) {
      sock.close();
      sender.close();
      throw new HaagentError('HA_ERR_SOCKET', `cannot set up the VRRP socket on ${ifname}: ${String(cause)}`, { cause });
    }
    const s = new RawVrrpSocket(ifname, sock, sender);
    sock.on('message', (buf) => onDatagram(new Uint8Array(buf.buffer, buf.byteOffset, buf.length)));
    sock.on('error', (err) => { if (!s.closed) onError(err); });
    return s;
  }

  send(message: Uint8Array, dst: string): Promise<void> {
    if (this.closed) return Promise.reject(new HaagentError('HA_ERR_SOCKET', `VRRP socket on ${this.ifname} is closed`));
    try {
      this.sender.send(message, dst);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return Promise.resolve();
  }

  repeat(id: number, message: Uint8Array, dsts: readonly string[], plan: AdvertRepeat): TrainReport {
    if (this.closed) throw new HaagentError('HA_ERR_SOCKET', `VRRP socket on ${this.ifname} is closed`);
    return this.sender.repeat(id, message, dsts, plan);
  }

  trainReport(id: number, stop: boolean): TrainReport {
    return this.sender.trainReport(id, stop);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    this.sender.close();
  }
}
