/**
 * Source filter of unicast peers (checkSource): with `peers`, only those addresses may send us
 * adverts; the address part is compared (IPv6 zone ids and text forms do not matter).
 */
import t from 'tap';
import { canonicalAddress, checkSource } from '../../../src/core/packet/source.js';

t.test('without peers every source passes (multicast mode)', (t) => {
  for (const src of ['10.0.0.1', 'fe80::1', '', 'not-an-address']) t.same(checkSource(src, []), { ok: true }, src);
  t.end();
});

t.test('with peers only a listed source passes', (t) => {
  const peers = ['10.66.0.11', '10.66.0.13'];
  t.same(checkSource('10.66.0.11', peers), { ok: true });
  t.same(checkSource('10.66.0.13', peers), { ok: true });
  for (const src of ['10.66.0.12', '10.66.0.111', '10.66.0.1', '0.0.0.0', '224.0.0.18']) {
    t.match(checkSource(src, peers), { ok: false, reason: 'unknown-source' }, `${src} is dropped`);
  }
  t.end();
});

t.test('IPv6: the address part is compared, zone and spelling ignored', (t) => {
  const peers = ['fe80::a8c1:abff:fe00:11'];
  t.same(checkSource('fe80::a8c1:abff:fe00:11', peers), { ok: true });
  t.same(checkSource('fe80::a8c1:abff:fe00:11%int0', peers), { ok: true }, 'zone id on the source');
  t.same(checkSource('FE80:0:0:0:A8C1:ABFF:FE00:0011', peers), { ok: true }, 'upper case, uncompressed');
  t.same(checkSource('fe80::a8c1:abff:fe00:11', ['fe80::a8c1:abff:fe00:11%eth0']), { ok: true }, 'zone id on the peer');
  t.match(checkSource('fe80::a8c1:abff:fe00:12', peers), { ok: false, reason: 'unknown-source' }, 'a neighbour');
  t.match(checkSource('fe80::a8c1:abff:fe00:11%', peers), { ok: true }, 'empty zone');
  t.end();
});

t.test('families never match each other; unparsable input is dropped, never thrown', (t) => {
  t.match(checkSource('::ffff:10.66.0.11', ['10.66.0.11']), { ok: false, reason: 'unknown-source' });
  t.match(checkSource('10.66.0.11', ['::ffff:10.66.0.11']), { ok: false, reason: 'unknown-source' });
  for (const src of ['', '%', '10.66.0.256', '::1::', 'x'.repeat(10_000)]) {
    const r = checkSource(src, ['10.66.0.11']);
    t.match(r, { ok: false, reason: 'unknown-source' }, JSON.stringify(src.slice(0, 20)));
    if (!r.ok) t.ok(r.detail.length < 300 + src.length, 'detail is bounded by the input');
  }
  t.match(checkSource('10.66.0.11', ['not-an-address']), { ok: false }, 'an unparsable peer never matches');
  t.end();
});

t.test('canonicalAddress', (t) => {
  t.equal(canonicalAddress(' 10.0.0.1 '), '10.0.0.1');
  t.equal(canonicalAddress('FE80::1%eth0'), 'fe80::1');
  t.equal(canonicalAddress('fe80::1/64'), undefined, 'a prefix is not an address');
  t.equal(canonicalAddress('010.0.0.1'), undefined);
  t.end();
});
