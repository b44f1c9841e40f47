/**
 * The etcd transport (src/adapters/etcd/transport.ts) against local servers: http through fetch,
 * https with a CA and a client certificate (generated here with openssl; skipped without it),
 * timeouts, oversized replies, and unreadable TLS files refused at construction.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport, MAX_REPLY_BYTES } from '../../../src/adapters/etcd/transport.js';
import { HaagentError } from '../../../src/core/errors.js';

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

t.test('http: the reply with its status; a silent server times out; an oversized reply is refused', async (t) => {
  const server = createHttpServer((req, res) => {
    if (req.url === '/silent') return; // never answers
    if (req.url === '/huge') { res.end(Buffer.alloc(MAX_REPLY_BYTES + 1, 0x61)); return; }
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => { res.statusCode = req.url === '/404' ? 404 : 200; res.end(JSON.stringify({ echo: body, method: req.method })); });
  });
  const port = await listen(server);
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  const tr = createTransport({});
  t.same(await tr.post(`http://127.0.0.1:${port}/v3/kv/range`, '{"key":"YQ=="}', 1000), { ok: true, status: 200, body: '{"echo":"{\\"key\\":\\"YQ==\\"}","method":"POST"}' });
  t.match(await tr.post(`http://127.0.0.1:${port}/404`, '{}', 1000), { ok: true, status: 404 });
  t.same(await tr.post(`http://127.0.0.1:${port}/silent`, '{}', 200), { ok: false, reason: 'no reply within 200 ms' });
  t.same(await tr.post(`http://127.0.0.1:${port}/huge`, '{}', 5000), { ok: false, reason: `reply over ${MAX_REPLY_BYTES} bytes` });
  const closed = createHttpServer();
  const closedPort = await listen(closed);
  closed.close();
  await once(closed, 'close');
  const refused = await tr.post(`http://127.0.0.1:${closedPort}/x`, '{}', 1000);
  t.equal(refused.ok, false);
  t.match(refused.ok ? '' : refused.reason, /ECONNREFUSED/);
});

t.test('unreadable TLS files: HA_ERR_CONFIG naming the key, at construction', (t) => {
  let err: unknown;
  try { createTransport({ tls: { ca: '/nonexistent/etcd-ca.pem' } }); } catch (e) { err = e; }
  t.ok(err instanceof HaagentError);
  t.equal((err as HaagentError).code, 'HA_ERR_CONFIG');
  t.match((err as Error).message, /^etcd\.tls\.ca: cannot read \/nonexistent\/etcd-ca\.pem/);
  t.end();
});

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
t.test('https with a CA and a client certificate', { skip: hasOpenssl ? false : 'openssl is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-etcd-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ossl = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const name of ['server', 'client']) {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1',
      ...(name === 'server' ? ['-extfile', 'server.ext'] : []));
  }
  const server = createHttpsServer({
    key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')),
    ca: readFileSync(join(dir, 'ca.pem')), requestCert: true, rejectUnauthorized: true,
  }, (req, res) => { if (req.url === '/silent') return; res.end(JSON.stringify({ client: (req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN })); });
  const port = await listen(server);
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  const url = `https://127.0.0.1:${port}/v3/lease/grant`;
  const withCert = createTransport({ tls: { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') } });
  t.same(await withCert.post(url, '{}', 3000), { ok: true, status: 200, body: '{"client":"client"}' }, 'the server saw our client certificate');
  t.same(await withCert.post(`https://127.0.0.1:${port}/silent`, '{}', 200), { ok: false, reason: 'no reply within 200 ms' }, 'the deadline holds over https too');
  withCert.close();
  const caOnly = createTransport({ tls: { ca: join(dir, 'ca.pem') } });
  const noCert = await caOnly.post(url, '{}', 3000);
  t.equal(noCert.ok, false, 'a server that requires a client certificate refuses us without one');
  caOnly.close();
  const noCa = createTransport({});
  const untrusted = await noCa.post(url, '{}', 3000);
  t.equal(untrusted.ok, false, 'without the CA the server is not trusted');
});
