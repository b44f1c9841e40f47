/**
 * The package's real NetlinkSocket/RtNetlinkSocket on a fake raw socket, for unit tests of
 * requests: every datagram sent is kept, and the test answers as the kernel would.
 */
import { EventEmitter } from 'node:events';
import netlink from 'netlink';
import type { NetlinkMessage, RawNetlinkSocket } from 'netlink';

const { NetlinkSocket, RtNetlinkSocket, parseMessages, formatMessage, MessageType } = netlink;

export const PORT = 4242;

/** The kernel's side: every datagram sent, how often the port was asked, and a way to answer. */
export class FakeRaw extends EventEmitter {
  readonly sent: Buffer[] = [];
  addressCalls = 0;
  failSend: Error | undefined;
  ref(): void { /* nothing to keep alive */ }
  unref(): void { /* nothing to keep alive */ }
  address(): { port: number; groups: number } {
    this.addressCalls += 1;
    return { port: PORT, groups: 0 };
  }
  send(msg: Uint8Array | Uint8Array[], _opts: unknown, cb?: (err?: Error) => void): void {
    this.sent.push(Buffer.concat(Array.isArray(msg) ? msg : [msg]));
    setImmediate(() => cb?.(this.failSend));
  }
  /** The messages of the n-th datagram. */
  messages(n: number): NetlinkMessage[] {
    const d = this.sent[n];
    if (d === undefined) throw new Error(`no datagram ${n}`);
    return parseMessages(d);
  }
  /** Answers `req` with an NLMSG_ERROR carrying `errno` (0 = ACK), as the kernel does. */
  ack(req: NetlinkMessage, errno: number): void {
    const data = Buffer.alloc(20);
    data.writeInt32LE(errno, 0); // host order on the test machine (little endian)
    data.writeUInt32LE(16 + req.data.length, 4);
    data.writeUInt16LE(req.type, 8);
    data.writeUInt16LE(req.flags, 10);
    data.writeUInt32LE(req.seq, 12);
    data.writeUInt32LE(req.port, 16);
    const bytes = Buffer.concat(formatMessage({ type: MessageType.ERROR, flags: 0x100, seq: req.seq, port: PORT, data }));
    this.emit('message', bytes, { port: 0, groups: 0 });
  }
}

export function setup(): { raw: FakeRaw; sock: InstanceType<typeof RtNetlinkSocket>; waiting: () => number } {
  const raw = new FakeRaw();
  const lower = new NetlinkSocket(raw as unknown as RawNetlinkSocket);
  const sock = new RtNetlinkSocket(lower);
  return { raw, sock, waiting: () => (lower as unknown as { requests: Map<number, unknown> }).requests.size };
}

