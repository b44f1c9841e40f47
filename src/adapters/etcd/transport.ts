/**
 * One HTTP POST of JSON to one etcd endpoint, bounded in time and in reply size. Never rejects:
 * a reply (any status) is `{ ok: true, status, body }`, anything else (refused, reset, timed
 * out, reply too large) is `{ ok: false, reason }`.
 *
 * http:// endpoints, and https:// ones without a `tls:` mapping, go through Node's built-in
 * fetch (https then trusts the system CAs, plus NODE_EXTRA_CA_CERTS). https:// endpoints with
 * `tls:` go through node:https with the configured CA, client certificate and key (fetch cannot
 * take those without an extra dependency). Both keep connections alive between calls.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { errorMessage, HaagentError } from '../../core/errors.js';
import type { EtcdConfig } from '../../core/config/types.js';

export type PostResult = { ok: true; status: number; body: string } | { ok: false; reason: string };

/** Largest reply read; a larger one is an error (the agent's own keys are tiny). */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024;

export interface Transport {
  post(url: string, body: string, timeoutMs: number): Promise<PostResult>;
  /** Frees pooled connections (idempotent). */
  close(): void;
}

function errorReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no reply within ${timeoutMs} ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  const msg = errorMessage(cause);
  return (code !== '' && !msg.includes(code) ? `${code} ${msg}` : msg).slice(0, 200);
}

async function readBounded(stream: ReadableStream<Uint8Array> | null): Promise<string | undefined> {
  if (stream === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > MAX_REPLY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function fetchPost(url: string, body: string, timeoutMs: number): Promise<PostResult> {
  try {
    const res = await fetch(url, {
      method: 'POST', body, headers: { 'content-type': 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await readBounded(res.body);
    if (text === undefined) return { ok: false, reason: `reply over ${MAX_REPLY_BYTES} bytes` };
    return { ok: true, status: res.status, body: text };
  } catch (err) {
    return { ok: false, reason: errorReason(err, timeoutMs) };
  }
}

function httpsPost(agent: HttpsAgent, url: string, body: string, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const req = httpsRequest(url, { method: 'POST', agent, signal, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_REPLY_BYTES) {
          req.destroy();
          resolve({ ok: false, reason: `reply over ${MAX_REPLY_BYTES} bytes` });
        } else chunks.push(c);
      });
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ ok: false, reason: errorReason(err, timeoutMs) }));
    });
    req.on('error', (err) => resolve({ ok: false, reason: errorReason(signal.aborted ? signal.reason : err, timeoutMs) }));
    req.end(body);
  });
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new HaagentError('HA_ERR_CONFIG', `etcd.tls.${key}: cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * The transport for `cfg`. Reads the TLS files now (so a missing or unreadable one stops the
 * start with HA_ERR_CONFIG naming the key); never prints their contents.
 */
export function createTransport(cfg: Pick<EtcdConfig, 'tls'>): Transport {
  const tls = cfg.tls;
  if (tls === undefined) return { post: fetchPost, close: () => undefined };
  const agent = new HttpsAgent({
    keepAlive: true,
    ...(tls.ca === undefined ? {} : { ca: readPem(tls.ca, 'ca') }),
    ...(tls.cert === undefined ? {} : { cert: readPem(tls.cert, 'cert') }),
    ...(tls.key === undefined ? {} : { key: readPem(tls.key, 'key') }),
  });
  return {
    post: (url, body, timeoutMs) => (url.startsWith('https:') ? httpsPost(agent, url, body, timeoutMs) : fetchPost(url, body, timeoutMs)),
    close: () => agent.destroy(),
  };
}
