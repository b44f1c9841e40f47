/**
 * UDP transport of peer hellos (src/core/peer/hello.ts): one socket per heartbeat path.
 *
 * Contract:
 * - bound to `localAddress:port`, the node's own address on that path's interface. Binding to
 *   the address (not 0.0.0.0) keeps the hellos on that network without SO_BINDTODEVICE, and
 *   makes the kernel pick that address as the source. IPv6 link-local addresses carry their
 *   scope (`fe80::1%eth1`); a link-local peer given without a scope gets the local one.
 * - the address must already be configured (and, for IPv6, past DAD): otherwise `open` rejects
 *   (EADDRNOTAVAIL) and the caller retries later. A link that loses carrier keeps its address,
 *   so the socket survives link flaps; sends fail meanwhile and are reported, not thrown.
 * - no DNS: addresses are IP literals, checked before use.
 * - GTSM (RFC 5082): every datagram leaves with TTL / hop limit 255 (dgram setTTL, which sets
 *   IP_TTL or IPV6_UNICAST_HOPS) and the kernel drops every received one that arrived with less
 *   (a socket filter attached through the native addon, native/min_ttl.c; Linux does not
 *   enforce IP_MINTTL on UDP sockets): a hello can only come from a host on the same link,
 *   never from one routed from elsewhere. The peers of a path
 *   must therefore be on the same link (that is what a heartbeat path is). Refusal is loud:
 *   when the socket options cannot be set (addon missing, kernel refuses), `open` rejects with
 *   HA_ERR_SOCKET instead of running without the filter. `{ gtsm: false }` exists for tests that
 *   talk over loopback from a plain socket.
 * - delivers whole datagrams; it does not decode, authenticate or filter further (the codec and
 *   the daemon do).
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { errorMessage, HaagentError } from '../core/errors.js';
import { hostPort, ipFamily } from '../core/packet/ip.js';
import { loadBinding } from './packet-socket.js';

/** TTL / hop limit of sent hellos and the least accepted on receipt (GTSM, RFC 5082). */
export const PEER_TTL = 255;

/** The addon's export, as documented in native/min_ttl.c. */
interface MinTtlBinding {
  setMinTtl(fd: number, family: 4 | 6, minTtl: number): void;
}

/**
 * The file descriptor behind a bound dgram socket. Node has no public API for it; on Linux the
 * libuv handle carries it as `fd`. The handle is reached through the socket's internal state
 * symbol (the `_handle` accessor does the same but prints a deprecation warning), falling back
 * to `_handle`. Undefined when neither exposes a descriptor (another platform or Node version):
 * the caller then refuses to run without GTSM.
 */
function socketFd(sock: Socket): number | undefined {
  const bag = sock as unknown as Record<symbol | string, unknown>;
  const stateKey = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const state = stateKey === undefined ? undefined : bag[stateKey];
  let handle = typeof state === 'object' && state !== null ? (state as { handle?: unknown }).handle : undefined;
  if (handle === undefined || handle === null) handle = bag['_handle'];
  const fd = typeof handle === 'object' && handle !== null ? (handle as { fd?: unknown }).fd : undefined;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

/** Sets TTL 255 on send and the minimum of 255 on receive; throws HA_ERR_SOCKET. */
function applyGtsm(sock: Socket, family: 4 | 6, where: string): void {
  try {
    sock.setTTL(PEER_TTL);
    const fd = socketFd(sock);
    if (fd === undefined) throw new HaagentError('HA_ERR_SOCKET', 'the socket\'s file descriptor is not reachable on this platform');
    const native = loadBinding() as unknown as Partial<MinTtlBinding>;
    if (typeof native.setMinTtl !== 'function') throw new HaagentError('HA_ERR_SOCKET', 'the native addon has no setMinTtl (rebuild it: `npx node-gyp rebuild -C native`)');
    native.setMinTtl(fd, family, PEER_TTL);
  } catch (cause) {
    const why = errorMessage(cause);
    throw new HaagentError('HA_ERR_SOCKET', `peer socket on ${where}: cannot enforce TTL ${PEER_TTL} (GTSM): ${why}`, { cause });
  }
}

export interface PeerDatagramSource {
  readonly address: string;
  readonly port: number;
}

interface SplitAddress {
  readonly address: string;
  readonly scope: string | undefined;
  readonly family: 4 | 6;
}

/** `fe80::1%eth0` -> address, scope and family; undefined when it is not an IP literal. */
function splitAddress(text: string): SplitAddress | undefined {
  const pct = text.indexOf('%');
  const address = pct === -1 ? text : text.slice(0, pct);
  const scope = pct === -1 ? undefined : text.slice(pct + 1);
  const family = ipFamily(address);
  if (family === undefined) return undefined;
  if (scope !== undefined && (family !== 6 || scope.length === 0 || scope.includes('%'))) return undefined;
  return { address, scope, family };
}

function isLinkLocalV6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

function validPort(port: number, allowZero: boolean): boolean {
  return Number.isInteger(port) && port >= (allowZero ? 0 : 1) && port <= 65_535;
}

export class PeerSocket {
  #closed = false;
  readonly #sock: Socket;
  readonly #local: SplitAddress;
  readonly #localText: string;

  private constructor(sock: Socket, local: SplitAddress, localText: string) {
    this.#sock = sock;
    this.#local = local;
    this.#localText = localText;
  }

  /**
   * Opens a UDP socket ('udp4' or 'udp6' by the address family) bound to `localAddress:port`
   * (port 0 = ephemeral, for tests). Rejects with HA_ERR_INVALID_ARGUMENT for text that is not
   * an IP literal or a bad port, HA_ERR_SOCKET when the bind fails (cause: the Node error).
   * After it resolves, socket errors go to `onError`, and so does an exception thrown by
   * `onMessage` (wrapped as HA_ERR_INTERNAL) rather than crashing the process. GTSM is on
   * unless `opts.gtsm` is false; failing to set it rejects with HA_ERR_SOCKET (socket closed).
   */
  static open(
    localAddress: string,
    port: number,
    onMessage: (bytes: Uint8Array, from: PeerDatagramSource) => void,
    onError: (err: Error) => void,
    opts: { readonly gtsm?: boolean } = {},
  ): Promise<PeerSocket> {
    const local = splitAddress(localAddress);
    if (local === undefined) {
      return Promise.reject(new HaagentError('HA_ERR_INVALID_ARGUMENT', `peer socket: local address ${JSON.stringify(localAddress)} is not an IP address`));
    }
    if (!validPort(port, true)) {
      return Promise.reject(new HaagentError('HA_ERR_INVALID_ARGUMENT', `peer socket: port ${String(port)} is not 0..65535`));
    }
    return new Promise((resolve, reject) => {
      let sock: Socket;
      try {
        // No reuseAddr: two agents on one address/port would split the hellos between them.
        sock = createSocket({ type: local.family === 4 ? 'udp4' : 'udp6' });
      } catch (cause) {
        reject(new HaagentError('HA_ERR_SOCKET', `peer socket: cannot create a UDP socket for ${localAddress}: ${String(cause)}`, { cause }));
        return;
      }
      const self = new PeerSocket(sock, local, localAddress);
      const onBindError = (cause: Error): void => {
        self.#closed = true;
        try { sock.close(); } catch { /* already closed */ }
        reject(new HaagentError('HA_ERR_SOCKET', `peer socket: cannot bind ${hostPort(localAddress, port)}: ${cause.message}`, { cause }));
      };
      sock.once('error', onBindError);
      sock.once('listening', () => {
        sock.off('error', onBindError);
        if (opts.gtsm !== false) {
          try {
            applyGtsm(sock, local.family, hostPort(localAddress, port));
          } catch (err) {
            self.#closed = true;
            try { sock.close(); } catch { /* already closed */ }
            reject(err);
            return;
          }
        }
        sock.on('error', (cause: Error) => {
          if (self.#closed) return;
          onError(new HaagentError('HA_ERR_SOCKET', `peer socket on ${self.describeLocal()}: ${cause.message}`, { cause }));
        });
        sock.on('message', (buf, rinfo) => {
          if (self.#closed) return;
          try {
            onMessage(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), { address: rinfo.address, port: rinfo.port });
          } catch (cause) {
            onError(new HaagentError('HA_ERR_INTERNAL', `peer socket on ${self.describeLocal()}: message handler threw: ${String(cause)}`, { cause }));
          }
        });
        resolve(self);
      });
      try {
        sock.bind({ address: localAddress, port, exclusive: true });
      } catch (cause) {
        onBindError(cause instanceof Error ? cause : new Error(String(cause)));
      }
    });
  }

  /** The bound address (with scope, as given) and port (the real one when opened with 0). */
  get local(): PeerDatagramSource {
    let port = 0;
    try {
      port = this.#sock.address().port;
    } catch {
      // closed: report 0
    }
    return { address: this.#localText, port };
  }

  get closed(): boolean {
    return this.#closed;
  }

  private describeLocal(): string {
    return hostPort(this.#localText, this.local.port);
  }

  /**
   * Sends one datagram to `peer:port`. Never throws: every failure (closed socket, a peer that
   * is not an IP literal of the socket's family, a bad port, a kernel error such as
   * ENETUNREACH while the link is down) rejects with HaagentError('HA_ERR_SOCKET') naming the
   * local and the peer address, with the Node error as `cause` where there is one.
   */
  send(bytes: Uint8Array, peer: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (why: string, cause?: unknown): void => {
        const msg = `peer socket: sending ${bytes.length} bytes from ${this.#localText} to ${hostPort(peer, port)} failed: ${why}`;
        reject(cause === undefined ? new HaagentError('HA_ERR_SOCKET', msg) : new HaagentError('HA_ERR_SOCKET', msg, { cause }));
      };
      if (this.#closed) return fail('the socket is closed');
      const dst = splitAddress(peer);
      if (dst === undefined) return fail('the peer is not an IP address');
      if (dst.family !== this.#local.family) return fail(`the peer is IPv${dst.family} but the socket is IPv${this.#local.family}`);
      if (!validPort(port, false)) return fail('the port is not 1..65535');
      let target = peer;
      if (dst.family === 6 && dst.scope === undefined && isLinkLocalV6(dst.address) && this.#local.scope !== undefined) {
        target = `${dst.address}%${this.#local.scope}`;
      }
      try {
        this.#sock.send(bytes, port, target, (err) => {
          if (err) fail(err.message, err);
          else resolve();
        });
      } catch (cause) {
        fail(errorMessage(cause), cause);
      }
      return undefined;
    });
  }

  /** Closes the socket; later calls do nothing, later sends reject, no more callbacks fire. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#sock.close();
    } catch {
      // already closed by the runtime
    }
  }
}
