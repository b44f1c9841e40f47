/**
 * A batch of rtnetlink requests sent and answered within one call, on the addon's own
 * NETLINK_ROUTE socket (native/netlink_sync.c): the kernel handles a route request inside the
 * sendto that carries it, so its answers are already queued when sendto returns. A lease
 * renewal then costs one sendto and a few reads in one native call, with no promise, no reply
 * routing and no second wake-up of the event loop for the acknowledgement (batch.ts has those).
 *
 * Contract: the same chunking (chunkBatch, the same bounds) and the same outcomes as
 * rtRequestBatch: one entry per message, in order, undefined when the kernel acknowledged it,
 * a NetlinkErrnoError with the kernel's errno when it refused it, the native error for every
 * message of a chunk whose send failed, and an Error naming the request for a message the
 * kernel did not answer within the native wait. Every message asks for an acknowledgement.
 * Sequence numbers come from a counter of this module (the socket is ours alone). Never throws.
 */
import { Flags as NlFlags, formatHeader } from './lib.js';
import { align4, BATCH_MAX_BYTES, BATCH_MAX_MESSAGES, chunkBatch, HEADER_LENGTH, payloadLength, type BatchMessage } from './batch.js';
import { NetlinkErrnoError } from './errors.js';

/** The addon's call: sends `datagram` (`count` messages) and returns [seq, errno, ...] of the answers. */
export type RouteBatch = (datagram: Uint8Array, count: number) => number[];

let lastSeq = 0;

function nextSeq(): number {
  lastSeq = (lastSeq + 1) >>> 0;
  if (lastSeq === 0) lastSeq = 1;
  return lastSeq;
}

/** One datagram of `messages`, each a request asking for an acknowledgement, with sequence numbers `seqs`. */
export function formatRequests(messages: readonly BatchMessage[], seqs: readonly number[]): Buffer {
  const bufs: Uint8Array[] = [];
  messages.forEach((m, i) => {
    const length = HEADER_LENGTH + payloadLength(m.payload);
    bufs.push(formatHeader({ length, type: m.type, flags: m.flags | NlFlags.REQUEST | NlFlags.ACK, seq: seqs[i] ?? 0, port: 0 }), ...m.payload);
    const pad = align4(length) - length;
    if (pad > 0) bufs.push(Buffer.alloc(pad));
  });
  return Buffer.concat(bufs);
}

/** Sends `messages` through `route`, chunk by chunk, and returns each message's outcome. */
export function syncRequestBatch(route: RouteBatch, messages: readonly BatchMessage[]): (Error | undefined)[] {
  const out: (Error | undefined)[] = [];
  for (const chunk of chunkBatch(messages, BATCH_MAX_BYTES, BATCH_MAX_MESSAGES)) {
    const seqs = chunk.map(() => nextSeq());
    let answers: number[];
    try {
      answers = route(formatRequests(chunk, seqs), chunk.length);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (let i = 0; i < chunk.length; i++) out.push(e);
      continue;
    }
    const errnoBySeq = new Map<number, number>();
    for (let k = 0; k + 1 < answers.length; k += 2) errnoBySeq.set(answers[k] as number, answers[k + 1] as number);
    chunk.forEach((m, i) => {
      const errno = errnoBySeq.get(seqs[i] as number);
      out.push(errno === undefined ? new Error(`${m.what}: no acknowledgement from the kernel`) : errno === 0 ? undefined : new NetlinkErrnoError(errno, m.what));
    });
  }
  return out;
}
