/**
 * Sequence numbers and anti-replay of the HMAC trailer (hmac-replay.ts), and a seeded fuzz of
 * sign -> decode -> authenticate: what we sign verifies, and no single flipped byte of a signed
 * advert is ever accepted.
 */
import fc from 'fast-check';
import t from 'tap';
import { decodeAdvertisement } from '../../../src/core/packet/decode.js';
import { encodeAdvertisement } from '../../../src/core/packet/encode.js';
import { authenticateAdvert, type HmacPolicy } from '../../../src/core/packet/hmac-auth.js';
import { ReplayMarks, clockSequence, nextSendSequence, sequenceAfter, skewSeconds } from '../../../src/core/packet/hmac-replay.js';
import { parseIp } from '../../../src/core/packet/ip.js';
import type { Advertisement } from '../../../src/core/packet/vrrp-types.js';

const MAX64 = (1n << 64n) - 1n;

t.test('clock sequence: seconds, a 1/65536 s fraction, counter zero', (t) => {
  t.equal(clockSequence(1_796_062_475_517.629), (0x6b0dbd0bn << 32n) | (BigInt(Math.floor(517 * 65536 / 1000)) << 16n));
  t.equal(clockSequence(0), 0n);
  t.equal(clockSequence(2 ** 32 * 1000 + 500), 32768n << 16n, 'seconds wrap at 2^32; half a second is 32768/65536');
  t.end();
});

t.test('serial-number order over 64 bits survives the wrap', (t) => {
  t.ok(sequenceAfter(2n, 1n));
  t.notOk(sequenceAfter(1n, 1n));
  t.notOk(sequenceAfter(1n, 2n));
  t.ok(sequenceAfter(0n, MAX64), '0 follows 2^64-1');
  t.notOk(sequenceAfter(MAX64, 0n));
  t.end();
});

t.test('sender: sequences grow, several per fraction, and through clock steps back (time mode: within the window)', (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    fc.array(fc.integer({ min: -3000, max: 3000 }), { minLength: 1, maxLength: 60 }),
    fc.constantFrom('time' as const, 'monotonic' as const),
    (start, steps, mode) => {
      let now = start;
      let last: bigint | undefined;
      for (const step of steps) {
        now += step;
        const next = nextSendSequence(last, now, mode, 5);
        // The one exception: time mode restarts from the clock once it ran more than the
        // window ahead of it (receivers would reject it anyway).
        const restarted = mode === 'time' && last !== undefined && skewSeconds(last, now) < -5 && next === clockSequence(now);
        if (last !== undefined && !sequenceAfter(next, last) && !restarted) return false;
        last = next;
      }
      return true;
    },
  ), { seed: 0x5eed01, numRuns: 300 });
  const a = nextSendSequence(undefined, 1_000_000, 'time', 5);
  t.equal(nextSendSequence(a, 1_000_000, 'time', 5), a + 1n, 'same instant: the counter counts');
  t.end();
});

t.test('sender: after a corrected forward clock step, time mode restarts from the clock, monotonic does not', (t) => {
  const stepped = nextSendSequence(undefined, 2_000_000_000_000 + 3_600_000, 'time', 5); // an hour ahead
  const now = 2_000_000_000_000;
  t.equal(nextSendSequence(stepped, now, 'time', 5), clockSequence(now), 'time: back to the clock, receivers accept it');
  t.equal(nextSendSequence(stepped, now, 'monotonic', 5), stepped + 1n, 'monotonic: strict growth');
  t.equal(nextSendSequence(clockSequence(now + 4000), now, 'time', 5), clockSequence(now + 4000) + 1n, 'within the window: keeps growing');
  t.equal(skewSeconds(clockSequence(now - 7000), now), 7);
  t.end();
});

t.test('replay marks: bounded per sender, the least recently heard one goes', (t) => {
  const m = new ReplayMarks(2);
  m.set('a', 1n);
  m.set('b', 2n);
  m.set('a', 3n);
  m.set('c', 4n);
  t.equal(m.size, 2);
  t.equal(m.get('b'), undefined, 'b was heard longest ago');
  t.equal(m.get('a'), 3n);
  t.equal(m.get('c'), 4n);
  t.end();
});

t.test('a stale mark is forgotten in time mode (a sender that recovered from a clock step is heard again)', (t) => {
  const keys = new Map([[1, new Uint8Array(32).fill(1)]]);
  const policy: HmacPolicy = { keys, mode: 'enforce', antiReplay: 'time', timeWindowSec: 5 };
  const now = 1_800_000_000_000;
  const advert: Advertisement = { version: 3, family: 4, vrid: 9, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.9'] };
  const msg = encodeAdvertisement(advert, { src: '192.0.2.1', dst: '224.0.0.18', hmac: { keyId: 1, key: keys.get(1)!, sequence: clockSequence(now) } });
  const r = decodeAdvertisement(msg, { family: 4, src: '192.0.2.1', dst: '224.0.0.18', ttl: 255 });
  if (!r.ok) throw new Error(r.detail);
  const b = { family: 4 as const, version: 3 as const, vrid: 9, src: parseIp('192.0.2.1')! };
  const aheadMark = clockSequence(now + 3_600_000);
  t.match(authenticateAdvert(r.signed, b, policy, aheadMark, now), { ok: true }, 'time: a mark an hour ahead no longer orders');
  t.match(authenticateAdvert(r.signed, b, { ...policy, antiReplay: 'monotonic' }, aheadMark, now), { ok: false, reason: 'auth-replay' }, 'monotonic keeps it');
  t.end();
});

t.test('fuzz: what we sign verifies; any single flipped byte is dropped', (t) => {
  const key = new Uint8Array(48).map((_, i) => i * 7);
  const policy: HmacPolicy = { keys: new Map([[9, key]]), mode: 'enforce', antiReplay: 'monotonic', timeWindowSec: 5 };
  const arb = fc.record({
    family: fc.constantFrom(4 as const, 6 as const),
    v2: fc.boolean(),
    vrid: fc.integer({ min: 1, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    count: fc.integer({ min: 0, max: 4 }),
    sequence: fc.bigInt({ min: 0n, max: MAX64 }),
    flip: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  });
  fc.assert(fc.property(arb, (c) => {
    const version = c.family === 4 && c.v2 ? 2 : 3;
    const src = c.family === 4 ? '192.0.2.1' : 'fe80::1';
    const dst = c.family === 4 ? '224.0.0.18' : 'ff02::12';
    const addresses = Array.from({ length: c.count }, (_, i) => (c.family === 4 ? `192.0.2.${10 + i}` : `2001:db8::${10 + i}`));
    const advert: Advertisement = { version, family: c.family, vrid: c.vrid, priority: c.priority, maxAdvertIntervalCs: 100, addresses };
    const msg = encodeAdvertisement(advert, { src, dst, hmac: { keyId: 9, key, sequence: c.sequence } });
    const ctx = { family: c.family, src, dst, ttl: 255 };
    const b = { family: c.family, version, vrid: c.vrid, src: parseIp(src)! } as const;
    const good = decodeAdvertisement(msg, ctx);
    if (!good.ok || !authenticateAdvert(good.signed, b, policy, undefined, 0).ok) return false;
    const bad = new Uint8Array(msg);
    const at = c.flip % bad.length;
    bad[at] = (bad[at] ?? 0) ^ (1 << c.bit);
    const r = decodeAdvertisement(bad, ctx);
    if (!r.ok) return true;
    // A flip that still decodes (same VRID) must fail authentication.
    return !authenticateAdvert(r.signed, { ...b, vrid: r.advert.vrid }, policy, undefined, 0).ok;
  }), { seed: 0x5eed02, numRuns: 1500 });
  t.end();
});
