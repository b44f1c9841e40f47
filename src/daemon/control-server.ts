/**
 * The control socket: a unix stream socket, mode 0600 in a 0700 directory (root-only), one
 * JSON request per line, one JSON reply per line (src/core/control/types.ts).
 *
 * Contract: a malformed request gets an error reply and the connection stays usable; nothing a
 * client sends can throw into the agent. A stale socket file from a crashed agent is replaced;
 * a socket that a live agent still answers on is not (HA_ERR_CONTROL).
 */
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { HaagentError } from '../core/errors.js';
import { parseControlRequest, type AgentStatus, type ControlReply } from '../core/control/types.js';

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

  static async listen(path: string, status: () => AgentStatus): Promise<ControlServer> {
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw new HaagentError('HA_ERR_CONTROL', `control socket path ${path} is ${Buffer.byteLength(path)} bytes; unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}`);
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (await isLive(path)) throw new HaagentError('HA_ERR_CONTROL', `another agent is already answering on ${path}; use --socket to pick another path`);
    try { unlinkSync(path); } catch { /* not there */ }
    const server = createServer((conn) => serve(conn, status));
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

function serve(conn: Socket, status: () => AgentStatus): void {
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
      try {
        reply(conn, { ok: true, status: status() });
      } catch (err) {
        reply(conn, { ok: false, error: { code: 'HA_ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) } });
      }
    }
  });
}

/** Client side: one request, one reply. HA_ERR_NO_AGENT when nothing listens at `path`. */
export function requestStatus(path: string, timeoutMs = 3000): Promise<AgentStatus> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => { c.destroy(); reject(new HaagentError('HA_ERR_CONTROL', `no reply from the agent on ${path} within ${timeoutMs} ms`)); }, timeoutMs);
    c.setEncoding('utf8');
    c.once('connect', () => c.write('{"command":"status"}\n'));
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
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      c.destroy();
      let r: ControlReply;
      try {
        r = JSON.parse(buf.slice(0, nl)) as ControlReply;
      } catch (cause) {
        reject(new HaagentError('HA_ERR_CONTROL', `the agent sent a reply that is not JSON`, { cause }));
        return;
      }
      if (r.ok) resolve(r.status);
      else reject(new HaagentError('HA_ERR_CONTROL', `the agent refused: ${r.error.message}`));
    });
  });
}
