/**
 * isRepeatOf: two sends of one advert differ only in the IPv4 Identification and header
 * checksum; any other difference, or a header checksum that does not verify, is no repeat.
 */
import t from 'tap';
import fc from 'fast-check';
import { isRepeatOf } from '../../../src/core/packet/repeat.js';
import { encodeIpv4Datagram } from '../../../src/core/packet/encode.js';

const datagram = (id: number, priority = 150): Uint8Array =>
  encodeIpv4Datagram({ version: 3, family: 4, vrid: 51, priority, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10', '192.0.2.11'] }, { src: '10.0.0.2', dst: '224.0.0.18', id });

t.test('another Identification (and so another header checksum) is a repeat', async (t) => {
  const a = datagram(1);
  const b = datagram(4711);
  t.notOk(Buffer.from(a).equals(Buffer.from(b)), 'the bytes differ');
  t.ok(isRepeatOf(b, a));
  t.ok(isRepeatOf(a, a));
});

t.test('a different priority, length or a broken header checksum is not', async (t) => {
  const a = datagram(1);
  t.notOk(isRepeatOf(datagram(2, 100), a));
  t.notOk(isRepeatOf(a.subarray(0, a.length - 1), a));
  const broken = datagram(2);
  broken[10] = (broken[10] ?? 0) ^ 0xff;
  t.notOk(isRepeatOf(broken, a), 'header checksum does not verify');
  t.notOk(isRepeatOf(new Uint8Array(10), new Uint8Array(10)), 'shorter than an IPv4 header');
});

t.test('any byte changed outside Identification and checksum: not a repeat (seeded)', async (t) => {
  const a = datagram(1);
  fc.assert(fc.property(fc.integer({ min: 0, max: a.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
    if (i === 4 || i === 5 || i === 10 || i === 11) return true;
    const b = Uint8Array.from(a);
    b[i] = (b[i] ?? 0) ^ x;
    return !isRepeatOf(b, a);
  }), { seed: 7, numRuns: 500 });
  t.pass('checked');
});
