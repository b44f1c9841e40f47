import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Alerter, MAX_IN_FLIGHT } from '../../../src/daemon/alerter.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import type { AlertsConfig } from '../../../src/core/config/alerts.js';

const log = pino({ level: 'silent' });
const body = (req: IncomingMessage): Promise<string> => new Promise((resolve) => {
  let b = '';
  req.setEncoding('utf8').on('data', (c: string) => { b += c; }).on('end', () => resolve(b));
});

t.test('a local HTTP receiver and a UDP syslog collector get the alerts, rate-limited', async (t) => {
  const posts: Array<{ path: string | undefined; type: string | undefined; body: unknown }> = [];
  const http = createServer((req, res) => {
    void body(req).then((b) => {
      posts.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(b) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.teardown(() => http.close());
  const port = (http.address() as AddressInfo).port;
  const udp = createSocket('udp4');
  const lines: string[] = [];
  udp.on('message', (m) => lines.push(m.toString()));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  t.teardown(() => udp.close());

  const config: AlertsConfig = {
    targets: [
      { type: 'webhook', url: `http://127.0.0.1:${port}/api/v2/alerts`, format: 'alertmanager', timeoutMs: 2000 },
      { type: 'webhook', url: `http://127.0.0.1:${port}/chat/TOKEN`, format: 'chat', timeoutMs: 2000 },
      { type: 'syslog', facility: 'local3', address: { host: '127.0.0.1', port: udp.address().port } },
    ],
    rateLimit: { burst: 2, perMs: 60_000 },
  };
  let now = 0;
  const alerter = new Alerter(config, { log, clock: () => now, node: 'h1' });
  const bus = new EventBus();
  bus.subscribe((ev) => alerter.onEvent(ev));
  for (let i = 0; i < 5; i++) bus.publish({ type: 'transition', instance: 'web', vrid: 51, from: 'BACKUP', to: 'FAULT', reason: `check failing ${i}` });
  bus.publish({ type: 'check', instance: 'web', check: 'http', status: 'failing', ok: false, detail: 'x', latencyMs: 1 });
  await alerter.flush();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(posts.filter((p) => p.path === '/api/v2/alerts').length, 2, 'two FAULT alerts admitted (burst 2), three suppressed, the check is no alert');
  t.equal(posts.filter((p) => p.path === '/chat/TOKEN').length, 2);
  t.equal(lines.length, 2);
  t.same(alerter.stats, { sent: 6, failed: 0, suppressed: 3, dropped: 0 });
  const am = posts.find((p) => p.path === '/api/v2/alerts');
  t.equal(am?.type, 'application/json');
  t.match(am?.body, [{ labels: { alertname: 'haagent_transition_fault', severity: 'critical', node: 'h1', vrrp_instance: 'web' }, annotations: { summary: /entered FAULT from BACKUP: check failing 0/ } }]);
  t.match(lines[0], /^<154>1 \S+ h1 haagent \d+ transition-fault - \[critical\] haagent on h1: web/);

  now = 60_000; // the bucket refilled: the next one carries the count of the suppressed ones
  bus.publish({ type: 'transition', instance: 'web', vrid: 51, from: 'BACKUP', to: 'FAULT', reason: 'again' });
  await alerter.flush();
  t.match(posts.filter((p) => p.path === '/chat/TOKEN').at(-1)?.body, { text: /again \(\+3 similar suppressed by the rate limit\)$/ });
});

t.test('a failing or hanging target is logged and counted, never thrown, and bounded in flight', async (t) => {
  const warnings: string[] = [];
  const wlog = pino({ level: 'warn' }, { write: (s: string) => { warnings.push(s); } });
  let release: () => void = () => undefined;
  const hang = new Promise<void>((r) => { release = r; });
  const sinks = {
    webhook: (): Promise<void> => hang.then(() => { throw new Error('HTTP 503'); }),
    syslogUdp: (): Promise<void> => Promise.reject(new Error('boom')),
    syslogLocal: (): Promise<void> => { throw new Error('sync boom'); },
  };
  const alerter = new Alerter({
    targets: [{ type: 'webhook', url: 'https://x.example/hook/SECRET', format: 'alertmanager', timeoutMs: 1000 }, { type: 'syslog', facility: 'daemon', address: { host: '127.0.0.1', port: 9 } }, { type: 'syslog', facility: 'daemon', address: undefined }],
    rateLimit: { burst: 1000, perMs: 1000 },
  }, { log: wlog, clock: () => 0, node: 'h1', sinks });
  for (let i = 0; i < MAX_IN_FLIGHT * 2; i++) alerter.onEvent({ at: 'x', type: 'transition', instance: `i${i}`, vrid: 1, from: 'MASTER', to: 'FAULT', reason: 'r' });
  await new Promise((r) => setTimeout(r, 20));
  t.ok(alerter.stats.dropped > 0, `deliveries beyond ${MAX_IN_FLIGHT} in flight are dropped (${alerter.stats.dropped})`);
  t.ok(alerter.stats.failed > 0, 'failures counted');
  release();
  await alerter.flush();
  t.ok(warnings.some((w) => w.includes('webhook https://x.example') && w.includes('HTTP 503')), 'the webhook is named by its origin');
  t.notOk(warnings.some((w) => w.includes('SECRET')), 'never by its token');
  t.equal(alerter.stats.sent + alerter.stats.failed + alerter.stats.dropped, MAX_IN_FLIGHT * 2 * 3);
});
