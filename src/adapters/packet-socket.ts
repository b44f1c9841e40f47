/**
 * AF_PACKET send for gratuitous ARP / unsolicited NA: a typed wrapper over the native addon
 * (native/packet_socket.c, built by `npm ci` into native/build/Release/haagent_native.node).
 *
 * Contract: `send` puts one caller-built Ethernet frame on the wire of the interface the socket
 * was opened on, byte for byte. It does not build or check ARP/NA payloads (src/core/packet does)
 * and it never receives. Every failure is a `HaagentError('HA_ERR_ANNOUNCE')` naming the
 * interface, with the native error (`code` such as 'ENODEV' or 'EPERM', `errno`, `syscall`)
 * as its `cause`. Needs CAP_NET_RAW to open.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { HaagentError } from '../core/errors.js';
import { packageRoot } from './package-info.js';

/** The addon's exports, as documented in native/packet_socket.c. */
export interface PacketSocketBinding {
  open(ifname: string): number;
  send(fd: number, frame: Uint8Array): number;
  hwaddr(ifname: string, fd?: number): string;
  close(fd: number): void;
}

const ADDON_RELATIVE_PATH = join('native', 'build', 'Release', 'haagent_native.node');

let binding: PacketSocketBinding | undefined;

/** Loads the addon once, on first use, so importing this module never fails by itself. */
export function loadBinding(): PacketSocketBinding {
  if (binding !== undefined) return binding;
  let root: string;
  try {
    root = packageRoot();
  } catch (cause) {
    throw new HaagentError('HA_ERR_ANNOUNCE', `cannot find the haagent package root to load the native addon: ${(cause as Error).message}`, { cause });
  }
  const addonPath = join(root, ADDON_RELATIVE_PATH);
  try {
    binding = createRequire(import.meta.url)(addonPath) as PacketSocketBinding;
  } catch (cause) {
    throw new HaagentError(
      'HA_ERR_ANNOUNCE',
      `cannot load the native addon ${addonPath} (is it built? \`npm ci\` or \`npx node-gyp rebuild -C native\`)`,
      { cause },
    );
  }
  return binding;
}

/** "ENODEV: no such device"-style suffix from a native error, for messages. */
/**
 * "CODE: message" of an error from the addon (its `code` is the errno name, e.g. 'ENODEV'), for
 * the messages of every adapter over the addon; the message alone when it has no code or
 * already starts with it.
 */
export function describeNative(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.startsWith(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

/** An AF_PACKET raw socket bound to one interface, for sending complete Ethernet frames. */
export class PacketSocket {
  readonly ifname: string;
  #fd: number | undefined;
  readonly #native: PacketSocketBinding;

  private constructor(ifname: string, fd: number, native: PacketSocketBinding) {
    this.ifname = ifname;
    this.#fd = fd;
    this.#native = native;
  }

  /** Opens a socket bound to `ifname`. Throws HA_ERR_ANNOUNCE (ENODEV, EPERM, ...). */
  static open(ifname: string): PacketSocket {
    const native = loadBinding();
    try {
      return new PacketSocket(ifname, native.open(ifname), native);
    } catch (cause) {
      throw new HaagentError('HA_ERR_ANNOUNCE', `cannot open a packet socket on interface ${ifname}: ${describeNative(cause)}`, { cause });
    }
  }

  /**
   * Sends one complete Ethernet frame (destination MAC first). Does not pad to the 60-byte
   * Ethernet minimum; the builder does. Throws HA_ERR_ANNOUNCE on failure, a closed socket,
   * or a short send.
   */
  send(frame: Uint8Array): void {
    const fd = this.#fd;
    if (fd === undefined) {
      throw new HaagentError('HA_ERR_ANNOUNCE', `cannot send on interface ${this.ifname}: the packet socket is closed`);
    }
    let sent: number;
    try {
      sent = this.#native.send(fd, frame);
    } catch (cause) {
      throw new HaagentError('HA_ERR_ANNOUNCE', `cannot send a ${frame.length}-byte frame on interface ${this.ifname}: ${describeNative(cause)}`, { cause });
    }
    if (sent !== frame.length) {
      throw new HaagentError('HA_ERR_ANNOUNCE', `short send on interface ${this.ifname}: ${sent} of ${frame.length} bytes`);
    }
  }

  /**
   * The MAC of this socket's interface, asked through this socket (one ioctl, no socket opened
   * for it, unlike `interfaceMac`). Throws HA_ERR_ANNOUNCE, also on a closed socket.
   */
  mac(): string {
    const fd = this.#fd;
    if (fd === undefined) {
      throw new HaagentError('HA_ERR_ANNOUNCE', `cannot read the MAC address of interface ${this.ifname}: the packet socket is closed`);
    }
    try {
      return this.#native.hwaddr(this.ifname, fd);
    } catch (cause) {
      throw new HaagentError('HA_ERR_ANNOUNCE', `cannot read the MAC address of interface ${this.ifname}: ${describeNative(cause)}`, { cause });
    }
  }

  /** Closes the socket. Idempotent: a second call does nothing. */
  close(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    try {
      this.#native.close(fd);
    } catch (cause) {
      throw new HaagentError('HA_ERR_ANNOUNCE', `cannot close the packet socket on interface ${this.ifname}: ${describeNative(cause)}`, { cause });
    }
  }
}

/** The Ethernet MAC of `ifname` as "aa:bb:cc:dd:ee:ff" (SIOCGIFHWADDR). Throws HA_ERR_ANNOUNCE. */
export function interfaceMac(ifname: string): string {
  const native = loadBinding();
  try {
    return native.hwaddr(ifname);
  } catch (cause) {
    throw new HaagentError('HA_ERR_ANNOUNCE', `cannot read the MAC address of interface ${ifname}: ${describeNative(cause)}`, { cause });
  }
}
