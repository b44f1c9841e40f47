/**
 * Peer hello codec: a hand-checked golden vector (the MAC cross-checked with Python's hmac
 * module), the MAC round trip, one test per rejection reason, and the encoder's refusals.
 */
import t from 'tap';
import { HaagentError } from '../../../src/core/errors.js';
import { decodeHello, encodeHello, HELLO_MAX_BYTES, HELLO_MAX_EPOCH, HELLO_MAX_SEQ } from '../../../src/core/peer/hello.js';
import type { Hello } from '../../../src/core/peer/hello.js';

const HELLO: Hello = {
  v: 2,
  instance: 'web',
  vrid: 51,
  node: 'lb-a',
  state: 'MASTER',
  priority: 150,
  vrrpAddress: '10.98.1.1',
  advertIntervalCs: 100,
  epoch: 7,
  fingerprint: '0123456789abcdef',
  boot: '00112233445566ff',
  bootMs: 1_767_225_600_000,
  seq: 42,
};

const GOLDEN_JSON =
  '{"v":2,"instance":"web","vrid":51,"node":"lb-a","state":"MASTER","priority":150,' +
  '"vrrpAddress":"10.98.1.1","advertIntervalCs":100,"epoch":7,"fingerprint":"0123456789abcdef","boot":"00112233445566ff",' +
  '"bootMs":1767225600000,"seq":42}';
// python3 -c "import hmac,hashlib; print(hmac.new(b'sekrit', GOLDEN_JSON.encode(), hashlib.sha256).hexdigest())"
const GOLDEN_MAC = 'bdcb3202986eaa8555dab13abb3d839eadab831b726adb7ed63e7ab66f56dd93';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test('golden vector: fields in fixed order, plain JSON, no MAC without a key', async (t) => {
  t.equal(text(encodeHello(HELLO)), GOLDEN_JSON);
  t.same(decodeHello(bytes(GOLDEN_JSON)), { ok: true, hello: HELLO });
});

t.test('golden vector with a key: JSON, "\\n", hex HMAC-SHA256 of the JSON bytes', async (t) => {
  t.equal(text(encodeHello(HELLO, 'sekrit')), `${GOLDEN_JSON}\n${GOLDEN_MAC}`);
  t.same(decodeHello(bytes(`${GOLDEN_JSON}\n${GOLDEN_MAC}`), 'sekrit'), { ok: true, hello: HELLO });
  t.same(decodeHello(bytes(`${GOLDEN_JSON}\n${GOLDEN_MAC.toUpperCase()}`), 'sekrit'), { ok: true, hello: HELLO }, 'hex case does not matter');
});

t.test('MAC round trip; the decoded hello is frozen and carries only hello fields', async (t) => {
  const wire = encodeHello({ ...HELLO, state: 'BACKUP', priority: 0, vrrpAddress: 'fe80::1', seq: HELLO_MAX_SEQ }, 'k');
  const r = decodeHello(wire, 'k');
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.hello.state, 'BACKUP');
  t.equal(r.hello.seq, HELLO_MAX_SEQ);
  t.ok(Object.isFrozen(r.hello));
});

t.test('unknown fields are ignored (a later minor version may add some) and dropped', async (t) => {
  const r = decodeHello(bytes(GOLDEN_JSON.replace('"seq":42}', '"seq":42,"future":{"x":1}}')));
  t.same(r, { ok: true, hello: HELLO });
  if (r.ok) t.notOk('future' in r.hello);
});

t.test('rejects: too-long', async (t) => {
  const r = decodeHello(new Uint8Array(HELLO_MAX_BYTES + 1).fill(0x20));
  t.match(r, { ok: false, reason: 'too-long' });
});

t.test('rejects: bad-json (not JSON, invalid UTF-8)', async (t) => {
  t.match(decodeHello(bytes('{"v":1,')), { ok: false, reason: 'bad-json' });
  t.match(decodeHello(new Uint8Array([0x7b, 0xff, 0x7d])), { ok: false, reason: 'bad-json' });
  t.match(decodeHello(new Uint8Array(0)), { ok: false, reason: 'bad-json' });
});

t.test('rejects: bad-field, one per field rule, naming the field', async (t) => {
  const cases: Array<[string, Record<string, unknown> | unknown]> = [
    ['v', { ...HELLO, v: 1 }],
    ['v', { ...HELLO, v: 3 }],
    ['instance', { ...HELLO, instance: '' }],
    ['instance', { ...HELLO, instance: 'a\u0000b' }],
    ['instance', { ...HELLO, instance: 'x'.repeat(256) }],
    ['node', { ...HELLO, node: 5 }],
    ['vrid', { ...HELLO, vrid: 0 }],
    ['vrid', { ...HELLO, vrid: 256 }],
    ['vrid', { ...HELLO, vrid: 1.5 }],
    ['state', { ...HELLO, state: 'master' }],
    ['priority', { ...HELLO, priority: -1 }],
    ['priority', { ...HELLO, priority: '100' }],
    ['vrrpAddress', { ...HELLO, vrrpAddress: '10.98.1.256' }],
    ['vrrpAddress', { ...HELLO, vrrpAddress: 'fe80::1%eth0' }],
    ['vrrpAddress', { ...HELLO, vrrpAddress: '10.0.0.1/24' }],
    ['advertIntervalCs', { ...HELLO, advertIntervalCs: 0 }],
    ['epoch', { ...HELLO, epoch: -1 }],
    ['epoch', { ...HELLO, epoch: 2 ** 53 }],
    ['epoch', { ...HELLO, epoch: Number.MAX_SAFE_INTEGER }],
    ['epoch', { ...HELLO, epoch: HELLO_MAX_EPOCH + 1 }],
    ['epoch', { ...HELLO, epoch: 1e300 }],
    ['boot', (({ boot: _boot, ...rest }) => rest)(HELLO)],
    ['boot', { ...HELLO, boot: '00112233445566FF' }],
    ['boot', { ...HELLO, boot: '0011223344556' }],
    ['boot', { ...HELLO, boot: '00112233445566ff00' }],
    ['boot', { ...HELLO, boot: 1234 }],
    ['fingerprint', { ...HELLO, fingerprint: 'ABCDEF' }],
    ['fingerprint', { ...HELLO, fingerprint: '' }],
    ['bootMs', { ...HELLO, bootMs: -1 }],
    ['bootMs', { ...HELLO, bootMs: 2 ** 48 }],
    ['bootMs', { ...HELLO, bootMs: '1767225600000' }],
    ['seq', { ...HELLO, seq: HELLO_MAX_SEQ + 1 }],
    ['seq', { ...HELLO, seq: -1 }],
    ['seq', (({ seq: _seq, ...rest }) => rest)(HELLO)],
    ['JSON object', [HELLO]],
    ['JSON object', null],
  ];
  for (const [field, obj] of cases) {
    const r = decodeHello(bytes(JSON.stringify(obj)));
    t.match(r, { ok: false, reason: 'bad-field', detail: new RegExp(field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }, `${field}: ${JSON.stringify(obj).slice(0, 60)}`);
  }
});

t.test('rejects: bad-mac (wrong key, tampered JSON, malformed MAC)', async (t) => {
  const wire = encodeHello(HELLO, 'right');
  t.match(decodeHello(wire, 'wrong'), { ok: false, reason: 'bad-mac', detail: /does not match/ });
  const tampered = text(wire).replace('"priority":150', '"priority":250');
  t.match(decodeHello(bytes(tampered), 'right'), { ok: false, reason: 'bad-mac' });
  t.match(decodeHello(bytes(`${GOLDEN_JSON}\n${GOLDEN_MAC.slice(0, 63)}`), 'sekrit'), { ok: false, reason: 'bad-mac', detail: /64 hex digits/ });
  t.match(decodeHello(bytes(`${GOLDEN_JSON}\n${GOLDEN_MAC}\n`), 'sekrit'), { ok: false, reason: 'bad-mac' }, 'trailing bytes');
  t.match(decodeHello(bytes(`${GOLDEN_JSON}\n${'g'.repeat(64)}`), 'sekrit'), { ok: false, reason: 'bad-mac' });
  t.match(decodeHello(new Uint8Array([...bytes(`${GOLDEN_JSON}\n`), 0xff]), 'sekrit'), { ok: false, reason: 'bad-mac' });
});

t.test('rejects: missing-mac (key here, none on the wire)', async (t) => {
  t.match(decodeHello(encodeHello(HELLO), 'sekrit'), { ok: false, reason: 'missing-mac' });
});

t.test('rejects: unexpected-mac (MAC on the wire, no key here; an empty key is no key)', async (t) => {
  t.match(decodeHello(encodeHello(HELLO, 'sekrit')), { ok: false, reason: 'unexpected-mac' });
  t.match(decodeHello(encodeHello(HELLO, 'sekrit'), ''), { ok: false, reason: 'unexpected-mac' });
});

t.test('with a key, the MAC is checked before the JSON is parsed', async (t) => {
  t.match(decodeHello(bytes(`not json\n${GOLDEN_MAC}`), 'sekrit'), { ok: false, reason: 'bad-mac' });
});

t.test('epoch and seq bounds: the largest accepted, one more refused by encoder and decoder', async (t) => {
  t.ok(HELLO_MAX_EPOCH < Number.MAX_SAFE_INTEGER / 2 ** 4, 'the bound is far inside exact integers');
  t.ok(Number.isSafeInteger(HELLO_MAX_EPOCH + 1_000_001), 'epoch + margin stays exact');
  t.match(decodeHello(encodeHello({ ...HELLO, epoch: HELLO_MAX_EPOCH }, 'k'), 'k'), { ok: true, hello: { epoch: HELLO_MAX_EPOCH } });
  t.throws(() => encodeHello({ ...HELLO, epoch: HELLO_MAX_EPOCH + 1 }, 'k'), { code: 'HA_ERR_ENCODE', message: /epoch/ });
  t.throws(() => encodeHello({ ...HELLO, seq: HELLO_MAX_SEQ + 1 }, 'k'), { code: 'HA_ERR_ENCODE', message: /seq/ });
  // A forged 2^53-1 epoch (what once crashed the agent) is refused on the wire, keyed or not.
  const forged = JSON.stringify({ ...HELLO, epoch: Number.MAX_SAFE_INTEGER });
  t.match(decodeHello(bytes(forged)), { ok: false, reason: 'bad-field', detail: /epoch/ });
});

t.test('encodeHello refuses what the peer would reject', async (t) => {
  try {
    encodeHello({ ...HELLO, priority: 256 });
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof HaagentError, 'a HaagentError');
    t.match(e, { code: 'HA_ERR_ENCODE', message: /priority/ });
  }
  t.throws(() => encodeHello({ ...HELLO, vrrpAddress: 'lb-a' }), { code: 'HA_ERR_ENCODE' });
  t.throws(() => encodeHello(HELLO, ''), { code: 'HA_ERR_INVALID_ARGUMENT' });
  // Extra properties on the object never reach the wire.
  const extra = { ...HELLO, password: 'x' } as Hello;
  t.equal(text(encodeHello(extra)), GOLDEN_JSON);
});

t.test('the largest valid hello fits the datagram limit', async (t) => {
  const big: Hello = {
    ...HELLO,
    instance: 'i'.repeat(255),
    node: 'n'.repeat(255),
    vrrpAddress: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
    epoch: HELLO_MAX_EPOCH,
    fingerprint: 'f'.repeat(64),
    state: 'STOPPED',
    seq: HELLO_MAX_SEQ,
  };
  const wire = encodeHello(big, 'k');
  t.ok(wire.length <= HELLO_MAX_BYTES, `${wire.length} bytes`);
  t.same(decodeHello(wire, 'k'), { ok: true, hello: big });
});

t.test('names with quotes, backslashes and non-ASCII survive (JSON escaping, no raw newline)', async (t) => {
  const h: Hello = { ...HELLO, instance: 'we"b\\ü', node: 'nœud-★' };
  const wire = encodeHello(h, 'k');
  t.equal(wire.indexOf(0x0a), wire.length - 65, 'the only newline is the MAC separator');
  t.same(decodeHello(wire, 'k'), { ok: true, hello: h });
});
