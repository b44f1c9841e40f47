/**
 * Prometheus exposition of the agent: `GET /metrics` on a loopback (or operator-chosen) address.
 *
 * Contract: `startMetricsServer(listen, source)` listens on `listen` ("127.0.0.1:9650",
 * "[::1]:9650"; port 0 picks a free port, `url` tells which) and answers `GET`/`HEAD /metrics`
 * (query string ignored) with the text exposition of its own prom-client Registry (never the
 * global one), any other path with 404 and any other method on /metrics with 405. Gauges and
 * status-derived counters are refreshed from one `source.status()` snapshot per scrape; the
 * event-derived series accumulate from `source.events` ('event' -> AgentEvent) from the moment
 * the server starts. `close()` stops listening, drops open (keep-alive) connections and detaches
 * from `source.events`; it is idempotent. No authentication and no TLS: bind it to loopback, or
 * put a proxy in front.
 *
 * The metrics themselves, their HELP texts and how each is read: src/daemon/metric-defs.ts.
 */
import type { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { AgentStatus } from '../core/control/types.js';
import type { AgentEvent } from '../core/control/events.js';
import { errorMessage, HaagentError } from '../core/errors.js';
import { createMetrics } from './metric-registry.js';

export interface MetricsSource {
  status(): AgentStatus;
  readonly events: EventEmitter;
}

export interface MetricsServer {
  /** The metrics endpoint, e.g. 'http://127.0.0.1:9650/metrics' (the real port when 0 was asked). */
  readonly url: string;
  close(): Promise<void>;
}

/** Splits "host:port" / "[v6]:port"; port 0..65535. Throws HA_ERR_INVALID_ARGUMENT. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || !(port >= 0 && port <= 65535)) {
    throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `metrics listen address ${JSON.stringify(listen)} is not "host:port" or "[ipv6]:port"`);
  }
  if (m[1] !== undefined && isIP(host) !== 6) {
    throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `metrics listen address ${JSON.stringify(listen)}: ${host} is not an IPv6 address`);
  }
  return { host, port };
}

/** Starts the HTTP metrics endpoint; rejects with HA_ERR_INVALID_ARGUMENT or HA_ERR_CONTROL (listen failed). */
export async function startMetricsServer(listen: string, source: MetricsSource): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const metrics = createMetrics();

  const onEvent = (ev: AgentEvent): void => {
    try {
      metrics.onEvent(ev);
    } catch {
      // A malformed event must not throw into the emitter (the agent's own code path).
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      metrics.refresh(source.status());
      body = await metrics.registry.metrics();
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot collect metrics: ${errorMessage(err)}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (cause: Error): void => {
      reject(new HaagentError('HA_ERR_CONTROL', `cannot serve metrics on ${listen}: ${cause.message}`, { cause }));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // After listening, a server error (rare: e.g. EMFILE on accept) must not crash the agent.
  server.on('error', () => {});
  source.events.on('event', onEvent);

  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/metrics`;

  let closing: Promise<void> | undefined;
  return {
    url,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        source.events.off('event', onEvent);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
