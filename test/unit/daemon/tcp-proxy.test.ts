/**
 * TcpProxy (src/daemon/tcp-proxy.ts) on 127.0.0.1: connections go only to the real servers the
 * verdicts given beside the service mark up, and update() moves the next connections.
 */
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { pino } from 'pino';
import t from 'tap';
import type { VirtualService } from '../../../src/core/lb/types.js';
import { TcpProxy } from '../../../src/daemon/tcp-proxy.js';

const log = pino({ level: 'silent' });

/** A server that writes `name` to every connection and closes it. */
async function named(name: string): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => s.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, server };
}

/** What one connection to 127.0.0.1:port reads before the close ('' when refused or reset). */
function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d: Buffer) => { got += d.toString(); });
    s.on('close', () => resolve(got));
    s.on('error', () => undefined);
  });
}

t.test('only up servers get connections; update() changes the verdicts for the next ones', async (t) => {
  const [a, b] = [await named('a'), await named('b')];
  const free = await named('');
  const port = free.port;
  await new Promise<void>((r) => free.server.close(() => r()));
  t.teardown(() => { a.server.close(); b.server.close(); });
  const svc: VirtualService = {
    mode: 'proxy', vip: '127.0.0.1', port, protocol: 'tcp', scheduler: 'round-robin', snat: undefined,
    realServers: [{ address: '127.0.0.1', port: a.port, weight: 1, check: undefined }, { address: '127.0.0.1', port: b.port, weight: 1, check: undefined }],
  };
  const proxy = new TcpProxy(svc, [false, true], log);
  t.teardown(() => proxy.stop());
  await proxy.start();
  t.equal(proxy.error, undefined, 'listening');
  const first: string[] = [];
  for (let i = 0; i < 4; i++) first.push(await ask(port));
  t.same(first, ['b', 'b', 'b', 'b'], 'a is down: every connection to b');
  proxy.update(svc, [true, true]);
  const both: string[] = [];
  for (let i = 0; i < 4; i++) both.push(await ask(port));
  t.same([...both].sort(), ['a', 'a', 'b', 'b'], 'both up: round-robin over a and b');
  proxy.update(svc, [false, false]);
  t.equal(await ask(port), '', 'none up: the connection is closed without data');
});
