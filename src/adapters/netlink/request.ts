/**
 * One rtnetlink request/response round trip with the kernel's errno kept intact.
 *
 * Why not `RtNetlinkSocket.newAddress()` & co. from the `netlink` package (0.3.0):
 * - on an NLMSG_ERROR its `checkError()` throws a bare `Error('Request rejected: EEXIST')`
 *   with no `errno`/`code` property, so callers would have to parse a message string;
 * - its parsed `message` events drop the netlink message type, so RTM_NEWADDR and
 *   RTM_DELADDR look the same (see watcher.ts).
 * So we format with the package's generated struct formatters, send through the lower
 * `NetlinkSocket.request(..., { checkError: false })`, and decode NLMSG_ERROR ourselves.
 *
 * Requests on one socket are serialized: the package keeps a single multipart buffer per
 * socket, so an ACK that the kernel queues between two chunks of a dump (another request
 * sent meanwhile) makes it reject the dump ("Multipart message not terminated properly")
 * and leaves the kernel's dump running, and every later dump then fails with EBUSY.
 * For the same reason never dump on a socket subscribed to multicast groups: notifications
 * interleave with the chunks too.
 */
import { AttrStream, MessageType as NlMessageType, parseError, rt, type NetlinkMessage, type RtNetlinkSocket } from './lib.js';
import { NetlinkErrnoError } from './errors.js';


export const RTM = rt.MessageType;

/** nlmsg_flags modifiers (linux/netlink.h); REQUEST|ACK are added by rtRequest. */
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_DUMP = 0x300;

/**
 * Removes the package's own 'message' listener from `sock`'s lower socket: RtNetlinkSocket
 * decodes every message it receives, attributes and all, for a typed 'message' event that this
 * adapter never listens to (it reads one layer down, see watcher.ts), so a watcher paid a full
 * decode for each kernel notification (a lease renewal of every VIP) before its own. Call it
 * right after creating the socket, before adding listeners. Replies to requests are matched
 * by sequence number inside the lower socket and are not affected.
 */
export function withoutTypedDecode(sock: RtNetlinkSocket): RtNetlinkSocket {
  sock.socket.removeAllListeners('message');
  return sock;
}

const queues = new WeakMap<RtNetlinkSocket, Promise<void>>();

/**
 * Runs `job` once every job queued on `sock` before it has settled (resolved or rejected), and
 * returns its result: the per-socket queue every request of this adapter goes through (see the
 * top of this file for why a dump must never interleave with anything).
 */
export function serialized<T>(sock: RtNetlinkSocket, job: () => Promise<T>): Promise<T> {
  const previous = queues.get(sock) ?? Promise.resolve();
  const pending = previous.then(job);
  const settled = pending.then(() => undefined, () => undefined);
  queues.set(sock, settled);
  void settled.then(() => { if (queues.get(sock) === settled) queues.delete(sock); });
  return pending;
}

type Formatter<M> = (msg: M, out: InstanceType<typeof AttrStream>) => void;

/**
 * Sends `msg` as `type` with REQUEST|ACK|`flags` and returns the raw reply messages
 * (empty for a plain ACK; the data parts of a multipart dump otherwise).
 * Rejects with NetlinkErrnoError when the kernel answers NLMSG_ERROR with errno != 0.
 */
export async function rtRequest<M>(
  sock: RtNetlinkSocket,
  type: number,
  format: Formatter<M>,
  msg: M,
  flags: number,
  what: string,
  timeoutMs = 5000,
): Promise<NetlinkMessage[]> {
  return rtRequestPayload(sock, type, formatPayload(format, msg), flags, what, timeoutMs);
}

/** `msg` formatted as a request payload (the buffers after the netlink header); never changed by a send. */
export function formatPayload<M>(format: Formatter<M>, msg: M): Uint8Array[] {
  const stream = new AttrStream();
  format(msg, stream);
  return stream.bufs;
}

/**
 * rtRequest with a payload formatted beforehand (formatPayload), e.g. one sent again and again.
 * `onSend`, when given, is called when the request's turn in the socket's queue has come, just
 * before it is sent: by then every request queued before it has settled, and none queued after it
 * has started.
 */
export async function rtRequestPayload(
  sock: RtNetlinkSocket,
  type: number,
  payload: Uint8Array[],
  flags: number,
  what: string,
  timeoutMs = 5000,
  onSend?: () => void,
): Promise<NetlinkMessage[]> {
  const [replies] = await serialized(sock, () => {
    onSend?.();
    return sock.socket.request(type, payload, { flags, checkError: false, timeout: timeoutMs });
  });
  const first = replies[0];
  if (first && first.type === NlMessageType.ERROR) {
    const { errno } = parseError(first.data, first.flags);
    if (errno === 0) return [];
    throw new NetlinkErrnoError(-errno, what);
  }
  return replies;
}
