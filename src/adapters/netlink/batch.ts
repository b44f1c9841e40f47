/**
 * Several rtnetlink requests sent as ONE datagram, answered by ONE acknowledgement.
 *
 * The kernel handles every message of a datagram in turn (netlink_rcv_skb), and answers a
 * message with an NLMSG_ERROR when it failed, or when it asked for an ACK (errno 0 = done). So
 * only the last message of a chunk asks for an ACK: a failed message among the others is
 * answered with its errno just the same, and the last one's answer, queued after theirs, means
 * the kernel has handled them all. N requests then cost one sendto and one acknowledgement to
 * read instead of N (each read is a callback into JavaScript: that was most of a renewal's
 * cost), and one timer, one promise and one `address()` lookup. Used for the VIP lease renewals
 * of every instance on an interface.
 *
 * Contract:
 * - Each message gets its own sequence number from the package's `generateSeq`, REQUEST|its
 *   flags (and ACK for the last one) and the socket's port (read once per socket, it never
 *   changes once bound), and is registered with the package's `makeRef`/`dropRef`, so its
 *   failure is routed to it exactly like a single request's and nothing else on the socket is
 *   disturbed.
 * - The result holds one entry per message, in order: the failure the kernel answered it with
 *   (NetlinkErrnoError with the kernel's errno), else undefined once the chunk's last message is
 *   answered; the send's own error for all of a chunk whose send failed; a timeout error for
 *   every message of a chunk whose last message was not answered within `timeoutMs`. It never
 *   rejects, and it leaves EEXIST & co. to the caller.
 * - Relies on the kernel answering a datagram's messages in order (one socket, one receive
 *   queue): an answer for the last message settles every earlier message not answered yet.
 * - It runs on the socket's serialization queue (request.ts), so no other request, in
 *   particular no dump, interleaves with a chunk; each chunk is one job on that queue.
 * - Chunks are bounded (`maxBytes`, `maxMessages`): when every message of a chunk fails, the
 *   kernel queues all of its answers on the receive buffer before we read any, and what does
 *   not fit is an overrun (ENOBUFS). Each queued answer costs far more receive-buffer
 *   accounting than its 36 bytes: with Linux's default receive buffer (208 KiB) 250 answered
 *   RTM_NEWADDR per datagram fit, 300 overran it (about 750 bytes per answer), and the
 *   package's native socket then aborts the whole process. 64 per datagram use under a quarter
 *   of that buffer. A message larger than `maxBytes` goes alone.
 *
 * What it does not check: that the payloads are well formed for `type` (the kernel says so per
 * message), or where a reply came from (like the package, it trusts the socket: only the kernel
 * can unicast to it).
 */
import { Flags as NlFlags, formatHeader, MessageType as NlMessageType, parseError, type NetlinkMessage, type NetlinkSocket, type RtNetlinkSocket } from './lib.js';
import { errorMessage } from '../../core/errors.js';
import { NetlinkErrnoError } from './errors.js';
import { serialized } from './request.js';


/** One request of a batch: its type, formatted payload (formatPayload), extra nlmsg flags and what it does (for errors). */
export interface BatchMessage {
  readonly type: number;
  readonly payload: readonly Uint8Array[];
  readonly flags: number;
  readonly what: string;
}

export interface BatchOptions {
  /** How long one chunk may wait for all its ACKs. */
  readonly timeoutMs?: number;
  /** Largest datagram (bytes); far under the socket buffers. */
  readonly maxBytes?: number;
  /** Most messages (and so queued ACKs) per datagram. */
  readonly maxMessages?: number;
}

export const BATCH_TIMEOUT_MS = 5000;
export const BATCH_MAX_BYTES = 64 * 1024;
export const BATCH_MAX_MESSAGES = 64;

export const HEADER_LENGTH = 16;
export const align4 = (n: number): number => (n + 3) & ~3;

/** The lower socket's reply routing; `protected` in the package's typings, public at run time. */
interface ReplyRouting {
  makeRef(seq: number, callback: (err: Error | null, msg?: NetlinkMessage[]) => void): number;
  dropRef(seq: number): void;
}

const ports = new WeakMap<NetlinkSocket, number>();

function portOf(lower: NetlinkSocket): number {
  let port = ports.get(lower);
  if (port === undefined) {
    port = lower.address().port;
    ports.set(lower, port);
  }
  return port;
}

export function payloadLength(payload: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of payload) n += b.length;
  return n;
}

/** Splits `messages` into chunks of at most maxMessages and maxBytes (a lone larger message excepted). */
export function chunkBatch(messages: readonly BatchMessage[], maxBytes: number, maxMessages: number): BatchMessage[][] {
  const chunks: BatchMessage[][] = [];
  let current: BatchMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = align4(HEADER_LENGTH + payloadLength(m.payload));
    if (current.length > 0 && (current.length >= maxMessages || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The outcome of one ACK (or other reply) for `what`. */
function outcome(replies: NetlinkMessage[] | undefined, what: string): Error | undefined {
  const first = replies?.[0];
  if (first === undefined || first.type !== NlMessageType.ERROR) return undefined;
  let errno: number;
  try {
    errno = parseError(first.data, first.flags).errno;
  } catch (err) {
    return new Error(`${what}: malformed acknowledgement`, { cause: err });
  }
  return errno === 0 ? undefined : new NetlinkErrnoError(-errno, what);
}

/** One chunk: one datagram, one timer; resolves when every message has its outcome. */
function sendChunk(sock: RtNetlinkSocket, chunk: readonly BatchMessage[], timeoutMs: number): Promise<(Error | undefined)[]> {
  const lower = sock.socket;
  const routing = lower as unknown as ReplyRouting;
  const port = portOf(lower);
  return new Promise((resolve) => {
    const results: (Error | undefined)[] = new Array<Error | undefined>(chunk.length);
    const seqs: number[] = [];
    let left = chunk.length;
    const timeout: { timer?: NodeJS.Timeout } = {};
    const settle = (i: number, err: Error | undefined): void => {
      const seq = seqs[i];
      if (seq === undefined) return; // already settled
      delete seqs[i];
      routing.dropRef(seq);
      results[i] = err;
      left -= 1;
      if (left === 0) {
        clearTimeout(timeout.timer);
        resolve(results);
      }
    };
    const failAll = (err: Error): void => {
      for (let i = 0; i < chunk.length; i++) settle(i, err);
    };
    // Sequence numbers first: the ACK goes on the last message actually sent.
    const sent: number[] = [];
    /** Message i's answer; the last one's means every earlier message unanswered so far is done. */
    const answered = (i: number, err: Error | undefined): void => {
      settle(i, err);
      if (i === last) for (const j of sent) settle(j, undefined);
    };
    for (const [i, m] of chunk.entries()) {
      const seq = lower.generateSeq();
      try {
        routing.makeRef(seq, (err, replies) => answered(i, err ?? outcome(replies, m.what)));
      } catch (err) { // the package refuses a sequence number still waited for (after a wrap)
        results[i] = new Error(`${m.what}: ${errorMessage(err)}`);
        left -= 1;
        continue;
      }
      seqs[i] = seq;
      sent.push(i);
    }
    const last = sent[sent.length - 1];
    const bufs: Uint8Array[] = [];
    for (const i of sent) {
      const m = chunk[i] as BatchMessage;
      const length = HEADER_LENGTH + payloadLength(m.payload);
      const ack = i === last ? NlFlags.ACK : 0;
      bufs.push(formatHeader({ length, type: m.type, flags: m.flags | NlFlags.REQUEST | ack, seq: seqs[i] as number, port }), ...m.payload);
      const pad = align4(length) - length;
      if (pad > 0) bufs.push(Buffer.alloc(pad));
    }
    if (left === 0) {
      resolve(results);
      return;
    }
    timeout.timer = setTimeout(() => failAll(new Error(`netlink batch of ${chunk.length}: no acknowledgement within ${timeoutMs} ms`)), timeoutMs);
    try {
      lower.socket.send(Buffer.concat(bufs), undefined, (err) => { if (err) failAll(err); });
    } catch (err) {
      failAll(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/**
 * Sends `messages` in as few datagrams as the bounds allow, one after the other on the socket's
 * queue, and returns each message's outcome (see the contract above). Never rejects.
 */
export async function rtRequestBatch(sock: RtNetlinkSocket, messages: readonly BatchMessage[], opts: BatchOptions = {}): Promise<(Error | undefined)[]> {
  const timeoutMs = opts.timeoutMs ?? BATCH_TIMEOUT_MS;
  const chunks = chunkBatch(messages, opts.maxBytes ?? BATCH_MAX_BYTES, opts.maxMessages ?? BATCH_MAX_MESSAGES);
  const results = await Promise.all(chunks.map((chunk) => serialized(sock, () => sendChunk(sock, chunk, timeoutMs))));
  return results.flat();
}
