/**
 * Sequence numbers of the HMAC trailer (hmac-trailer.ts): what a sender puts in, and the
 * freshness and replay checks a receiver makes, as keepalived 2.4.3 does them.
 *
 * - A sequence is a 64-bit number: UTC seconds << 32 | 1/65536 s fraction << 16 | counter.
 *   Order is serial-number arithmetic (RFC 1982) over 64 bits, so the wrap is a non-event.
 * - Sender: the clock's sequence, or the last one plus one when the clock has not moved past it
 *   (several adverts in one fraction, or a clock stepped back). In `time` mode a sender whose
 *   last sequence ran more than the window ahead of the clock (a corrected forward step)
 *   restarts from the clock, since receivers would reject it anyway; `monotonic` never goes back.
 * - Receiver, `time` mode: the seconds must be within the window of our clock (32-bit modular
 *   difference), and each sender's sequence must grow; a sender's mark older than the window
 *   is forgotten (it only ordered adverts the window already rejects).
 * - Receiver, `monotonic` mode: only growth per sender.
 *
 * Pure: time is the caller's `nowMs` (UTC milliseconds since the epoch).
 */
import { SEQUENCE_MOD, sequenceSeconds } from './hmac-trailer.js';

export type AntiReplay = 'time' | 'monotonic';

const HALF = 1n << 63n;

/** a is after b in 64-bit serial-number arithmetic. */
export function sequenceAfter(a: bigint, b: bigint): boolean {
  const d = (a - b + SEQUENCE_MOD) % SEQUENCE_MOD;
  return d !== 0n && d < HALF;
}

/** The sequence of the clock reading `nowMs`, counter zero. */
export function clockSequence(nowMs: number): bigint {
  const ms = Math.floor(nowMs);
  const sec = BigInt(Math.floor(ms / 1000)) % (1n << 32n);
  const fraction = BigInt(Math.floor(((ms % 1000) * 65536) / 1000));
  return (sec << 32n) | (fraction << 16n);
}

/** (a - b) over 32-bit seconds, as a signed number: how far `a` is ahead of `b`. */
export function secondsAhead(a: number, b: number): number {
  return ((a - b) | 0);
}

/** The sequence a sender uses next, after `last` (undefined: none sent yet). */
export function nextSendSequence(last: bigint | undefined, nowMs: number, mode: AntiReplay, timeWindowSec: number): bigint {
  const clock = clockSequence(nowMs);
  if (last === undefined || sequenceAfter(clock, last)) return clock;
  const ahead = secondsAhead(sequenceSeconds(last), sequenceSeconds(clock));
  if (mode === 'time' && ahead > timeWindowSec) return clock;
  return (last + 1n) % SEQUENCE_MOD;
}

/** Our clock minus the sequence's seconds (positive: the advert is older than our clock). */
export function skewSeconds(sequence: bigint, nowMs: number): number {
  return secondsAhead(Number(BigInt(Math.floor(nowMs / 1000)) % (1n << 32n)), sequenceSeconds(sequence));
}

/** Whether a sender's mark still orders anything at `nowMs` (see the module comment). */
export function markStillValid(mark: bigint, nowMs: number, mode: AntiReplay, timeWindowSec: number): boolean {
  if (mode === 'monotonic') return true;
  return Math.abs(skewSeconds(mark, nowMs)) <= timeWindowSec;
}

/**
 * The last accepted sequence per sender address, at most `maxSenders` of them: when a new
 * sender would pass the bound, the one heard from longest ago is forgotten. Only adverts whose
 * HMAC verified are recorded, so forged sources cannot churn it.
 */
export class ReplayMarks {
  private readonly marks = new Map<string, bigint>();

  constructor(private readonly maxSenders: number) {}

  get(sender: string): bigint | undefined {
    return this.marks.get(sender);
  }

  set(sender: string, sequence: bigint): void {
    this.marks.delete(sender);
    this.marks.set(sender, sequence);
    while (this.marks.size > this.maxSenders) {
      const oldest = this.marks.keys().next().value;
      if (oldest === undefined) break;
      this.marks.delete(oldest);
    }
  }

  get size(): number {
    return this.marks.size;
  }
}
