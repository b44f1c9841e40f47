/**
 * The control socket: a unix stream socket, mode 0600 in a 0700 directory (root-only), one
 * JSON request per line, one JSON reply per line (src/core/control/types.ts).
 *
 * Contract: a malformed request gets an error reply and the connection stays usable; nothing a
 * client sends can throw into the agent. A stale socket file from a crashed agent is replaced;
 * a socket that a live agent still answers on is not (HA_ERR_CONTROL).
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { HaagentError } from '../core/errors.js';
import { ensurePrivateDir } from '../adapters/secure-dir.js';
import { parseControlRequest, type AgentStatus, type ControlReply, type ControlRequest } from '../core/control/types.js';
import { DEFAULT_EVENT_TYPES, type AgentEvent } from '../core/control/events.js';
import type { EventBus } from './event-bus.js';

/** What the control socket can ask of the agent. Errors thrown here become error replies. */
export interface ControlHandler {
  status(): AgentStatus;
  maintenance(on: boolean, instance: string | undefined): string;
  switchover(instance: string | undefined): string;
  reload(): Promise<string>;
  readonly events: EventBus;
}

const MAX_LINE_BYTES = 64 * 1024;
/** sizeof(sockaddr_un.sun_path) - 1 on Linux. */
const MAX_SOCKET_PATH_BYTES = 107;

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

export class ControlServer {
  private constructor(private readonly server: Server, readonly path: string) {}

  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw new HaagentError('HA_ERR_CONTROL', `control socket path ${path} is ${Buffer.byteLength(path)} bytes; unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}`);
    }
    ensurePrivateDir(dirname(path), 'control socket directory');
    if (await isLive(path)) throw new HaagentError('HA_ERR_CONTROL', `another agent is already answering on ${path}; use --socket to pick another path`);
    try { unlinkSync(path); } catch { /* not there */ }
    const server = createServer((conn) => serve(conn, handler));
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (cause) => reject(new HaagentError('HA_ERR_CONTROL', `cannot listen on ${path}: ${cause.message}`, { cause })));
        server.listen(path, () => resolve());
      });
    } finally {
      process.umask(oldMask);
    }
    chmodSync(path, 0o600);
    return new ControlServer(server, path);
  }

  close(): void {
    this.server.close();
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}

function reply(conn: Socket, r: ControlReply): void {
  if (!conn.destroyed) conn.write(`${JSON.stringify(r)}\n`);
}

function errorReply(err: unknown): ControlReply {
  if (err instanceof HaagentError) return { ok: false, error: { code: err.code, message: err.message } };
  return { ok: false, error: { code: 'HA_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) } };
}

async function answer(conn: Socket, handler: ControlHandler, req: ControlRequest): Promise<void> {
  switch (req.command) {
    case 'status':
      reply(conn, { ok: true, status: handler.status() });
      return;
    case 'maintenance':
      reply(conn, { ok: true, message: handler.maintenance(req.on, req.instance) });
      return;
    case 'switchover':
      reply(conn, { ok: true, message: handler.switchover(req.instance) });
      return;
    case 'reload':
      reply(conn, { ok: true, message: await handler.reload() });
      return;
    case 'events': {
      const types = new Set<AgentEvent['type']>(req.types ?? DEFAULT_EVENT_TYPES);
      reply(conn, { ok: true, message: 'subscribed' });
      const off = handler.events.subscribe((ev) => {
        if (types.has(ev.type) && !conn.destroyed) conn.write(`${JSON.stringify({ event: ev })}\n`);
      });
      conn.once('close', off);
      return;
    }
  }
}

function serve(conn: Socket, handler: ControlHandler): void {
  let buf = '';
  conn.setEncoding('utf8');
  conn.on('error', () => conn.destroy());
  conn.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > MAX_LINE_BYTES) {
      reply(conn, { ok: false, error: { code: 'HA_ERR_CONTROL', message: `request longer than ${MAX_LINE_BYTES} bytes` } });
      conn.end();
      return;
    }
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      const req = parseControlRequest(line);
      if (!req.ok) {
        reply(conn, { ok: false, error: { code: 'HA_ERR_CONTROL', message: req.message } });
        continue;
      }
      answer(conn, handler, req.request).catch((err: unknown) => reply(conn, errorReply(err)));
    }
  });
}

/**
 * Client side: one request, one reply (or, for `events`, the reply then `onEvent` per line until
 * the connection closes: abort `signal` to end it; `onClose` tells when the agent went away).
 * HA_ERR_NO_AGENT when nothing listens at `path`.
 */
export function request(
  path: string,
  req: ControlRequest,
  opts: { timeoutMs?: number; onEvent?: (ev: AgentEvent) => void; signal?: AbortSignal; onClose?: () => void } = {},
): Promise<ControlReply> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    opts.signal?.addEventListener('abort', () => c.destroy(), { once: true });
    if (opts.onClose !== undefined) c.once('close', opts.onClose);
    let buf = '';
    let answered = false;
    const timer = setTimeout(() => { c.destroy(); reject(new HaagentError('HA_ERR_CONTROL', `no reply from the agent on ${path} within ${timeoutMs} ms`)); }, timeoutMs);
    c.setEncoding('utf8');
    c.once('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('error', (cause: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (cause.code === 'ENOENT' || cause.code === 'ECONNREFUSED') {
        reject(new HaagentError('HA_ERR_NO_AGENT', `no haagent is running (nothing listens on ${path}); start one with "haagent start" or pass --socket`, { cause }));
      } else if (cause.code === 'EACCES') {
        reject(new HaagentError('HA_ERR_CONTROL', `permission denied on ${path}: the control socket is root-only`, { cause }));
      } else {
        reject(new HaagentError('HA_ERR_CONTROL', `cannot talk to the agent on ${path}: ${cause.message}`, { cause }));
      }
    });
    c.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch (cause) {
          c.destroy();
          reject(new HaagentError('HA_ERR_CONTROL', 'the agent sent a reply that is not JSON', { cause }));
          return;
        }
        if (!answered) {
          answered = true;
          clearTimeout(timer);
          const r = parsed as ControlReply;
          if (opts.onEvent === undefined || !r.ok) c.destroy();
          resolve(r);
        } else if (opts.onEvent !== undefined) {
          const ev = (parsed as { event?: AgentEvent }).event;
          if (ev !== undefined) opts.onEvent(ev);
        }
      }
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
