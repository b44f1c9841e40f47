/**
 * The state-machine rules RFC 9568 added or made explicit over RFC 5798, one test each, with the
 * RFC 9568 sentence above it. Rules it kept word for word are tested in the other files.
 */
import t from 'tap';
import { createInstance } from '../../../src/core/fsm/create.js';
import { masterDownIntervalMs, skewTimeMs } from '../../../src/core/fsm/timers.js';
import { HIGHER_ADDRESS, LOWER_ADDRESS, advert, master, settings, started, stepFrozen } from './helpers.js';

// RFC 9568 §6.4.3 (Active state): "else // new Active Router logic + Discard the ADVERTISEMENT
// + Send an ADVERTISEMENT immediately to assert the {Active} state to the sending VRRP Router and
// to update any learning bridges with the correct Active VRRP Router path."
t.test('§6.4.3: a master discards a lower advertisement and advertises immediately', (t) => {
  const m = master({ priority: 150 }, 10_000);
  const r = stepFrozen(m, advert(HIGHER_ADDRESS, 100), 10_400);
  t.equal(r.state.state, 'MASTER', 'the advertisement is discarded: still MASTER');
  t.same(r.state.master, null, 'the lower router is not recorded as a master');
  t.same(r.effects.filter((e) => e.type === 'send-advert'), [{ type: 'send-advert', priority: 150 }], 'one advertisement, sent now, with our priority');
  t.equal(r.state.timers.advert, m.timers.advert, 'the periodic Adver_Timer keeps its deadline');
  t.end();
});

// RFC 9568 §6.4.2 (Backup state): "Set the Active_Adver_Interval to the Max Advertise Interval
// contained in the ADVERTISEMENT + Recompute the Skew_Time + Recompute the Active_Down_Interval
// + Set the Active_Down_Timer to Active_Down_Interval" - and later "If the Priority in the
// ADVERTISEMENT is 0, then: o Set the Active_Down_Timer to Skew_Time": the Skew_Time recomputed
// from the adopted interval, not from our own.
t.test('§6.4.2: Skew_Time is recomputed from the adopted Active_Adver_Interval', (t) => {
  const b = started({ priority: 100, advertIntervalCs: 100, maxAdvertIntervalCs: 300 }, 0);
  const adopted = stepFrozen(b, advert(HIGHER_ADDRESS, 200, 250), 1000).state;
  t.equal(adopted.masterAdverIntervalCs, 250, 'the master\'s interval is adopted');
  t.equal(adopted.timers['master-down'], 1000 + masterDownIntervalMs(100, 250, 3), 'Active_Down_Interval from the adopted interval');
  const released = stepFrozen(adopted, advert(HIGHER_ADDRESS, 0, 250), 2000).state;
  t.equal(released.timers['master-down'], 2000 + skewTimeMs(100, 250, 3), 'priority 0: Active_Down_Timer = Skew_Time of the adopted interval');
  t.not(skewTimeMs(100, 250, 3), skewTimeMs(100, 100, 3), 'and that differs from the Skew_Time of our own interval');
  t.end();
});

// RFC 9568 §7.1 as published: "It MUST verify that the VRID is configured on the receiving
// interface and the local router is not the IPvX address owner (Priority = 255 (decimal))."
// With owner-ignore-adverts, an owner that is MASTER discards every advertisement.
t.test('§7.1 (as published): with ownerIgnoresAdverts, an owner that is MASTER ignores adverts', (t) => {
  const owner = stepFrozen(createInstance(settings({ priority: 255, ownerIgnoresAdverts: true }), 0), { type: 'start' }, 0).state;
  t.equal(owner.state, 'MASTER');
  for (const a of [advert(HIGHER_ADDRESS, 255), advert(LOWER_ADDRESS, 100), advert(HIGHER_ADDRESS, 0)]) {
    const r = stepFrozen(owner, a, 500);
    t.equal(r.state, owner, `priority ${a.priority} from ${a.from}: state unchanged`);
    t.same(r.effects, [], 'no effect');
  }
  t.end();
});

// RFC 9568 erratum 8298 (§7.1): "It SHOULD verify that the local router is not the IPvX address
// owner (Priority = 255 (decimal)) and log the event" - the advert is processed, so of two
// owners the one with the higher address stays MASTER (keepalived's default too).
t.test('§7.1 (erratum 8298, the default): an owner processes adverts; a second owner with a higher address wins', (t) => {
  const owner = stepFrozen(createInstance(settings({ priority: 255 }), 0), { type: 'start' }, 0).state;
  const r = stepFrozen(owner, advert(HIGHER_ADDRESS, 255), 500);
  t.equal(r.state.state, 'BACKUP', 'the owner with the lower address steps down');
  const lower = stepFrozen(owner, advert(LOWER_ADDRESS, 100), 500);
  t.equal(lower.state.state, 'MASTER');
  t.ok(lower.effects.some((e) => e.type === 'send-advert'), 'and re-asserts against a lower router (§6.4.3)');
  t.end();
});

t.test('ownerIgnoresAdverts needs priority 255: a lowered owner (health) processes adverts again', (t) => {
  const owner = stepFrozen(createInstance(settings({ priority: 255, ownerIgnoresAdverts: true }), 0), { type: 'start' }, 0).state;
  const lowered = stepFrozen(owner, { type: 'priority', effectivePriority: 200 }, 100).state;
  t.equal(lowered.effectivePriority, 200);
  const r = stepFrozen(lowered, advert(HIGHER_ADDRESS, 250), 500);
  t.equal(r.state.state, 'BACKUP', 'not the owner any more: a higher priority wins');
  t.end();
});
