/**
 * Gratuitous ARP and unsolicited NA frames: hand-written golden bytes, an independent checksum,
 * and byte-identity with what keepalived 2.2.7 sent (test/fixtures/keepalived/*-announce.json).
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ARP_FRAME_LENGTH, buildGratuitousArp } from '../../../src/core/packet/arp.js';
import { BROADCAST_MAC, ZERO_MAC, formatMac, parseMac } from '../../../src/core/packet/mac.js';
import { NA_FLAGS, NA_FRAME_LENGTH, buildUnsolicitedNa } from '../../../src/core/packet/ndisc.js';
import { fromHex, referenceChecksum, toHex } from './hex.js';

interface AnnounceCapture {
  readonly keepalivedVersion: string;
  readonly frames: readonly { readonly frameHex: string; readonly frameLength: number }[];
}
function load(name: string): AnnounceCapture {
  return JSON.parse(readFileSync(new URL(`../../fixtures/keepalived/${name}.json`, import.meta.url), 'utf8')) as AnnounceCapture;
}

t.test('MAC parse/format', (t) => {
  t.equal(toHex(parseMac('52:54:00:AB:cd:ef')!), '525400abcdef');
  t.equal(formatMac(fromHex('525400abcdef')), '52:54:00:ab:cd:ef');
  for (const bad of ['', '52:54:00:ab:cd', '52-54-00-ab-cd-ef', '52:54:00:ab:cd:eg', '525:4:00:ab:cd:ef', '52:54:00:ab:cd:ef:00']) {
    t.equal(parseMac(bad), undefined, `rejects ${JSON.stringify(bad)}`);
  }
  t.equal(formatMac(parseMac(BROADCAST_MAC)!), BROADCAST_MAC);
  t.equal(formatMac(parseMac(ZERO_MAC)!), ZERO_MAC);
  t.end();
});

t.test('gratuitous ARP request: golden bytes', (t) => {
  const frame = buildGratuitousArp({ senderMac: '52:54:00:12:34:56', ip: '192.0.2.10', op: 'request' });
  t.equal(frame.length, ARP_FRAME_LENGTH);
  t.equal(
    toHex(frame),
    'ffffffffffff' + '525400123456' + '0806' + // Ethernet: broadcast, sender, ARP
      '0001' + '0800' + '06' + '04' + '0001' + // htype Ethernet, ptype IPv4, hlen, plen, op request
      '525400123456' + 'c000020a' + // sender MAC, sender IP = VIP
      'ffffffffffff' + 'c000020a', // target MAC (broadcast, as keepalived), target IP = VIP
  );
  t.end();
});

t.test('gratuitous ARP reply form and zero target MAC option', (t) => {
  const reply = buildGratuitousArp({ senderMac: '52:54:00:12:34:56', ip: '192.0.2.10', op: 'reply' });
  t.equal(toHex(reply.subarray(20, 22)), '0002');
  const zero = buildGratuitousArp({ senderMac: '52:54:00:12:34:56', ip: '192.0.2.10', op: 'request', targetMac: 'zero' });
  t.equal(toHex(zero.subarray(32, 38)), '000000000000');
  t.equal(toHex(zero.subarray(0, 6)), 'ffffffffffff', 'still sent to broadcast');
  t.throws(() => buildGratuitousArp({ senderMac: 'nope', ip: '192.0.2.10', op: 'request' }), { code: 'HA_ERR_ENCODE', message: /sender MAC "nope" is not a MAC address/ });
  t.throws(() => buildGratuitousArp({ senderMac: '52:54:00:12:34:56', ip: 'fe80::1', op: 'request' }), { code: 'HA_ERR_ENCODE', message: /VIP "fe80::1" is not an IPv4 address/ });
  t.end();
});

t.test('gratuitous ARP is byte-identical to keepalived 2.2.7', (t) => {
  const cap = load('v3-ipv4-announce');
  const vips = ['10.99.0.110', '10.99.0.111'];
  t.equal(cap.frames.length, 2);
  cap.frames.forEach((f, i) => {
    t.equal(f.frameLength, 42, 'keepalived sends 42 bytes too (no padding on a veth)');
    t.equal(toHex(buildGratuitousArp({ senderMac: '02:00:00:00:00:0a', ip: vips[i]!, op: 'request' })), f.frameHex, vips[i] ?? '?');
  });
  t.end();
});

t.test('unsolicited NA: golden bytes and checksum worked out', (t) => {
  // ICMPv6 checksum over the pseudo-header (src 2001:db8::10, dst ff02::1, length 32, nh 58)
  // and the 32-byte NA, checksum field 0:
  //   pseudo words: 2001 + 0db8 + 0010 + ff02 + 0001 + 0020 + 003a
  //     2001 + 0db8 = 2db9; + 0010 = 2dc9; + ff02 = 12ccb; + 0001 = 12ccc; + 0020 = 12cec; + 003a = 12d26
  //   NA words: 8800 + 2000 + 2001 + 0db8 + 0010 + 0201 + 5254 + 0012 + 3456
  //     8800 + 2000 = a800; + 2001 = c801; + 0db8 = d5b9; + 0010 = d5c9; + 0201 = d7ca;
  //     + 5254 = 12a1e; + 0012 = 12a30; + 3456 = 15e86
  //   total 12d26 + 15e86 = 28bac; fold: 8bac + 2 = 8bae; complement: ~8bae = 7451
  const frame = buildUnsolicitedNa({ senderMac: '52:54:00:12:34:56', ip: '2001:db8::10' });
  t.equal(frame.length, NA_FRAME_LENGTH);
  const expected =
    '333300000001' + '525400123456' + '86dd' + // Ethernet to the all-nodes multicast MAC
    '60000000' + '0020' + '3a' + 'ff' + // IPv6: version 6, payload 32, ICMPv6, hop limit 255
    '20010db8000000000000000000000010' + // src = the VIP
    'ff020000000000000000000000000001' + // dst = ff02::1
    '88' + '00' + '7451' + '20000000' + // type 136, code 0, checksum, flags R=0 S=0 O=1
    '20010db8000000000000000000000010' + // target = the VIP
    '02' + '01' + '525400123456'; // option 2 (target link-layer address), length 1, MAC
  t.equal(toHex(frame), expected);
  const pseudo = '20010db8000000000000000000000010' + 'ff020000000000000000000000000001' + '00000020' + '0000003a';
  const icmpZeroed = toHex(frame.subarray(54)).replace(/^(8800)7451/, '$10000');
  t.equal(referenceChecksum(pseudo + icmpZeroed), 0x7451, 'independent checksum agrees');
  t.equal(frame[54 + 4], NA_FLAGS.override, 'only Override is set');
  t.end();
});

t.test('unsolicited NA options: explicit source, Router flag, errors', (t) => {
  const frame = buildUnsolicitedNa({ senderMac: '52:54:00:12:34:56', ip: '2001:db8::10', src: 'fe80::1', router: true });
  t.equal(toHex(frame.subarray(22, 38)), 'fe800000000000000000000000000001');
  t.equal(frame[58], NA_FLAGS.override | NA_FLAGS.router);
  t.equal(frame[58]! & NA_FLAGS.solicited, 0);
  // Checksum still verifies with the other source in the pseudo-header.
  const pseudo = toHex(frame.subarray(22, 54)) + '00000020' + '0000003a';
  t.equal(referenceChecksum(pseudo + toHex(frame.subarray(54))), 0);
  t.throws(() => buildUnsolicitedNa({ senderMac: '52:54:00:12:34:56', ip: '192.0.2.1' }), { code: 'HA_ERR_ENCODE', message: /VIP "192\.0\.2\.1" is not an IPv6 address/ });
  t.throws(() => buildUnsolicitedNa({ senderMac: '52:54:00:12:34:56', ip: '2001:db8::1', src: 'x' }), { code: 'HA_ERR_ENCODE', message: /source address "x"/ });
  t.throws(() => buildUnsolicitedNa({ senderMac: '52:54:00:12:34', ip: '2001:db8::1' }), { code: 'HA_ERR_ENCODE', message: /sender MAC/ });
  t.end();
});

t.test('unsolicited NA is byte-identical to keepalived 2.2.7 (source = the VIP)', (t) => {
  const cap = load('v3-ipv6-announce');
  const vips = ['fe80::53', '2001:db8::53'];
  t.equal(cap.frames.length, 2);
  cap.frames.forEach((f, i) => {
    t.equal(toHex(buildUnsolicitedNa({ senderMac: '02:00:00:00:00:0a', ip: vips[i]! })), f.frameHex, vips[i] ?? '?');
  });
  t.end();
});
