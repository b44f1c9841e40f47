/**
 * checkAgainstInstance keeps the canonical form of a frozen VIP list between adverts; a list that
 * is not frozen is read afresh every time, so a change to it is seen.
 */
import t from 'tap';
import { checkAgainstInstance } from '../../../src/core/packet/validate.js';
import type { Advertisement } from '../../../src/core/packet/vrrp-types.js';

const advert = (addresses: string[]): Advertisement => ({ version: 3, family: 4, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses });
const ours = (vips: readonly string[]): Parameters<typeof checkAgainstInstance>[1] => ({ vrid: 7, version: 3, advertIntervalCs: 100, vips });

t.test('a frozen list: the same verdicts on every advert, prefixes and spelling ignored', async (t) => {
  const vips = Object.freeze(['192.0.2.10/24', '2001:DB8::1']);
  for (let i = 0; i < 3; i++) {
    t.same(checkAgainstInstance(advert(['192.0.2.10', '2001:db8::1']), ours(vips)), { ok: true });
    t.match(checkAgainstInstance(advert(['192.0.2.11', '2001:db8::1']), ours(vips)), { ok: false, reason: 'address-mismatch' });
  }
});

t.test('a list that is not frozen is not remembered: a change to it counts', async (t) => {
  const vips = ['192.0.2.10'];
  t.same(checkAgainstInstance(advert(['192.0.2.10']), ours(vips)), { ok: true });
  vips[0] = '192.0.2.20';
  t.match(checkAgainstInstance(advert(['192.0.2.10']), ours(vips)), { ok: false, reason: 'address-mismatch' });
  t.same(checkAgainstInstance(advert(['192.0.2.20']), ours(vips)), { ok: true });
});
