/** The gateway JSON decoders (src/core/etcd/gateway-wire.ts): real etcd 3.4 replies, and bad replies never throw. */
import t from 'tap';
import fc from 'fast-check';
import {
  b64, decodeCreateIfAbsent, decodeDeleteIfOwned, decodeError, decodeGrant, decodeKeepAlive, decodeRange, decodeRevision,
  isRetryableCode, parseReply, prefixRangeEnd,
} from '../../../src/core/etcd/gateway-wire.js';

// Replies captured from etcd 3.4.23's gateway (curl against a single member).
const HEADER = '"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"2","raft_term":"2"}';
const obj = (text: string): Record<string, unknown> => {
  const r = parseReply(text);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};

t.test('real replies decode', (t) => {
  t.same(decodeGrant(obj(`{${HEADER},"ID":"7587899264286228997","TTL":"2"}`)), { ok: true, value: { leaseId: '7587899264286228997', ttlS: 2 } });
  t.same(decodeKeepAlive(obj(`{"result":{${HEADER},"ID":"7587899264286228997","TTL":"1"}}`)), { ok: true, value: { ttlS: 1 } });
  t.same(decodeKeepAlive(obj(`{"result":{${HEADER},"ID":"123"}}`)), { ok: true, value: { ttlS: 0 } }, 'an expired lease: no TTL');
  t.same(decodeRevision(obj(`{${HEADER}}`)), { ok: true, value: { revision: 2n } });
  const held = decodeCreateIfAbsent(obj(`{${HEADER},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"2"}}}]}`), 'v', '77');
  t.same(held, { ok: true, value: { held: true, createRevision: 2n, value: 'v', revision: 2n, holderLeaseId: '77' } });
  const taken = decodeCreateIfAbsent(obj(`{${HEADER},"responses":[{"response_range":{"header":{"revision":"2"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","value":"Yg==","lease":"99"}],"count":"1"}}]}`), 'v', '77');
  t.same(taken, { ok: true, value: { held: false, createRevision: 2n, value: 'b', revision: 2n, holderLeaseId: '99' } });
  t.same(decodeRange(obj(`{${HEADER}}`)), { ok: true, value: [] }, 'empty range: no kvs');
  t.same(decodeRange(obj(`{${HEADER},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"3","version":"1","value":"Yg=="}],"count":"1"}`)),
    { ok: true, value: [{ key: 'a', value: 'b', createRevision: 2n, modRevision: 3n, leaseId: '0' }] });
  t.same(decodeDeleteIfOwned(obj(`{${HEADER},"succeeded":true}`)), { ok: true, value: true });
  t.same(decodeDeleteIfOwned(obj(`{${HEADER}}`)), { ok: true, value: false });
  t.same(decodeError(404, '{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}'), { code: 5, message: 'etcdserver: requested lease not found' });
  t.same(decodeError(502, '<html>bad gateway</html>'), { code: undefined, message: 'HTTP 502' });
  t.end();
});

t.test('retryable: unavailable, deadline, unknown, cancelled, or a 5xx without a code', (t) => {
  t.equal(isRetryableCode(14, 503), true);
  t.equal(isRetryableCode(4, 504), true);
  t.equal(isRetryableCode(5, 404), false);
  t.equal(isRetryableCode(3, 400), false);
  t.equal(isRetryableCode(undefined, 502), true);
  t.equal(isRetryableCode(undefined, 404), false);
  t.end();
});

t.test('bad replies are refused with a reason, not thrown', (t) => {
  const cases: Array<[string, (r: Record<string, unknown>) => { ok: boolean }]> = [
    ['{"ID":"1"}', decodeGrant],
    ['{"ID":"x","TTL":"2"}', decodeGrant],
    ['{"ID":"0","TTL":"2"}', decodeGrant],
    ['{"result":"x"}', decodeKeepAlive],
    ['{"result":{"TTL":"-1"}}', decodeKeepAlive],
    ['{"header":{}}', decodeRevision],
    ['{"header":{"revision":"2"},"kvs":{}}', decodeRange],
    ['{"header":{"revision":"2"},"kvs":[{"key":"!!!!","create_revision":"1"}]}', decodeRange],
    ['{"header":{"revision":"2"},"kvs":[{"create_revision":"1"}]}', decodeRange],
    ['{"header":{"revision":"2"},"succeeded":"yes"}', decodeDeleteIfOwned],
    ['{"header":{"revision":"2"},"responses":[]}', (r) => decodeCreateIfAbsent(r, 'v', '1')],
  ];
  for (const [text, decode] of cases) {
    const r = decode(obj(text));
    t.equal(r.ok, false, text);
    if (!r.ok) t.ok((r as unknown as { reason: string }).reason.length > 0);
  }
  t.same(parseReply('not json').ok, false);
  t.same(parseReply('[1]').ok, false);
  t.end();
});

t.test('fuzz: no decoder throws on any JSON value (seeded)', (t) => {
  const decoders = [decodeGrant, decodeKeepAlive, decodeRevision, decodeRange, decodeDeleteIfOwned, (r: Record<string, unknown>) => decodeCreateIfAbsent(r, 'v', '1')];
  fc.assert(fc.property(fc.dictionary(fc.constantFrom('header', 'ID', 'TTL', 'result', 'kvs', 'succeeded', 'responses', 'error'), fc.jsonValue({ maxDepth: 4 })), (reply) => {
    for (const d of decoders) d(reply);
    decodeError(500, JSON.stringify(reply));
    return true;
  }), { seed: 42, numRuns: 2000 });
  t.pass('2000 seeded replies');
  t.end();
});

t.test('prefix range end: the next key after every key with the prefix', (t) => {
  t.equal(prefixRangeEnd('/haagent/web/'), b64('/haagent/web0'));
  t.equal(Buffer.from(prefixRangeEnd('a\u00ff'), 'base64').toString('hex'), '61c3c0', 'UTF-8 61 c3 bf: the last byte goes up');
  t.end();
});
