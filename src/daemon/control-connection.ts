/**
 * One connection to the control socket, kept within bounds (ControlLimits):
 * - request lines are framed as bytes; a line that grows past maxLineBytes closes the connection
 *   at once, without buffering more of it;
 * - at most maxPendingRequests requests of a connection are answered at once: a client that
 *   pipelines requests behind a slow answer (reload) is not read meanwhile;
 * - a connection must complete a request within idleTimeoutMs of connecting or of its previous
 *   reply (trickling bytes does not extend it); an `events` subscriber is exempt once subscribed;
 * - a client that leaves more than maxBufferedBytes of replies or events unread is cut off as too
 *   slow: what the agent holds for it is at most that bound plus one line.
 * Every close for a bound sends one final `{"ok":false,"error":{"code":"HA_ERR_LIMIT",...}}` line
 * (queued behind what the client has not read yet) and half-closes; the socket is destroyed when
 * the client closes too, or closeGraceMs later at the latest. Input after a close, or after
 * subscribing, is read and discarded. Nothing here throws into the caller.
 */
import type { Socket } from 'node:net';
import type { ControlReply } from '../core/control/types.js';

export interface ControlLimits {
  /** Longest request line, in bytes, newline excluded. */
  readonly maxLineBytes: number;
  /** Connections served at once; the next one gets a "too many connections" reply and is closed. */
  readonly maxConnections: number;
  /** Time to complete a request after connecting or after the previous reply. */
  readonly idleTimeoutMs: number;
  /**
   * Requests of one connection being answered at once (an answer may wait, e.g. on a reload);
   * past this, the connection's input is not read until one is answered.
   */
  readonly maxPendingRequests: number;
  /** Reply and event bytes a client may leave unread in the agent before it is cut off. */
  readonly maxBufferedBytes: number;
  /** How long a connection being closed for a bound gets to take its final line and close. */
  readonly closeGraceMs: number;
  /**
   * Refused connections kept (for up to closeGraceMs) until their client has read the refusal;
   * past this many, a refusal is written and the socket closed at once.
   */
  readonly maxLingering: number;
}

export const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  maxLineBytes: 64 * 1024,
  maxConnections: 64,
  idleTimeoutMs: 10_000,
  maxPendingRequests: 4,
  maxBufferedBytes: 256 * 1024,
  // Long enough for a slow but live client (a loaded host, a paused pipe) to read its backlog
  // and the final line that says why it was cut off; at most maxLingering such sockets wait.
  closeGraceMs: 30_000,
  maxLingering: 1024,
};

/** Why a connection was closed by the agent (counted and logged by the server). */
export type LimitReason = 'too-many-connections' | 'line-too-long' | 'idle' | 'too-slow';

/**
 * Sends `reply` as the last line and half-closes: the client reads the line, then end of stream.
 * Whatever the client still sends is read and discarded, so a client that writes after the close
 * sees the reply rather than EPIPE. The socket goes when the client closes its side (Node then
 * destroys it) or `graceMs` later at the latest.
 */
export function closeWithReply(conn: Socket, reply: ControlReply, graceMs: number): void {
  if (conn.destroyed) return;
  const timer = setTimeout(() => conn.destroy(), graceMs);
  timer.unref();
  conn.once('close', () => clearTimeout(timer));
  conn.end(`${JSON.stringify(reply)}\n`);
  conn.resume();
}

const NEWLINE = 0x0a;

export class ControlConnection {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Input not framed yet because too many answers were pending (reading is paused meanwhile). */
  private held: Buffer | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Requests read but not yet answered (an answer may be asynchronous, e.g. reload). */
  private pending = 0;
  private streaming = false;
  private closing = false;

  /**
   * `onRequest` gets each non-empty line (trimmed, decoded as UTF-8) and must not reject;
   * `onLimit` is told each time a bound closes the connection.
   */
  constructor(
    private readonly conn: Socket,
    private readonly limits: ControlLimits,
    private readonly onRequest: (line: string) => Promise<void>,
    private readonly onLimit: (reason: LimitReason) => void,
  ) {
    conn.on('error', () => conn.destroy());
    conn.once('close', () => this.disarmIdle());
    conn.on('data', (chunk: Buffer) => this.onData(chunk));
    this.armIdle();
  }

  /** Bytes written for this client that it has not read yet (the agent's userland buffer). */
  get bufferedBytes(): number {
    return this.conn.writableLength;
  }

  /**
   * Writes one JSON line. When the client already leaves more than maxBufferedBytes unread, the
   * line is not written and the connection is closed as too slow; returns whether it was written.
   */
  send(message: unknown): boolean {
    if (this.closing || this.conn.destroyed) return false;
    if (this.conn.writableLength > this.limits.maxBufferedBytes) {
      this.closeForLimit('too-slow', `too slow: more than ${this.limits.maxBufferedBytes} bytes of replies or events left unread; closing`);
      return false;
    }
    this.conn.write(`${JSON.stringify(message)}\n`);
    return true;
  }

  /** Runs `fn` once when the socket has closed, for whatever reason. */
  onClose(fn: () => void): void {
    if (this.conn.destroyed) fn();
    else this.conn.once('close', fn);
  }

  /** Closes at once, without a final line (agent shutdown). */
  destroy(): void {
    this.closing = true;
    this.disarmIdle();
    this.conn.destroy();
  }

  /** The connection now streams events: no idle timeout, and further input is not read. */
  stream(): void {
    this.streaming = true;
    this.disarmIdle();
    this.discardInput();
  }

  private closeForLimit(reason: LimitReason, message: string): void {
    if (this.closing) return;
    this.closing = true;
    this.disarmIdle();
    this.discardInput();
    this.onLimit(reason);
    closeWithReply(this.conn, { ok: false, error: { code: 'HA_ERR_LIMIT', message } }, this.limits.closeGraceMs);
  }

  /** Forgets input read but not yet framed or answered (held back, or a partial line). */
  private discardInput(): void {
    this.held = undefined;
    this.partial = [];
    this.partialBytes = 0;
  }

  private armIdle(): void {
    this.disarmIdle();
    this.idleTimer = setTimeout(() => {
      this.closeForLimit('idle', `no complete request within ${this.limits.idleTimeoutMs} ms; closing`);
    }, this.limits.idleTimeoutMs);
  }

  private disarmIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.streaming) return;
    if (this.held !== undefined) this.held = Buffer.concat([this.held, chunk]); // in flight before the pause
    else this.consume(chunk);
  }

  /** Frames `chunk` into lines; stops (holding the rest, reading paused) while too many answers are pending. */
  private consume(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      if (this.pending >= this.limits.maxPendingRequests && start < chunk.length) {
        this.held = chunk.subarray(start);
        this.conn.pause();
        return;
      }
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.partialBytes + (end - start) > this.limits.maxLineBytes) {
        this.closeForLimit('line-too-long', `request longer than ${this.limits.maxLineBytes} bytes; closing`);
        return;
      }
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const line = this.partial.length === 0 ? piece : Buffer.concat([...this.partial, piece]);
      this.partial = [];
      this.partialBytes = 0;
      start = nl + 1;
      this.onLine(line.toString('utf8').trim());
      if (this.closing || this.streaming) return;
    }
    if (start < chunk.length) {
      // A copy: a kept subarray would pin the whole chunk.
      this.partial.push(Buffer.from(chunk.subarray(start)));
      this.partialBytes += chunk.length - start;
    }
  }

  private onLine(line: string): void {
    if (line === '') return;
    this.pending++;
    this.disarmIdle();
    void this.onRequest(line).catch(() => undefined).finally(() => {
      this.pending--;
      if (this.closing || this.streaming || this.conn.destroyed) return;
      if (this.held !== undefined && this.pending < this.limits.maxPendingRequests) {
        const held = this.held;
        this.held = undefined;
        this.conn.resume();
        this.consume(held);
      }
      if (this.pending === 0 && this.held === undefined) this.armIdle();
    });
  }
}
