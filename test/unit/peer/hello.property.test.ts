/**
 * Property tests (fast-check): every valid hello survives encode -> decode unchanged, with and
 * without a key; arbitrary bytes never make the decoder throw; a flipped byte of an
 * authenticated hello is never accepted.
 */
import fc from 'fast-check';
import t from 'tap';
import { decodeHello, encodeHello, HELLO_MAX_EPOCH, HELLO_MAX_SEQ, HELLO_STATES } from '../../../src/core/peer/hello.js';
import type { Hello } from '../../../src/core/peer/hello.js';
import { formatIpv4, formatIpv6 } from '../../../src/core/packet/ip.js';

// eslint-disable-next-line no-control-regex
const name = fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && s.length <= 255);
const address = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIpv4),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIpv6),
);
const hello: fc.Arbitrary<Hello> = fc.record({
  v: fc.constant(2 as const),
  instance: name,
  vrid: fc.integer({ min: 1, max: 255 }),
  node: name,
  state: fc.constantFrom(...HELLO_STATES),
  priority: fc.integer({ min: 0, max: 255 }),
  vrrpAddress: address,
  advertIntervalCs: fc.integer({ min: 1, max: 25_500 }),
  epoch: fc.integer({ min: 0, max: HELLO_MAX_EPOCH }),
  fingerprint: fc.stringMatching(/^[0-9a-f]{1,64}$/),
  boot: fc.stringMatching(/^[0-9a-f]{16}$/),
  bootMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
  seq: fc.integer({ min: 0, max: HELLO_MAX_SEQ }),
});
const key = fc.string({ minLength: 1, maxLength: 64 });

t.test('valid hellos round-trip without a key', async (t) => {
  fc.assert(fc.property(hello, (h) => {
    const r = decodeHello(encodeHello(h));
    return r.ok && JSON.stringify(r.hello) === JSON.stringify(h);
  }), { numRuns: 500 });
  t.pass('500 runs');
});

t.test('valid hellos round-trip with a key', async (t) => {
  fc.assert(fc.property(hello, key, (h, k) => {
    const r = decodeHello(encodeHello(h, k), k);
    return r.ok && JSON.stringify(r.hello) === JSON.stringify(h);
  }), { numRuns: 500 });
  t.pass('500 runs');
});

t.test('a hello authenticated with one key never decodes with another', async (t) => {
  fc.assert(fc.property(hello, key, key, (h, k1, k2) => {
    fc.pre(k1 !== k2);
    const r = decodeHello(encodeHello(h, k1), k2);
    return !r.ok && r.reason === 'bad-mac';
  }), { numRuns: 200 });
  t.pass('200 runs');
});

t.test('any changed byte of an authenticated hello is rejected', async (t) => {
  fc.assert(fc.property(hello, key, fc.nat(), fc.integer({ min: 1, max: 255 }), (h, k, at, delta) => {
    const wire = encodeHello(h, k);
    const i = at % wire.length;
    const bad = Uint8Array.from(wire);
    bad[i] = ((bad[i] ?? 0) + delta) & 0xff;
    const r = decodeHello(bad, k);
    // Only a hex-case change of the MAC itself is the same MAC.
    const same = r.ok && i > wire.indexOf(0x0a) && String.fromCharCode(bad[i] ?? 0).toLowerCase() === String.fromCharCode(wire[i] ?? 0);
    return !r.ok || same;
  }), { numRuns: 500 });
  t.pass('500 runs');
});

t.test('random bytes never make the decoder throw', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2100 }), fc.option(key, { nil: undefined }), (b, k) => {
    const r = decodeHello(b, k);
    return typeof r.ok === 'boolean';
  }), { numRuns: 1000 });
  fc.assert(fc.property(fc.json(), fc.option(key, { nil: undefined }), (j, k) => {
    const r = decodeHello(new TextEncoder().encode(j), k);
    return typeof r.ok === 'boolean';
  }), { numRuns: 1000 });
  fc.assert(fc.property(hello, fc.string(), fc.jsonValue(), (h, field, value) => {
    const r = decodeHello(new TextEncoder().encode(JSON.stringify({ ...h, [field]: value })));
    return typeof r.ok === 'boolean';
  }), { numRuns: 1000 });
  t.pass('3000 runs');
});
