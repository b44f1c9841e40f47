import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_BODY_BYTES, run } from '../../../src/adapters/health/http.js';
import { httpCheck, neverSignal, timeoutSignal } from './helpers.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(t: { teardown: (fn: () => unknown) => void }, handler: Handler): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

t.test('a 200 is healthy', async (t) => {
  const url = await serve(t, (_req, res) => res.end('ok'));
  const r = await run(httpCheck(url), neverSignal());
  t.equal(r.ok, true);
  t.equal(r.detail, `GET ${url}: status 200`);
  t.ok(r.latencyMs >= 0);
});

t.test('a status outside expectStatus fails with a readable reason', async (t) => {
  const url = await serve(t, (_req, res) => { res.statusCode = 503; res.end('down'); });
  const r = await run(httpCheck(url), neverSignal());
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: `GET ${url}: status 503, expected 200` });
  const several = await run(httpCheck(url, { expectStatus: [200, 204] }), neverSignal());
  t.equal(several.detail, `GET ${url}: status 503, expected one of 200, 204`);
  t.equal((await run(httpCheck(url, { expectStatus: [503] }), neverSignal())).ok, true, 'any listed status is fine');
});

t.test('bodyContains: match and mismatch', async (t) => {
  const url = await serve(t, (_req, res) => res.end('{"status":"green"}'));
  const yes = await run(httpCheck(url, { bodyContains: '"green"' }), neverSignal());
  t.equal(yes.ok, true, yes.detail);
  const no = await run(httpCheck(url, { bodyContains: 'red' }), neverSignal());
  t.equal(no.ok, false);
  t.equal(no.detail, `GET ${url}: status 200 but the body (18 bytes read) does not contain "red"`);
});

t.test('only the first 64 KiB of the body are read', async (t) => {
  const url = await serve(t, (_req, res) => {
    res.write(Buffer.alloc(MAX_BODY_BYTES, 'a'));
    res.end('needle');
  });
  const r = await run(httpCheck(url, { bodyContains: 'needle' }), neverSignal());
  t.equal(r.ok, false);
  t.match(r.detail, `(${MAX_BODY_BYTES} bytes read)`);
  const early = await run(httpCheck(url, { bodyContains: 'aaaa' }), neverSignal());
  t.equal(early.ok, true);
});

t.test('a server that never answers: timed out', async (t) => {
  const url = await serve(t, () => { /* never answers */ });
  const r = await run(httpCheck(url, { timeoutMs: 200 }), timeoutSignal(200));
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: `GET ${url}: timed out after 200 ms` });
});

t.test('a body that stalls after the headers: timed out too', async (t) => {
  const url = await serve(t, (_req, res) => res.write('partial'));
  const r = await run(httpCheck(url, { timeoutMs: 200, bodyContains: 'done' }), timeoutSignal(200));
  t.equal(r.detail, `GET ${url}: timed out after 200 ms`);
});

t.test('a closed port: connection refused', async (t) => {
  const url = await serve(t, (_req, res) => res.end());
  const port = new URL(url).port;
  const closed = url.replace(`:${port}`, ':1');
  const r = await run(httpCheck(closed), neverSignal());
  t.equal(r.ok, false);
  t.equal(r.detail, `GET ${closed}: connect ECONNREFUSED 127.0.0.1:1`);
});

t.test('an already-aborted signal: no request, aborted', async (t) => {
  const ac = new AbortController();
  ac.abort();
  const r = await run(httpCheck('http://127.0.0.1:1/'), ac.signal);
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: 'GET http://127.0.0.1:1/: aborted' });
});
