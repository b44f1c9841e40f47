/**
 * One AF_PACKET socket per interface for every announcement of the agent (gratuitous ARP and
 * unsolicited NA of all instances and floating addresses), instead of one per instance: at a
 * few hundred instances that is a few hundred fewer descriptors, and shutting down closes one
 * socket per interface.
 *
 * Contract:
 * - `acquire(ifname)` hands out a lease; the interface's socket is opened on the first `send`
 *   or `mac` of any lease on it (lazily, as the announcer always did) and closed when the last
 *   lease on that interface is released. A later send after that opens a new one.
 * - `send` and `mac` throw what the socket throws (HA_ERR_ANNOUNCE); a failed open is retried
 *   at the next call. A send failing with ENODEV or ENXIO (the interface was removed, maybe
 *   recreated under a new index) closes the socket so the next call opens a fresh one.
 * - `release` is idempotent per lease. Nothing here is timed or paced; the announcer is.
 * Leases are not checked for leaks: a lease never released keeps its socket until exit.
 */
import { PacketSocket } from '../adapters/packet-socket.js';

/** What a lease needs from an interface's socket (PacketSocket in production). */
export interface InterfaceFrameSocket {
  send(frame: Uint8Array): void;
  /** The interface's MAC, asked through this socket. */
  mac(): string;
  close(): void;
}

export interface FrameSocketLease {
  send(frame: Uint8Array): void;
  mac(): string;
  release(): void;
}

interface Entry {
  users: number;
  socket: InterfaceFrameSocket | undefined;
}

const STALE_INTERFACE_CODES: ReadonlySet<unknown> = new Set(['ENODEV', 'ENXIO']);

function causeCode(err: unknown): unknown {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code;
}

export class SharedFrameSockets {
  readonly #open: (ifname: string) => InterfaceFrameSocket;
  readonly #entries = new Map<string, Entry>();

  constructor(open: (ifname: string) => InterfaceFrameSocket = (ifname) => PacketSocket.open(ifname)) {
    this.#open = open;
  }

  /** Interfaces with an open socket (for tests and status). */
  openInterfaces(): string[] {
    return [...this.#entries].filter(([, e]) => e.socket !== undefined).map(([name]) => name);
  }

  acquire(ifname: string): FrameSocketLease {
    let entry = this.#entries.get(ifname);
    if (entry === undefined) {
      entry = { users: 0, socket: undefined };
      this.#entries.set(ifname, entry);
    }
    entry.users += 1;
    const e = entry;
    let released = false;
    const socket = (): InterfaceFrameSocket => {
      e.socket ??= this.#open(ifname);
      return e.socket;
    };
    return {
      send: (frame) => {
        const s = socket();
        try {
          s.send(frame);
        } catch (err) {
          if (STALE_INTERFACE_CODES.has(causeCode(err)) && e.socket === s) {
            e.socket = undefined;
            s.close();
          }
          throw err;
        }
      },
      mac: () => socket().mac(),
      release: () => {
        if (released) return;
        released = true;
        e.users -= 1;
        if (e.users > 0) return;
        this.#entries.delete(ifname);
        const s = e.socket;
        e.socket = undefined;
        s?.close();
      },
    };
  }
}
