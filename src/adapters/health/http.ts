/**
 * HTTP(S) GET check: healthy when the status is one of `expectStatus` and, if `bodyContains` is
 * set, the first 64 KiB of the body contain it. No connection reuse (`agent: false`), no
 * redirects followed. TLS certificates are not verified (like keepalived's SSL_GET): the check
 * asks "does the local service answer", not "is it who it claims to be".
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CheckConfig } from '../../core/config/types.js';
import { abortDetail, errorText, settleOnce, stopwatch, type CheckResult } from './common.js';

export type HttpCheck = Extract<CheckConfig, { type: 'http' }>;

/** Most of the body a check reads. */
export const MAX_BODY_BYTES = 64 * 1024;

function expected(list: readonly number[]): string {
  return list.length === 1 ? `expected ${list[0] ?? ''}` : `expected one of ${list.join(', ')}`;
}

export function run(check: HttpCheck, signal: AbortSignal): Promise<CheckResult> {
  const elapsed = stopwatch();
  const what = `GET ${check.url}`;
  return settleOnce(signal, (finish, onAbort) => {
    if (signal.aborted) {
      finish({ ok: false, detail: `${what}: ${abortDetail(signal, check.timeoutMs)}`, latencyMs: elapsed() });
      return;
    }
    const url = new URL(check.url);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req: ClientRequest = request(url, {
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'haagent-health', connection: 'close' },
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    let res: IncomingMessage | undefined;
    const fail = (reason: string): void => {
      finish({ ok: false, detail: `${what}: ${reason}`, latencyMs: elapsed() });
      res?.destroy();
      req.destroy();
    };
    const pass = (reason: string): void => {
      finish({ ok: true, detail: `${what}: ${reason}`, latencyMs: elapsed() });
      res?.destroy();
      req.destroy();
    };
    onAbort(() => fail(abortDetail(signal, check.timeoutMs)));
    req.on('error', (err) => fail(err.message === '' ? errorText(err) : err.message));
    req.on('response', (r) => {
      res = r;
      const status = r.statusCode ?? 0;
      if (!check.expectStatus.includes(status)) {
        fail(`status ${status}, ${expected(check.expectStatus)}`);
        return;
      }
      const needle = check.bodyContains;
      if (needle === undefined) {
        pass(`status ${status}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const judge = (): void => {
        const body = Buffer.concat(chunks, size);
        if (body.includes(needle)) pass(`status ${status}, body contains ${JSON.stringify(needle)}`);
        else fail(`status ${status} but the body (${size} bytes read) does not contain ${JSON.stringify(needle)}`);
      };
      r.on('data', (chunk: Buffer) => {
        const room = MAX_BODY_BYTES - size;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        chunks.push(part);
        size += part.length;
        if (size >= MAX_BODY_BYTES) judge();
      });
      r.on('end', judge);
      r.on('error', (err) => fail(`reading body: ${errorText(err)}`));
      r.on('aborted', () => fail('connection closed while reading the body'));
    });
    req.end();
  });
}
