import t from 'tap';
import { createServer, type AddressInfo } from 'node:net';
import { endpoint, run } from '../../../src/adapters/health/tcp.js';
import { neverSignal, tcpCheck, timeoutSignal } from './helpers.js';

t.test('a listening port is healthy and the connection is closed again', async (t) => {
  let closed: Promise<void> = Promise.resolve();
  const server = createServer((sock) => {
    closed = new Promise((resolve) => sock.on('close', () => resolve()));
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const r = await run(tcpCheck('127.0.0.1', port), neverSignal());
  t.same({ ok: r.ok, detail: r.detail }, { ok: true, detail: `connect 127.0.0.1:${port}: connected` });
  await closed;
  t.pass('the server saw the connection closed');
});

t.test('a closed port: ECONNREFUSED', async (t) => {
  // Bind then close to get a port that is (almost certainly) free.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const r = await run(tcpCheck('127.0.0.1', port), neverSignal());
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: `connect 127.0.0.1:${port}: ECONNREFUSED` });
});

t.test('an unanswered SYN times out (or fails at once where 192.0.2.1 is unroutable)', async (t) => {
  // 192.0.2.0/24 is TEST-NET-1: nothing answers. Without a route the connect fails at once instead.
  const r = await run(tcpCheck('192.0.2.1', 80, { timeoutMs: 150 }), timeoutSignal(150));
  t.equal(r.ok, false);
  if (r.detail.includes('timed out')) t.equal(r.detail, 'connect 192.0.2.1:80: timed out after 150 ms');
  else t.match(r.detail, /^connect 192\.0\.2\.1:80: E[A-Z]+$/);
});

t.test('endpoint formats IPv6 with brackets', (t) => {
  t.equal(endpoint('::1', 80), '[::1]:80');
  t.equal(endpoint('10.0.0.1', 80), '10.0.0.1:80');
  t.end();
});
