/**
 * The control socket: a unix stream socket, mode 0600 in a 0700 directory (root-only), one
 * JSON request per line, one JSON reply per line (src/core/control/types.ts).
 *
 * Contract: a malformed request gets an error reply (HA_ERR_INVALID_ARGUMENT, or HA_ERR_LIMIT
 * when over a bound) and the connection stays usable; nothing a client sends can throw into the
 * agent or grow its memory without bound: at most maxConnections are served at once (the next
 * is told so and closed; at most maxLingering refused ones wait for their client to read that),
 * and each connection is bounded by ControlConnection (line length, pending answers, idle time,
 * unread output). Connections closed for a bound are counted and logged (at most once per reason
 * every 10 s). A stale socket file from a crashed agent is replaced; a socket that a live agent
 * still answers on is not (HA_ERR_CONTROL).
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { errorMessage, HaagentError } from '../core/errors.js';
import { ensurePrivateDir } from '../adapters/secure-dir.js';
import { parseControlRequest, type AgentStatus, type ControlReply, type ControlRequest } from '../core/control/types.js';
import { DEFAULT_EVENT_TYPES, type AgentEvent } from '../core/control/events.js';
import { closeWithReply, ControlConnection, DEFAULT_CONTROL_LIMITS, type ControlLimits, type LimitReason } from './control-connection.js';
import type { EventBus } from './event-bus.js';
import { WarnThrottle } from './warn-throttle.js';

export { DEFAULT_CONTROL_LIMITS, type ControlLimits, type LimitReason } from './control-connection.js';

/** What the control socket can ask of the agent. Errors thrown here become error replies. */
export interface ControlHandler {
  status(): AgentStatus;
  maintenance(on: boolean, instance: string | undefined): string;
  switchover(instance: string | undefined): string;
  /** `promote --force`: take over now past the takeover guards; throws with the reason when refused. */
  promote(instance: string | undefined): string;
  reload(): Promise<string>;
  readonly events: EventBus;
}

/** The part of a logger the server uses (pino's Logger fits). */
export interface ControlLog {
  warn(obj: object, msg: string): void;
}

export interface ControlServerOptions {
  /** Overrides of DEFAULT_CONTROL_LIMITS (tests shorten them); positive numbers, not checked. */
  readonly limits?: Partial<ControlLimits>;
  readonly log?: ControlLog;
}

/** What the server has enforced since it started listening, and what it holds now. */
export interface ControlCounters {
  readonly openConnections: number;
  /** Refused connections not closed yet (at most limits.maxLingering). */
  readonly lingeringConnections: number;
  /** Bytes written to clients and not yet taken by them, summed over open connections. */
  readonly bufferedBytes: number;
  /** Connections closed (or refused) for each bound. */
  readonly closedForLimit: Readonly<Record<LimitReason, number>>;
}

/** sizeof(sockaddr_un.sun_path) - 1 on Linux. */
const MAX_SOCKET_PATH_BYTES = 107;
const LIMIT_LOG_INTERVAL_MS = 10_000;
const LIMIT_LOG_MESSAGES: Readonly<Record<LimitReason, string>> = {
  'too-many-connections': 'refused a connection: too many open',
  'line-too-long': 'closed a connection: request line too long',
  idle: 'closed a connection: no complete request in time',
  'too-slow': 'closed a connection: client too slow to read its replies or events',
};

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

export class ControlServer {
  private readonly server: Server;
  private readonly connections = new Set<ControlConnection>();
  private readonly closedFor: Record<LimitReason, number> = { 'too-many-connections': 0, 'line-too-long': 0, idle: 0, 'too-slow': 0 };
  private readonly limitWarnings = new WarnThrottle(LIMIT_LOG_INTERVAL_MS);
  /** Refused connections waiting for their client to read the refusal and close. */
  private lingering = 0;

  private constructor(
    readonly path: string,
    private readonly handler: ControlHandler,
    readonly limits: ControlLimits,
    private readonly log: ControlLog | undefined,
  ) {
    this.server = createServer((conn) => this.accept(conn));
  }

  static async listen(path: string, handler: ControlHandler, opts: ControlServerOptions = {}): Promise<ControlServer> {
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw new HaagentError('HA_ERR_CONTROL', `control socket path ${path} is ${Buffer.byteLength(path)} bytes; unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}`);
    }
    ensurePrivateDir(dirname(path), 'control socket directory');
    if (await isLive(path)) throw new HaagentError('HA_ERR_CONTROL', `another agent is already answering on ${path}; use --socket to pick another path`);
    try { unlinkSync(path); } catch { /* not there */ }
    const control = new ControlServer(path, handler, { ...DEFAULT_CONTROL_LIMITS, ...opts.limits }, opts.log);
    const server = control.server;
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (cause) => reject(new HaagentError('HA_ERR_CONTROL', `cannot listen on ${path}: ${cause.message}`, { cause })));
        server.listen(path, () => resolve());
      });
    } finally {
      process.umask(oldMask);
    }
    // After listening, an accept error (EMFILE, ENFILE) is logged, never thrown into the agent.
    server.on('error', (err) => control.log?.warn({ err }, 'control socket: accept failed'));
    chmodSync(path, 0o600);
    return control;
  }

  counters(): ControlCounters {
    let bufferedBytes = 0;
    for (const c of this.connections) bufferedBytes += c.bufferedBytes;
    return { openConnections: this.connections.size, lingeringConnections: this.lingering, bufferedBytes, closedForLimit: { ...this.closedFor } };
  }

  /** Stops listening, closes every open connection (event streams end) and removes the socket file. */
  close(): void {
    this.server.close();
    for (const c of this.connections) c.destroy();
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }

  private accept(conn: Socket): void {
    if (this.connections.size >= this.limits.maxConnections) {
      conn.on('error', () => conn.destroy());
      this.noteLimit('too-many-connections');
      const message = `too many connections (${this.limits.maxConnections} open); try again later`;
      const refusal: ControlReply = { ok: false, error: { code: 'HA_ERR_LIMIT', message } };
      if (this.lingering >= this.limits.maxLingering) {
        conn.end(`${JSON.stringify(refusal)}\n`);
        conn.destroy();
        return;
      }
      this.lingering++;
      conn.once('close', () => { this.lingering--; });
      closeWithReply(conn, refusal, this.limits.closeGraceMs);
      return;
    }
    const c: ControlConnection = new ControlConnection(conn, this.limits, (line) => this.serveLine(c, line), (reason) => this.noteLimit(reason));
    this.connections.add(c);
    c.onClose(() => this.connections.delete(c));
  }

  /** Counts every close for a bound; logs the first of each reason, then at most every 10 s. */
  private noteLimit(reason: LimitReason): void {
    this.closedFor[reason]++;
    if (this.limitWarnings.admit(reason, performance.now()) === undefined) return;
    this.log?.warn({ reason, total: this.closedFor[reason], limits: this.limits }, `control socket: ${LIMIT_LOG_MESSAGES[reason]}`);
  }

  private async serveLine(c: ControlConnection, line: string): Promise<void> {
    const req = parseControlRequest(line);
    if (!req.ok) {
      c.send({ ok: false, error: { code: req.code, message: req.message } } satisfies ControlReply);
      return;
    }
    try {
      await this.answer(c, req.request);
    } catch (err) {
      c.send(errorReply(err));
    }
  }

  private async answer(c: ControlConnection, req: ControlRequest): Promise<void> {
    const h = this.handler;
    switch (req.command) {
      case 'status':
        c.send({ ok: true, status: h.status() } satisfies ControlReply);
        return;
      case 'maintenance':
        c.send({ ok: true, message: h.maintenance(req.on, req.instance) } satisfies ControlReply);
        return;
      case 'switchover':
        c.send({ ok: true, message: h.switchover(req.instance) } satisfies ControlReply);
        return;
      case 'promote':
        c.send({ ok: true, message: h.promote(req.instance) } satisfies ControlReply);
        return;
      case 'reload':
        c.send({ ok: true, message: await h.reload() } satisfies ControlReply);
        return;
      case 'events': {
        const types = new Set<AgentEvent['type']>(req.types ?? DEFAULT_EVENT_TYPES);
        if (!c.send({ ok: true, message: 'subscribed' } satisfies ControlReply)) return;
        c.stream();
        const off = h.events.subscribe((ev) => {
          if (types.has(ev.type) && !c.send({ event: ev })) off();
        });
        c.onClose(off);
        return;
      }
    }
  }
}

function errorReply(err: unknown): ControlReply {
  if (err instanceof HaagentError) return { ok: false, error: { code: err.code, message: err.message } };
  return { ok: false, error: { code: 'HA_ERR_INTERNAL', message: errorMessage(err) } };
}

/** Longest reply or event line the client accepts from the agent, in characters. */
const MAX_REPLY_LINE_CHARS = 16 * 1024 * 1024;

export interface RequestOptions {
  readonly timeoutMs?: number;
  /**
   * Gets each streamed event (`events`). Returning a Promise pauses reading until it settles, so
   * a slow consumer (a full stdout pipe) is felt by the agent, which cuts the stream off as too
   * slow rather than buffering without end.
   */
  readonly onEvent?: (ev: AgentEvent) => unknown;
  /** Aborting ends the stream (or the request). */
  readonly signal?: AbortSignal;
  /**
   * Called once when an accepted event stream ends: with the agent's final error line (e.g.
   * HA_ERR_LIMIT, too slow) when it sent one, else with nothing (the agent went away).
   * Not called when the request itself was refused: that is the resolved reply.
   */
  readonly onClose?: (err?: HaagentError) => void;
}

/**
 * Client side: one request, one reply (or, for `events`, the reply then `onEvent` per line until
 * the connection closes: abort `signal` to end it; `onClose` tells when and why the stream ended).
 * HA_ERR_NO_AGENT when nothing listens at `path`; HA_ERR_CONTROL when the agent closes the
 * connection without a reply or sends something that is not a JSON line.
 */
export function request(path: string, req: ControlRequest, opts: RequestOptions = {}): Promise<ControlReply> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    opts.signal?.addEventListener('abort', () => c.destroy(), { once: true });
    let buf = '';
    let answered = false;
    let streaming = false;
    let paused = false;
    let streamError: HaagentError | undefined;
    const fail = (err: HaagentError): void => {
      clearTimeout(timer);
      c.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new HaagentError('HA_ERR_CONTROL', `no reply from the agent on ${path} within ${timeoutMs} ms`)), timeoutMs);
    c.setEncoding('utf8');
    c.once('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('error', (cause: NodeJS.ErrnoException) => {
      if (answered) return; // the stream's end is reported by 'close'
      if (cause.code === 'ENOENT' || cause.code === 'ECONNREFUSED') {
        fail(new HaagentError('HA_ERR_NO_AGENT', `no haagent is running (nothing listens on ${path}); start one with "haagent start" or pass --socket`, { cause }));
      } else if (cause.code === 'EPIPE' || cause.code === 'ECONNRESET') {
        fail(new HaagentError('HA_ERR_CONTROL', `the agent on ${path} closed the connection without replying`, { cause }));
      } else if (cause.code === 'EACCES') {
        fail(new HaagentError('HA_ERR_CONTROL', `permission denied on ${path}: the control socket is root-only`, { cause }));
      } else {
        fail(new HaagentError('HA_ERR_CONTROL', `cannot talk to the agent on ${path}: ${cause.message}`, { cause }));
      }
    });
    c.once('close', () => {
      if (!answered) fail(new HaagentError('HA_ERR_CONTROL', `the agent on ${path} closed the connection without replying`));
      // A consumer that paused (its output full) may leave lines unread when the stream ends: the
      // agent's last line, which says why it ended, must not be lost with them.
      else if (streaming) opts.onClose?.(streamError ?? streamEndError(buf));
    });
    /** The error a stream's final `{ ok: false, error }` line carries. */
    const endErrorOf = (msg: { error?: { code?: unknown; message?: unknown } }): HaagentError => {
      const message = typeof msg.error?.message === 'string' ? msg.error.message : 'no reason given';
      return new HaagentError(msg.error?.code === 'HA_ERR_LIMIT' ? 'HA_ERR_LIMIT' : 'HA_ERR_CONTROL', `the agent ended the event stream: ${message}`);
    };
    /** The error an unread final line of the stream carries, if any (see 'close'). */
    const streamEndError = (rest: string): HaagentError | undefined => {
      try {
        const msg = JSON.parse(rest.trim().split('\n').at(-1) ?? '') as { ok?: boolean; error?: { code?: unknown; message?: unknown } };
        return msg.ok === false ? endErrorOf(msg) : undefined;
      } catch {
        return undefined;
      }
    };
    /** Handles one complete line; false = stop reading for now (the consumer asked to pause). */
    const onLine = (line: string): boolean => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (cause) {
        if (!answered) fail(new HaagentError('HA_ERR_CONTROL', 'the agent sent a reply that is not JSON', { cause }));
        else c.destroy();
        return false;
      }
      if (!answered) {
        answered = true;
        clearTimeout(timer);
        const r = parsed as ControlReply;
        streaming = opts.onEvent !== undefined && r.ok;
        if (!streaming) c.destroy();
        resolve(r);
        return streaming;
      }
      const msg = parsed as { event?: AgentEvent; ok?: boolean; error?: { code?: unknown; message?: unknown } };
      if (msg.ok === false) {
        streamError = endErrorOf(msg);
        return true;
      }
      if (msg.event === undefined || opts.onEvent === undefined) return true;
      const wait = opts.onEvent(msg.event);
      if (!(wait instanceof Promise)) return true;
      paused = true;
      c.pause();
      void wait.catch(() => undefined).then(() => {
        paused = false;
        c.resume();
        drain();
      });
      return false;
    };
    const drain = (): void => {
      let nl: number;
      while (!paused && !c.destroyed && (nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!onLine(line)) return;
      }
      if (buf.length > MAX_REPLY_LINE_CHARS) {
        if (!answered) fail(new HaagentError('HA_ERR_LIMIT', `the agent sent a line longer than ${MAX_REPLY_LINE_CHARS} characters`));
        else c.destroy();
      }
    };
    c.on('data', (chunk: string) => {
      buf += chunk;
      drain();
    });
  });
}

/** `status` request; the agent's refusal becomes HA_ERR_CONTROL. */
export async function requestStatus(path: string, timeoutMs = 3000): Promise<AgentStatus> {
  const r = await request(path, { command: 'status' }, { timeoutMs });
  if (!r.ok) throw new HaagentError('HA_ERR_CONTROL', `the agent refused: ${r.error.message}`);
  if (!('status' in r)) throw new HaagentError('HA_ERR_CONTROL', 'the agent sent no status');
  return r.status;
}
