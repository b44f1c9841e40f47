/** EtcdGateway failover and error handling over a scripted transport (the real etcd is in test/integration/etcd-gateway.test.ts). */
import t from 'tap';
import { EtcdGateway, EtcdServerError } from '../../../src/adapters/etcd/gateway.js';
import type { PostResult, Transport } from '../../../src/adapters/etcd/transport.js';
import type { EtcdConfig } from '../../../src/core/config/types.js';
import { HaagentError } from '../../../src/core/errors.js';

const CFG: EtcdConfig = { endpoints: ['http://e1:2379', 'http://e2:2379', 'http://e3:2379'], leaseTtlS: 2, prefix: '/h', requestTimeoutMs: 300, keepaliveIntervalMs: 250 };
const OK_GRANT = '{"header":{"revision":"3"},"ID":"42","TTL":"2"}';

/** A transport answering by endpoint: a PostResult, or a function of the body. Records every call. */
function scripted(answers: Record<string, PostResult | ((body: string) => PostResult)>): Transport & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    post: async (url, body) => {
      calls.push(url);
      const host = new URL(url).host;
      const a = answers[host] ?? { ok: false, reason: 'ECONNREFUSED' };
      return typeof a === 'function' ? a(body) : a;
    },
    close: () => undefined,
  };
}
const ok = (body: string): PostResult => ({ ok: true, status: 200, body });
const down: PostResult = { ok: false, reason: 'no reply within 300 ms' };

t.test('fails over in order and sticks to the endpoint that answered', async (t) => {
  const tr = scripted({ 'e1:2379': down, 'e2:2379': ok(OK_GRANT), 'e3:2379': ok(OK_GRANT) });
  const gw = new EtcdGateway(CFG, undefined, tr);
  t.same(await gw.grant(2), { leaseId: '42', ttlS: 2 });
  t.same(tr.calls, ['http://e1:2379/v3/lease/grant', 'http://e2:2379/v3/lease/grant']);
  t.equal(gw.preferredEndpoint, 'http://e2:2379');
  tr.calls.length = 0;
  await gw.grant(2);
  t.same(tr.calls, ['http://e2:2379/v3/lease/grant'], 'the next call starts at e2');
});

t.test('all endpoints fail: HA_ERR_ETCD naming each endpoint and its problem; unreachable then reachable', async (t) => {
  const answers: Record<string, PostResult> = { 'e1:2379': down, 'e2:2379': { ok: false, reason: 'ECONNREFUSED connect' }, 'e3:2379': ok('<html>') };
  const gw = new EtcdGateway(CFG, undefined, scripted(answers));
  const events: string[] = [];
  gw.on('reachable', () => events.push('reachable'));
  gw.on('unreachable', () => events.push('unreachable'));
  t.equal(gw.reachable, undefined);
  const err = await gw.grant(2).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof HaagentError);
  t.equal((err as HaagentError).code, 'HA_ERR_ETCD');
  t.match((err as Error).message, /http:\/\/e1:2379: no reply within 300 ms; http:\/\/e2:2379: ECONNREFUSED connect; http:\/\/e3:2379: bad reply to \/v3\/lease\/grant: not JSON/);
  t.equal(gw.reachable, false);
  await gw.grant(2).catch(() => undefined);
  answers['e3:2379'] = ok(OK_GRANT);
  await gw.grant(2);
  t.same(events, ['unreachable', 'reachable'], 'state changes only');
});

t.test('a bad reply from one endpoint is not trusted: the next one is asked', async (t) => {
  const tr = scripted({ 'e1:2379': ok('{"ID":"nope"}'), 'e2:2379': ok(OK_GRANT) });
  const gw = new EtcdGateway(CFG, undefined, tr);
  t.same(await gw.grant(2), { leaseId: '42', ttlS: 2 });
  t.equal(tr.calls.length, 2);
});

t.test('etcd errors: unavailable is retried elsewhere; a definitive one rejects at once; lease not found means gone', async (t) => {
  const noLeader: PostResult = { ok: true, status: 503, body: '{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}' };
  const notFound: PostResult = { ok: true, status: 404, body: '{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}' };
  const tr = scripted({ 'e1:2379': noLeader, 'e2:2379': notFound, 'e3:2379': ok(OK_GRANT) });
  const gw = new EtcdGateway(CFG, undefined, tr);
  t.same(await gw.keepAlive('42'), { ttlS: 0 }, 'not found on keepalive: the lease is gone');
  t.same(tr.calls.map((u) => new URL(u).host), ['e1:2379', 'e2:2379'], 'e3 never asked: e2 gave etcd\'s verdict');
  await gw.revoke('42'); // not found: already revoked, no error
  const err = await gw.put('/h/x', 'v', '42').then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof EtcdServerError);
  t.match((err as Error).message, /etcd http:\/\/e2:2379 refused: etcdserver: requested lease not found \(code 5\)/);
  t.equal(gw.reachable, true);
});

t.test('createIfAbsent: our key found attached to our lease (an earlier attempt applied) counts as held', async (t) => {
  const mine = '{"header":{"revision":"9"},"responses":[{"response_range":{"kvs":[{"key":"L2gvbGVhZGVy","create_revision":"8","mod_revision":"8","value":"bWU=","lease":"42"}]}}]}';
  const gw = new EtcdGateway(CFG, undefined, scripted({ 'e1:2379': ok(mine) }));
  t.same(await gw.createIfAbsent('/h/leader', 'me', '42'), { held: true, createRevision: 8n, value: 'me', revision: 9n, holderLeaseId: '42' });
  const other = await gw.createIfAbsent('/h/leader', 'you', '43');
  t.equal(other.held, false);
  t.equal(other.value, 'me');
});

t.test('requests: base64 keys, txn compares CREATE revision, range over a prefix', async (t) => {
  const bodies: string[] = [];
  const tr = scripted({ 'e1:2379': (body) => { bodies.push(body); return ok('{"header":{"revision":"5"},"succeeded":true}'); } });
  const gw = new EtcdGateway(CFG, undefined, tr);
  t.equal(await gw.deleteIfOwned('/h/leader', 8n), true);
  t.same(JSON.parse(bodies[0] ?? ''), {
    compare: [{ key: 'L2gvbGVhZGVy', target: 'CREATE', result: 'EQUAL', create_revision: '8' }],
    success: [{ request_delete_range: { key: 'L2gvbGVhZGVy' } }],
  });
  t.same(await gw.range('/h/'), []);
  t.same(JSON.parse(bodies[1] ?? ''), { key: 'L2gv', range_end: 'L2gw' });
  t.equal(await gw.get('/h/none'), undefined);
});
