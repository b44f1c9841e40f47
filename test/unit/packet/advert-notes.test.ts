/**
 * What RFC 9568 asks a receiver to check beyond the drops: an advert with no address is
 * ignored, and the notes (logged, never a drop) on an accepted advert.
 */
import t from 'tap';
import { advertNotes, checkAgainstInstance } from '../../../src/core/packet/validate.js';
import type { Advertisement } from '../../../src/core/packet/vrrp-types.js';

const ours = { vrid: 7, version: 3 as const, advertIntervalCs: 100, vips: ['192.0.2.10/24'] };
const v3: Advertisement = { version: 3, family: 4, vrid: 7, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'] };

// RFC 9568 §5.2.5: "If the received count is 0, the VRRP advertisement MUST be ignored."
t.test('§5.2.5: an advert with no address is not accepted', async (t) => {
  const r = checkAgainstInstance({ ...v3, addresses: [] }, ours);
  t.equal(r.ok, false);
  t.match(r, { reason: 'address-mismatch', detail: /carries 0 address/ });
});

// RFC 9568 §7.1: "A receiver SHOULD also verify that the Max Advertise Interval in the received
// VRRP packet matches the Advertisement_Interval configured for the VRID. ... If this check
// fails, the receiver SHOULD log the event (subject to rate-limiting)" - the advert is kept.
t.test('§7.1: a v3 interval other than ours is accepted with an interval note', async (t) => {
  const a = { ...v3, maxAdvertIntervalCs: 300 };
  t.same(checkAgainstInstance(a, ours), { ok: true }, 'accepted (a v3 backup adopts it)');
  t.same(advertNotes(a, { ...ours, priority: 100 }), [{ kind: 'interval-differs', detail: 'advertisement interval is 300 cs; this instance uses 100 cs' }]);
  t.same(advertNotes(v3, { ...ours, priority: 100 }), [], 'the same interval: no note');
  const v2: Advertisement = { ...v3, version: 2 };
  t.same(advertNotes({ ...v2, maxAdvertIntervalCs: 300 }, { ...ours, version: 2, priority: 100 }), [], 'v2 differences are drops (checkAgainstInstance), not notes');
});

// RFC 9568 erratum 8298 (§7.1): "It SHOULD verify that the local router is not the IPvX address
// owner (Priority = 255 (decimal)) and log the event (subject to rate-limiting)".
// RFC 9568 §8.3.2: "If multiple VRRP Routers advertising priority 255 are detected, the
// condition SHOULD be logged (subject to rate-limiting)."
t.test('erratum 8298 / §8.3.2: adverts reaching the address owner are noted, a second owner separately', async (t) => {
  t.same(advertNotes({ ...v3, priority: 200 }, { ...ours, priority: 255 }).map((n) => n.kind), ['owner-receives']);
  t.same(advertNotes({ ...v3, priority: 255 }, { ...ours, priority: 255 }).map((n) => n.kind), ['another-owner']);
  t.same(advertNotes({ ...v3, priority: 255 }, { ...ours, priority: 254 }), [], 'not an owner: no note');
  t.same(advertNotes({ ...v3, priority: 255, maxAdvertIntervalCs: 50 }, { ...ours, priority: 255 }).map((n) => n.kind), ['interval-differs', 'another-owner']);
});
