import t from 'tap';
import fc from 'fast-check';
import {
  compareAddressBytes,
  formatIp,
  formatIpv6,
  ipFamily,
  normalizeIp,
  parseIp,
  parseIpOrThrow,
  parseIpv4,
  parseIpv6,
  stripPrefix,
} from '../../../src/core/packet/ip.js';
import { compareAddresses } from '../../../src/core/net/address.js';
import { toHex } from './hex.js';

t.test('IPv4 parse/format', (t) => {
  t.equal(toHex(parseIpv4('192.0.2.255')!), 'c00002ff');
  t.equal(toHex(parseIpv4('0.0.0.0')!), '00000000');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1.2.3.a', ' 1.2.3.4', '1..3.4']) {
    t.equal(parseIpv4(bad), undefined, `rejects ${JSON.stringify(bad)}`);
  }
  t.equal(formatIp(parseIpv4('10.99.0.1')!), '10.99.0.1');
  t.end();
});

t.test('IPv6 parse: :: compression, case, embedded IPv4', (t) => {
  const cases: [string, string][] = [
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['FE80::A', 'fe80000000000000000000000000000a'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
  ];
  for (const [text, hex] of cases) t.equal(toHex(parseIpv6(text)!), hex, text);
  const bad = ['', ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::', ':1::', '1::2:', '1.2.3.4::', '::1.2.3', '::1.2.3.4:5', 'fe80::1%eth0', '1:2:3:4:5:6:7:8::', '1:2:3:4::5:6:7:8'];
  for (const text of bad) t.equal(parseIpv6(text), undefined, `rejects ${JSON.stringify(text)}`);
  t.end();
});

t.test('IPv6 format is RFC 5952 canonical', (t) => {
  const cases: [string, string][] = [
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['0:0:0:0:0:ffff:c000:201', '::ffff:192.0.2.1'],
  ];
  for (const [input, want] of cases) t.equal(formatIpv6(parseIpv6(input)!), want, input);
  t.end();
});

t.test('IPv6 format/parse round-trips any 16 bytes', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = formatIpv6(bytes);
      return toHex(parseIpv6(text)!) === toHex(bytes) && text === text.toLowerCase() && !text.includes(':::');
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.ipV6(), (text) => {
      const bytes = parseIpv6(text);
      return bytes !== undefined && toHex(parseIpv6(formatIpv6(bytes))!) === toHex(bytes);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.ipV4(), (text) => formatIp(parseIpv4(text)!) === text),
    { numRuns: 200 },
  );
  t.end();
});

t.test('family, parseIp, normalizeIp, stripPrefix', (t) => {
  t.equal(ipFamily('10.0.0.1'), 4);
  t.equal(ipFamily('::1'), 6);
  t.equal(ipFamily('nope'), undefined);
  t.equal(parseIp('10.0.0.1', 6), undefined);
  t.equal(parseIp('::1', 4), undefined);
  t.equal(parseIp('::1')?.length, 16);
  t.equal(normalizeIp('2001:DB8:0::1'), '2001:db8::1');
  t.equal(normalizeIp('x'), undefined);
  t.equal(stripPrefix('10.0.0.1/24'), '10.0.0.1');
  t.equal(stripPrefix('fe80::1'), 'fe80::1');
  t.throws(() => parseIpOrThrow('10.0.0', 4, 'VIP'), { name: 'HaagentError', code: 'HA_ERR_INVALID_ARGUMENT', message: /VIP "10\.0\.0" is not an IPv4 address/ });
  t.end();
});

t.test('addresses compare as unsigned big-endian numbers (equal-priority tie-break)', (t) => {
  t.equal(compareAddresses('10.0.0.2', '10.0.0.10'), -1, 'numeric, not textual');
  t.equal(compareAddresses('192.168.0.1', '10.0.0.1'), 1, 'high bit set is larger (unsigned)');
  t.equal(compareAddresses('255.255.255.255', '0.0.0.0'), 1);
  t.equal(compareAddresses('10.0.0.1', '10.0.0.1'), 0);
  t.equal(compareAddresses('fe80::2', 'fe80::10'), -1);
  t.equal(compareAddresses('FE80::1', 'fe80:0::1'), 0);
  t.equal(compareAddresses('ff02::1', '2001:db8::1'), 1);
  t.equal(compareAddressBytes(new Uint8Array(4), new Uint8Array(16)), -1, 'shorter sorts first');
  t.equal(compareAddressBytes(new Uint8Array(16), new Uint8Array(4)), 1);
  t.equal(compareAddresses('10.0.0.1', 'bogus'), 1, 'the one comparator is total: text that is not an address sorts below any address');
  t.equal(compareAddresses('bogus', '10.0.0.1'), -1);
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (a, b) => {
      const text = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      return compareAddresses(text(a), text(b)) === Math.sign(a - b);
    }),
    { numRuns: 500 },
  );
  t.end();
});
