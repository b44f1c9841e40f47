/**
 * Hand-computed VRRP messages. Each checksum is worked out in the comment above it:
 * add the 16-bit words (checksum field taken as 0), fold the carries back in, complement.
 */
import t from 'tap';
import { decodeAdvertisement } from '../../../src/core/packet/decode.js';
import { encodeAdvertisement } from '../../../src/core/packet/encode.js';
import type { Advertisement } from '../../../src/core/packet/vrrp-types.js';
import { fromHex, referenceChecksum, toHex } from './hex.js';

interface Golden {
  readonly name: string;
  readonly advert: Advertisement;
  readonly src: string;
  readonly dst: string;
  readonly hex: string;
  readonly checksumForm: 'v2' | 'v3-pseudo' | 'v3-no-pseudo' | 'v3-ipv6';
  /** The bytes the independent reference checksum runs over (pseudo-header + message). */
  readonly summed: string;
}

const vectors: Golden[] = [
  {
    // 21 01 64 01 | 00 01 [cs] | c0 a8 01 0a | 00 00 00 00 00 00 00 00
    // words: 2101 + 6401 + 0001 + c0a8 + 010a (+ zeros)
    //   2101 + 6401 = 8502; + 0001 = 8503; + c0a8 = 145ab; + 010a = 146b5
    //   fold: 46b5 + 1 = 46b6; complement: ~46b6 = b949
    name: 'v2, no authentication',
    advert: { version: 2, family: 4, vrid: 1, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.168.1.10'], auth: { type: 0 } },
    src: '192.168.1.2',
    dst: '224.0.0.18',
    hex: '21016401 0001b949 c0a8010a 0000000000000000',
    checksumForm: 'v2',
    summed: '21016401 00010000 c0a8010a 0000000000000000',
  },
  {
    // 21 0a c8 01 | 01 03 [cs] | c0 00 02 01 | 70 77 00 00 00 00 00 00 ("pw", NUL padded)
    // words: 210a + c801 + 0103 + c000 + 0201 + 7077
    //   210a + c801 = e90b; + 0103 = ea0e; + c000 = 1aa0e; + 0201 = 1ac0f; + 7077 = 21c86
    //   fold: 1c86 + 2 = 1c88; complement: ~1c88 = e377
    name: 'v2, simple password "pw"',
    advert: { version: 2, family: 4, vrid: 10, priority: 200, maxAdvertIntervalCs: 300, addresses: ['192.0.2.1'], auth: { type: 1, password: 'pw' } },
    src: '192.0.2.2',
    dst: '224.0.0.18',
    hex: '210ac801 0103e377 c0000201 7077000000000000',
    checksumForm: 'v2',
    summed: '210ac801 01030000 c0000201 7077000000000000',
  },
  {
    // pseudo-header: c000 0202 | e000 0012 | 00 70 | 000c  (src 192.0.2.2, dst 224.0.0.18, proto 112, len 12)
    //   c000 + 0202 = c202; + e000 = 1a202; + 0012 = 1a214; + 0070 = 1a284; + 000c = 1a290
    // message: 31 05 64 01 | 00 64 [cs] | c0 00 02 64
    //   3105 + 6401 = 9506; + 0064 = 956a; + c000 = 1556a; + 0264 = 157ce
    // total: 1a290 + 157ce = 2fa5e; fold: fa5e + 2 = fa60; complement: ~fa60 = 059f
    name: 'v3 over IPv4, IPv4 pseudo-header (keepalived default)',
    advert: { version: 3, family: 4, vrid: 5, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.100'] },
    src: '192.0.2.2',
    dst: '224.0.0.18',
    hex: '31056401 0064059f c0000264',
    checksumForm: 'v3-pseudo',
    summed: 'c0000202 e0000012 0070000c 31056401 00640000 c0000264',
  },
  {
    // pseudo-header: fe80::1, ff02::12, length 0x00000018, 000000, next header 70
    //   nonzero words: fe80 + 0001 + ff02 + 0012 + 0018 + 0070
    //   fe80 + 0001 = fe81; + ff02 = 1fd83; + 0012 = 1fd95; + 0018 = 1fdad; + 0070 = 1fe1d
    // message: 31 07 64 01 | 00 64 [cs] | fe80:0:0:0:0:0:0:7
    //   3107 + 6401 = 9508; + 0064 = 956c; + fe80 = 193ec; + 0007 = 193f3
    // total: 1fe1d + 193f3 = 39210; fold: 9210 + 3 = 9213; complement: ~9213 = 6dec
    name: 'v3 over IPv6, IPv6 pseudo-header',
    advert: { version: 3, family: 6, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses: ['fe80::7'] },
    src: 'fe80::1',
    dst: 'ff02::12',
    hex: '31076401 00646dec fe800000000000000000000000000007',
    checksumForm: 'v3-ipv6',
    summed:
      'fe800000000000000000000000000001 ff020000000000000000000000000012 00000018 00000070' +
      '31076401 00640000 fe800000000000000000000000000007',
  },
];

for (const v of vectors) {
  t.test(`golden: ${v.name}`, (t) => {
    const expected = fromHex(v.hex);
    const encoded = encodeAdvertisement(v.advert, { src: v.src, dst: v.dst });
    t.equal(toHex(encoded), toHex(expected), 'encoder output matches the hand-computed bytes');
    const cs = ((expected[6] ?? 0) << 8) | (expected[7] ?? 0);
    t.equal(referenceChecksum(v.summed), cs, 'independent checksum agrees with the worked example');

    const decoded = decodeAdvertisement(expected, { family: v.advert.family, src: v.src, dst: v.dst, ttl: 255 });
    t.same(decoded, { ok: true, advert: v.advert, checksumForm: v.checksumForm });
    t.end();
  });
}

t.test('golden: v3 over IPv4 without the pseudo-header (v3ChecksumAsV2)', (t) => {
  // message words as above: 157ce; fold: 57ce + 1 = 57cf; complement: ~57cf = a830
  const advert: Advertisement = { version: 3, family: 4, vrid: 5, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.100'] };
  const encoded = encodeAdvertisement(advert, { src: '192.0.2.2', dst: '224.0.0.18', v3ChecksumAsV2: true });
  t.equal(toHex(encoded), '31056401' + '0064a830' + 'c0000264');
  const decoded = decodeAdvertisement(encoded, { family: 4, src: '192.0.2.2', dst: '224.0.0.18', ttl: 255 });
  t.same(decoded, { ok: true, advert, checksumForm: 'v3-no-pseudo' });
  t.end();
});

t.test('v2 without an auth field encodes as type 0 and decodes with auth {type: 0}', (t) => {
  const encoded = encodeAdvertisement(
    { version: 2, family: 4, vrid: 1, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.168.1.10'] },
    { src: '192.168.1.2', dst: '224.0.0.18' },
  );
  t.equal(toHex(encoded), '21016401' + '0001b949' + 'c0a8010a' + '0000000000000000');
  t.end();
});

t.test('v2 password longer than 8 bytes is truncated to 8, as keepalived does', (t) => {
  const encoded = encodeAdvertisement(
    { version: 2, family: 4, vrid: 1, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.168.1.10'], auth: { type: 1, password: 'abcdefghij' } },
    { src: '192.168.1.2', dst: '224.0.0.18' },
  );
  t.equal(toHex(encoded.subarray(12)), toHex(new TextEncoder().encode('abcdefgh')));
  const decoded = decodeAdvertisement(encoded, { family: 4, src: '192.168.1.2', dst: '224.0.0.18', ttl: 255 }, { auth: { type: 1, password: 'abcdefghij' } });
  t.ok(decoded.ok);
  if (decoded.ok) t.same(decoded.advert.auth, { type: 1, password: 'abcdefgh' });
  t.end();
});
