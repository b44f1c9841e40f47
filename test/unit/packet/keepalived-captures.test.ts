/**
 * Advertisements captured from a real keepalived 2.2.7 (Debian bookworm package), see
 * test/fixtures/keepalived/README.md. We decode keepalived's bytes, check every field, and check
 * that our encoder produces the same VRRP message (and, for IPv4, the same whole datagram, as
 * keepalived builds the IPv4 header itself with IP_HDRINCL).
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { decodeAdvertisement, decodeIpv4Datagram } from '../../../src/core/packet/decode.js';
import { encodeAdvertisement, encodeIpv4Datagram } from '../../../src/core/packet/encode.js';
import type { Advertisement, ChecksumForm } from '../../../src/core/packet/vrrp-types.js';
import { checkAgainstInstance } from '../../../src/core/packet/validate.js';
import { fromHex, toHex } from './hex.js';

interface CapturedPacket {
  readonly family: 4 | 6;
  readonly src: string;
  readonly dst: string;
  readonly ttl?: number;
  readonly hopLimit?: number;
  readonly paddingAfterDatagram: number;
  readonly datagramHex: string;
  readonly vrrpHex: string;
}
interface Capture {
  readonly keepalivedVersion: string;
  readonly packets: readonly CapturedPacket[];
}

function load(name: string): Capture {
  const url = new URL(`../../fixtures/keepalived/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Capture;
}

interface Case {
  readonly file: string;
  readonly advert: Advertisement;
  readonly checksumForm: ChecksumForm;
  readonly src: string;
  readonly dst: string;
  readonly vips: readonly string[];
}

const cases: Case[] = [
  {
    file: 'v2-pass',
    advert: { version: 2, family: 4, vrid: 51, priority: 150, maxAdvertIntervalCs: 100, addresses: ['10.99.0.100', '10.99.0.101'], auth: { type: 1, password: 'secret' } },
    checksumForm: 'v2',
    src: '10.99.0.1',
    dst: '224.0.0.18',
    vips: ['10.99.0.100/24', '10.99.0.101/24'],
  },
  {
    file: 'v3-ipv4',
    advert: { version: 3, family: 4, vrid: 52, priority: 120, maxAdvertIntervalCs: 100, addresses: ['10.99.0.110', '10.99.0.111'] },
    checksumForm: 'v3-pseudo',
    src: '10.99.0.1',
    dst: '224.0.0.18',
    vips: ['10.99.0.110/24', '10.99.0.111/24'],
  },
  {
    file: 'v3-ipv6',
    advert: { version: 3, family: 6, vrid: 53, priority: 200, maxAdvertIntervalCs: 100, addresses: ['fe80::53', '2001:db8::53'] },
    checksumForm: 'v3-ipv6',
    src: 'fe80::a',
    dst: 'ff02::12',
    vips: ['fe80::53/64', '2001:db8::53/64'],
  },
];

for (const c of cases) {
  t.test(`keepalived 2.2.7 capture ${c.file}`, (t) => {
    const cap = load(c.file);
    t.match(cap.keepalivedVersion, /^Keepalived v2\.2\.7/);
    t.equal(cap.packets.length, 3);
    for (const [i, p] of cap.packets.entries()) {
      t.equal(p.src, c.src, `packet ${i}: source is the interface's primary/link-local address`);
      t.equal(p.dst, c.dst, `packet ${i}: multicast group`);
      t.equal(p.ttl ?? p.hopLimit, 255, `packet ${i}: TTL/hop limit 255`);
      t.equal(p.paddingAfterDatagram, 0, `packet ${i}: no Ethernet padding on a veth`);

      const msg = fromHex(p.vrrpHex);
      const decoded = decodeAdvertisement(msg, { family: p.family, src: p.src, dst: p.dst, ttl: 255 });
      t.same(decoded, { ok: true, advert: c.advert, checksumForm: c.checksumForm }, `packet ${i}: every field`);
      if (decoded.ok) {
        t.same(
          checkAgainstInstance(decoded.advert, { vrid: c.advert.vrid, version: c.advert.version, advertIntervalCs: 100, vips: c.vips }),
          { ok: true },
          `packet ${i}: matches the config keepalived ran with`,
        );
      }
      t.equal(toHex(encodeAdvertisement(c.advert, { src: p.src, dst: p.dst })), p.vrrpHex, `packet ${i}: our encoder is byte-identical`);

      if (p.family === 4) {
        const d = decodeIpv4Datagram(fromHex(p.datagramHex));
        t.ok(d.ok, `packet ${i}: whole datagram decodes`);
        t.match(d, { ok: true, src: c.src, dst: c.dst, ttl: 255, headerLength: 20, checksumForm: c.checksumForm });
        // keepalived numbers its datagrams 1, 2, 3... (IP id), TOS 0xc0, no DF.
        const id = parseInt(p.datagramHex.slice(8, 12), 16);
        t.equal(id, i + 1);
        t.equal(toHex(encodeIpv4Datagram(c.advert, { src: p.src, dst: p.dst, id })), p.datagramHex, `packet ${i}: whole datagram byte-identical`);
      }
    }
    t.end();
  });
}

t.test('keepalived v2 password check: a different password is dropped as auth-mismatch', (t) => {
  const p = load('v2-pass').packets[0];
  t.ok(p);
  if (p === undefined) return t.end();
  const ok = decodeIpv4Datagram(fromHex(p.datagramHex), { version: 2, auth: { type: 1, password: 'secret' } });
  t.equal(ok.ok, true);
  const bad = decodeIpv4Datagram(fromHex(p.datagramHex), { version: 2, auth: { type: 1, password: 'Secret' } });
  t.match(bad, { ok: false, reason: 'auth-mismatch' });
  t.end();
});
