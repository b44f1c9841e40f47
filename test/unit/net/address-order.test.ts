import t from 'tap';
import fc from 'fast-check';
import { compareAddresses, parseAddressBytes } from '../../../src/core/net/address.js';

t.test('parses IPv4 dotted quads', (t) => {
  t.same([...(parseAddressBytes('192.168.1.254') ?? [])], [192, 168, 1, 254]);
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '', '1..2.3', '1.2.3.0x1']) {
    t.equal(parseAddressBytes(bad), null, bad);
  }
  t.end();
});

t.test('parses IPv6 text forms', (t) => {
  const hex = (s: string): string => Buffer.from(parseAddressBytes(s) ?? []).toString('hex');
  t.equal(hex('::'), '0'.repeat(32));
  t.equal(hex('::1'), '0'.repeat(31) + '1');
  t.equal(hex('fe80::1%eth0'), 'fe80' + '0'.repeat(27) + '1');
  t.equal(hex('2001:db8:0:0:0:0:2:1'), '20010db8000000000000000000020001');
  t.equal(hex('2001:DB8::2:1'), '20010db8000000000000000000020001');
  t.equal(hex('::ffff:10.0.0.1'), '00000000000000000000ffff0a000001');
  t.equal(hex('1::'), '0001' + '0'.repeat(28));
  for (const bad of ['1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8::', '::1.2.3']) {
    t.equal(parseAddressBytes(bad), null, bad);
  }
  t.end();
});

// RFC 5798 §6.4.3 (kept by RFC 9568 §6.4.3): "the primary IPvX Address of the sender is greater than the local primary
// IPvX Address" - compared as unsigned numbers, not as text.
t.test('compares addresses as unsigned numbers, not as strings', (t) => {
  t.ok(compareAddresses('10.0.0.10', '10.0.0.9') > 0, '"10.0.0.10" < "10.0.0.9" as text');
  t.ok(compareAddresses('200.0.0.1', '100.0.0.1') > 0, 'no sign problem above 127');
  t.ok(compareAddresses('fe80::a', 'fe80::9') > 0);
  t.ok(compareAddresses('fe80::1:0', 'fe80::ffff') > 0);
  t.equal(compareAddresses('fe80::1', 'FE80:0::1'), 0);
  t.end();
});

t.test('odd inputs still get a total order', (t) => {
  t.ok(compareAddresses('10.0.0.1', 'junk') > 0);
  t.ok(compareAddresses('junk', '10.0.0.1') < 0);
  t.ok(compareAddresses('junk-a', 'junk-b') < 0);
  t.ok(compareAddresses('junk-b', 'junk-a') > 0);
  t.equal(compareAddresses('junk', 'junk'), 0);
  t.ok(compareAddresses('::1', '255.255.255.255') > 0, 'IPv4 sorts below IPv6');
  t.end();
});

t.test('IPv4 order agrees with the 32-bit number (property)', (t) => {
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const num = (q: [number, number, number, number]): number => ((q[0] * 256 + q[1]) * 256 + q[2]) * 256 + q[3];
  fc.assert(
    fc.property(ip, ip, (a, b) => {
      const c = compareAddresses(a.join('.'), b.join('.'));
      return Math.sign(c) === Math.sign(num(a) - num(b));
    }),
  );
  t.end();
});
