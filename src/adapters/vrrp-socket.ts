/**
 * VRRP over IP protocol 112 (IPv4) with the `raw-socket` package: one socket per heartbeat
 * interface, shared by every instance (VRID) on it.
 *
 * Contract:
 * - bound to the interface (SO_BINDTODEVICE): only adverts arriving on it are seen;
 * - joins 224.0.0.18 on that interface only (IP_ADD_MEMBERSHIP with ip_mreqn.ifindex);
 * - multicast TTL 255, unicast TTL 255, no loopback of our own multicast;
 * - delivers whole IPv4 datagrams (header included: a raw IPv4 socket gives it) so the codec can
 *   check TTL; this module does not decode or filter anything itself.
 * IPv6 (ff02::12) is not carried here: raw-socket cannot read the hop limit (no recvmsg), and
 * accepting adverts without the hop-limit-255 check would be a security hole.
 */
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { HaagentError } from '../core/errors.js';
import type { VrrpTransport } from './ports.js';

const require = createRequire(import.meta.url);
// raw-socket ships no types; this is the part of its API we use.
interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, from: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, addr: string, before: null, after: (err: Error | null, bytes: number) => void): void;
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
  private closed = false;

  private constructor(readonly ifname: string, sock: RawSocket) {
    this.sock = sock;
  }

  /** Opens, binds and joins. `ifindex` comes from netlink (the interface must exist). */
  static open(ifname: string, ifindex: number, onDatagram: (datagram: Uint8Array) => void, onError: (err: Error) => void): RawVrrpSocket {
    let sock: RawSocket;
    try {
      sock = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: VRRP_PROTOCOL, bufferSize: 65535 });
    } catch (cause) {
      throw new HaagentError('HA_ERR_SOCKET', `cannot open a raw VRRP socket (needs root or CAP_NET_RAW): ${String(cause)}`, { cause });
    }
    try {
      const name = Buffer.from(`${ifname}\0`);
      sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
      sock.setOption(IPPROTO_IP, IP_TTL, 255);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_TTL, 255);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
      const ifreq = ipMreqn('0.0.0.0', ifindex);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, ifreq, ifreq.length);
      const mreq = ipMreqn(VRRP_MULTICAST_V4, ifindex);
      sock.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq, mreq.length);
    } catch (cause) {
      sock.close();
      throw new HaagentError('HA_ERR_SOCKET', `cannot set up the VRRP socket on ${ifname}: ${String(cause)}`, { cause });
    }
    const s = new RawVrrpSocket(ifname, sock);
    sock.on('message', (buf) => onDatagram(new Uint8Array(buf.buffer, buf.byteOffset, buf.length)));
    sock.on('error', (err) => { if (!s.closed) onError(err); });
    return s;
  }

  send(message: Uint8Array, dst: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new HaagentError('HA_ERR_SOCKET', `VRRP socket on ${this.ifname} is closed`));
        return;
      }
      const buf = Buffer.from(message.buffer, message.byteOffset, message.length);
      this.sock.send(buf, 0, buf.length, dst, null, (err) => {
        if (err) reject(new HaagentError('HA_ERR_SOCKET', `sending a VRRP advert to ${dst} on ${this.ifname} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}
