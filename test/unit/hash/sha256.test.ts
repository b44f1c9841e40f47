import t from 'tap';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { sha256, sha256Hex } from '../../../src/core/hash/sha256.js';

const nodeHex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

t.test('FIPS 180-4 examples', async (t) => {
  t.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.equal(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});

t.test('the same digest as node:crypto at every padding boundary', async (t) => {
  for (let n = 0; n <= 200; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
    t.equal(Buffer.from(sha256(bytes)).toString('hex'), nodeHex(bytes), `${n} bytes`);
  }
});

t.test('the same digest as node:crypto for any text (UTF-8)', async (t) => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (s) => sha256Hex(s) === nodeHex(s)));
  t.pass();
});
