/** The index re-exports the codec's public API (what src/daemon and src/adapters import). */
import t from 'tap';
import * as packet from '../../../src/core/packet/index.js';

t.test('index exports the public functions and constants', (t) => {
  for (const name of [
    'encodeAdvertisement', 'encodeIpv4Datagram', 'decodeAdvertisement', 'decodeIpv4Datagram',
    'checkAgainstInstance', 'checkSource', 'canonicalAddress', 'buildGratuitousArp', 'buildUnsolicitedNa', 'internetChecksum',
    'ipv4PseudoHeader', 'ipv6PseudoHeader', 'parseIp', 'formatIp', 'parseMac', 'formatMac',
  ] as const) {
    t.type(packet[name], 'function', name);
  }
  t.equal(packet.VRRP_IPV4_GROUP, '224.0.0.18');
  t.equal(packet.VRRP_IPV6_GROUP, 'ff02::12');
  t.equal(packet.VRRP_TTL, 255);
  t.equal(packet.IPPROTO_VRRP, 112);
  t.end();
});
