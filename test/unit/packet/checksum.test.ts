import t from 'tap';
import {
  IPPROTO_VRRP,
  internetChecksum,
  ipv4PseudoHeader,
  ipv6PseudoHeader,
} from '../../../src/core/packet/checksum.js';
import { parseIpv4, parseIpv6 } from '../../../src/core/packet/ip.js';
import { fromHex, referenceChecksum, toHex } from './hex.js';

t.test('RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2 (one carry), checksum 220d', (t) => {
  // 0x0001 + 0xf203 + 0xf4f5 + 0xf6f7 = 0x2ddf0; fold: 0xddf0 + 0x2 = 0xddf2; ~0xddf2 = 0x220d
  t.equal(internetChecksum(fromHex('0001 f203 f4f5 f6f7')), 0x220d);
  t.end();
});

t.test('odd length pads the last byte on the right', (t) => {
  // 0x0102 + 0x0300 = 0x0402 -> ~ = 0xfbfd
  t.equal(internetChecksum(fromHex('010203')), 0xfbfd);
  t.end();
});

t.test('parts are summed as if concatenated, even at odd boundaries', (t) => {
  const whole = fromHex('0123456789abcdef01');
  t.equal(internetChecksum(whole.subarray(0, 3), whole.subarray(3, 4), whole.subarray(4)), internetChecksum(whole));
  t.equal(internetChecksum(whole), referenceChecksum(toHex(whole)));
  t.end();
});

t.test('empty input checksums to ffff; data including its checksum verifies to 0', (t) => {
  t.equal(internetChecksum(new Uint8Array(0)), 0xffff);
  const data = fromHex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
  const sum = internetChecksum(data);
  t.equal(sum, 0xb861, 'the well-known IPv4 header example');
  data[10] = sum >>> 8;
  data[11] = sum & 0xff;
  t.equal(internetChecksum(data), 0);
  t.end();
});

t.test('large input (> 64 KiB of ff) folds exactly', (t) => {
  const big = new Uint8Array(200_000).fill(0xff);
  t.equal(internetChecksum(big), 0);
  t.end();
});

t.test('IPv4 pseudo-header: src, dst, 0, protocol, length', (t) => {
  const p = ipv4PseudoHeader(parseIpv4('10.99.0.1')!, parseIpv4('224.0.0.18')!, IPPROTO_VRRP, 16);
  t.equal(toHex(p), '0a630001' + 'e0000012' + '00' + '70' + '0010');
  t.end();
});

t.test('IPv6 pseudo-header: src, dst, u32 length, 3 zero bytes, next header', (t) => {
  const p = ipv6PseudoHeader(parseIpv6('fe80::a')!, parseIpv6('ff02::12')!, IPPROTO_VRRP, 40);
  t.equal(
    toHex(p),
    'fe80000000000000000000000000000a' + 'ff020000000000000000000000000012' + '00000028' + '000000' + '70',
  );
  t.end();
});
