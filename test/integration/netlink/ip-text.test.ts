/**
 * The adapter's IP text helpers (pure; no root needed). Lives here because the netlink
 * adapter compares VIPs in canonical text form: `fd00::0001` and `fd00::1` are one VIP.
 */
import t from 'tap';
import { formatIp, ipv4Broadcast, parseCidr, samePrefix } from '../../../src/adapters/netlink/ip.js';

t.test('parseCidr canonicalizes and defaults the prefix', (t) => {
  t.match(parseCidr('10.0.0.5/24'), { family: 4, address: '10.0.0.5', prefixLength: 24 });
  t.match(parseCidr('10.0.0.5'), { family: 4, prefixLength: 32 });
  t.match(parseCidr('FD00:0:0:0::0001/64'), { family: 6, address: 'fd00::1', prefixLength: 64 });
  t.match(parseCidr('::ffff:192.0.2.1'), { family: 6, address: '::ffff:192.0.2.1', prefixLength: 128 });
  for (const bad of ['10.0.0.256/24', '10.0.0.5/33', '1:2:3:4:5:6:7:8:9', '1::2::3', 'fd00::/129', '', 'x/1', '10.0.0.5/']) {
    t.throws(() => parseCidr(bad), { code: 'HA_ERR_INVALID_ARGUMENT' }, JSON.stringify(bad));
  }
  t.end();
});

// Address text formatting (RFC 5952) is the codec's: test/unit/packet/ip.test.ts.

t.test('broadcast and prefix helpers', (t) => {
  t.equal(formatIp(ipv4Broadcast(parseCidr('10.1.2.3').bytes, 24) ?? Buffer.alloc(0)), '10.1.2.255');
  t.equal(ipv4Broadcast(parseCidr('10.1.2.3').bytes, 31), undefined);
  t.ok(samePrefix(parseCidr('10.1.2.3').bytes, parseCidr('10.1.2.200').bytes, 24));
  t.notOk(samePrefix(parseCidr('10.1.2.3').bytes, parseCidr('10.1.3.3').bytes, 24));
  t.ok(samePrefix(parseCidr('10.1.2.3').bytes, parseCidr('10.1.3.3').bytes, 23));
  t.end();
});
