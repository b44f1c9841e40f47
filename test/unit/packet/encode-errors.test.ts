/** Encoder misuse throws HaagentError HA_ERR_ENCODE with a message naming the problem. */
import t, { type Test } from 'tap';
import { HaagentError } from '../../../src/core/errors.js';
import { decodeAdvertisement } from '../../../src/core/packet/decode.js';
import { encodeAdvertisement, encodeIpv4Datagram } from '../../../src/core/packet/encode.js';
import { maxAddresses, messageLength, type Advertisement } from '../../../src/core/packet/vrrp-types.js';

const V4 = { src: '192.0.2.2', dst: '224.0.0.18' };
const V6 = { src: 'fe80::2', dst: 'ff02::12' };
const v2: Advertisement = { version: 2, family: 4, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'] };
const v3: Advertisement = { version: 3, family: 4, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'] };
const v3six: Advertisement = { version: 3, family: 6, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses: ['fe80::7'] };

function expectEncodeError(t: Test, fn: () => unknown, message: RegExp, name: string): void {
  t.throws(fn, { name: 'HaagentError', code: 'HA_ERR_ENCODE', message }, name);
  try {
    fn();
  } catch (e) {
    t.ok(e instanceof HaagentError, `${name}: a HaagentError`);
  }
}

t.test('misuse throws HA_ERR_ENCODE', (t) => {
  const bad = (a: object): Advertisement => a as Advertisement;
  const cases: [string, () => unknown, RegExp][] = [
    ['v2 over IPv6', () => encodeAdvertisement({ ...v3six, version: 2 }, V6), /VRRPv2 is IPv4 only/],
    ['version 4', () => encodeAdvertisement(bad({ ...v3, version: 4 }), V4), /VRRP version 4; must be 2 or 3/],
    ['family 5', () => encodeAdvertisement(bad({ ...v3, family: 5 }), V4), /address family 5/],
    ['v3 with auth', () => encodeAdvertisement({ ...v3, auth: { type: 0 } }, V4), /v3 has no authentication/],
    ['auth type 2', () => encodeAdvertisement(bad({ ...v2, auth: { type: 2 } }), V4), /v2 auth type 2; must be 0 or 1/],
    ['VRID 0', () => encodeAdvertisement({ ...v3, vrid: 0 }, V4), /VRID is 0; must be an integer 1\.\.255/],
    ['VRID 256', () => encodeAdvertisement({ ...v3, vrid: 256 }, V4), /VRID is 256/],
    ['VRID 1.5', () => encodeAdvertisement({ ...v3, vrid: 1.5 }, V4), /VRID is 1\.5/],
    ['priority -1', () => encodeAdvertisement({ ...v3, priority: -1 }, V4), /priority is -1; must be an integer 0\.\.255/],
    ['priority 256', () => encodeAdvertisement({ ...v3, priority: 256 }, V4), /priority is 256/],
    ['v2 interval 150 cs', () => encodeAdvertisement({ ...v2, maxAdvertIntervalCs: 150 }, V4), /whole seconds/],
    ['v2 interval 0', () => encodeAdvertisement({ ...v2, maxAdvertIntervalCs: 0 }, V4), /v2 advert interval \(s\) is 0; must be an integer 1\.\.255/],
    ['v2 interval 256 s', () => encodeAdvertisement({ ...v2, maxAdvertIntervalCs: 25600 }, V4), /is 256/],
    ['v3 interval 0', () => encodeAdvertisement({ ...v3, maxAdvertIntervalCs: 0 }, V4), /v3 max advert interval \(cs\) is 0; must be an integer 1\.\.4095/],
    ['v3 interval 4096', () => encodeAdvertisement({ ...v3, maxAdvertIntervalCs: 4096 }, V4), /is 4096/],
    ['256 IPv4 addresses', () => encodeAdvertisement({ ...v3, addresses: Array.from({ length: 256 }, () => '192.0.2.1') }, V4), /256 addresses; at most 255/],
    ['91 IPv6 addresses', () => encodeAdvertisement({ ...v3six, addresses: Array.from({ length: 91 }, () => 'fe80::1') }, V6), /91 addresses; at most 90 fit in one v3\/IPv6 advert/],
    ['IPv6 address in an IPv4 advert', () => encodeAdvertisement({ ...v3, addresses: ['fe80::1'] }, V4), /address 0 "fe80::1" is not an IPv4 address/],
    ['IPv4 address in an IPv6 advert', () => encodeAdvertisement({ ...v3six, addresses: ['192.0.2.1'] }, V6), /is not an IPv6 address/],
    ['IPv6 source for IPv4', () => encodeAdvertisement(v3, { ...V4, src: 'fe80::1' }), /source address "fe80::1"/],
    ['bad destination', () => encodeAdvertisement(v3, { ...V4, dst: '224.0.0' }), /destination address "224\.0\.0"/],
    ['datagram of an IPv6 advert', () => encodeIpv4Datagram(v3six, V6), /needs an IPv4 advertisement/],
    ['datagram id 65536', () => encodeIpv4Datagram(v3, { ...V4, id: 65536 }), /identification is 65536/],
    ['datagram TOS 256', () => encodeIpv4Datagram(v3, { ...V4, tos: 256 }), /TOS is 256/],
    ['datagram TTL 0', () => encodeIpv4Datagram(v3, { ...V4, ttl: 0 }), /TTL is 0/],
  ];
  for (const [name, fn, message] of cases) expectEncodeError(t, fn, message, name);
  t.end();
});

t.test('limits: 255 IPv4 / 90 IPv6 addresses encode; the datagram stays within 1500 bytes', (t) => {
  t.equal(maxAddresses(2, 4), 255);
  t.equal(maxAddresses(3, 4), 255);
  t.equal(maxAddresses(3, 6), 90);
  const six = encodeAdvertisement({ ...v3six, addresses: Array.from({ length: 90 }, (_, i) => `2001:db8::${i.toString(16)}`) }, V6);
  t.equal(six.length, messageLength(3, 6, 90));
  t.ok(40 + six.length <= 1500);
  const four = encodeAdvertisement({ ...v2, addresses: Array.from({ length: 255 }, (_, i) => `10.0.0.${i}`) }, V4);
  t.equal(four.length, 8 + 255 * 4 + 8);
  t.equal(four[3], 255);
  t.end();
});

t.test('zero addresses (keepalived allows an instance without VIPs) encode and decode', (t) => {
  const msg = encodeAdvertisement({ ...v3, addresses: [] }, V4);
  t.equal(msg.length, 8);
  t.match(decodeAdvertisement(msg, { family: 4, ...V4, ttl: 255 }), { ok: true, advert: { addresses: [] } });
  t.end();
});

t.test('priority 0 and 255, interval extremes encode', (t) => {
  t.equal(encodeAdvertisement({ ...v3, priority: 0, maxAdvertIntervalCs: 4095 }, V4)[2], 0);
  const m = encodeAdvertisement({ ...v2, priority: 255, maxAdvertIntervalCs: 25500 }, V4);
  t.equal(m[2], 255);
  t.equal(m[5], 255);
  const m3 = encodeAdvertisement({ ...v3, maxAdvertIntervalCs: 4095 }, V4);
  t.equal(m3[4], 0x0f, 'reserved bits stay zero');
  t.equal(m3[5], 0xff);
  t.end();
});
