import t from 'tap';
import { masterDownIntervalMs } from '../../../src/core/fsm/timers.js';
import { HIGHER_ADDRESS, advert, started, stepFrozen, transition } from './helpers.js';

// RFC 5798 §7.1 (kept by RFC 9568 §7.1) (Receiving VRRP Packets): "If the above check fails, the receiver MUST discard
// the packet, SHOULD log the event (subject to rate-limiting), and MAY indicate via network
// management that a misconfiguration was detected." The address list check is one of them; a
// backup that drops every advert of a live but misconfigured master takes over on Master_Down,
// and its transition says why.
t.test('a master-down after dropped adverts names the sender and what differs', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100 }, 0);
  const heard = stepFrozen(s, advert(HIGHER_ADDRESS, 150, 100), 0).state;
  const dropped = stepFrozen(heard, { type: 'advert-dropped', from: HIGHER_ADDRESS, reason: 'address-mismatch' }, 1000);
  t.same(dropped.effects, [], 'recording a drop has no effect');
  t.equal(dropped.state.state, 'BACKUP');
  const due = heard.timers['master-down'] ?? 0;
  const r = stepFrozen(dropped.state, { type: 'timer', timer: 'master-down' }, due);
  t.equal(r.state.state, 'MASTER');
  t.equal(transition(r.effects)?.reason, `master-down timer expired; adverts from ${HIGHER_ADDRESS} dropped: address list differs`);
  t.end();
});

t.test('an old drop (over one Master_Down_Interval before the expiry) is not the reason', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100 }, 0);
  const window = masterDownIntervalMs(100, 100, 3);
  const dropped = stepFrozen(s, { type: 'advert-dropped', from: HIGHER_ADDRESS, reason: 'bad-interval' }, 0).state;
  const heard = stepFrozen(dropped, advert(HIGHER_ADDRESS, 150, 100), window + 500).state;
  const due = heard.timers['master-down'] ?? 0;
  t.ok(due - 0 > window, 'the expiry comes more than a window after the drop');
  t.equal(transition(stepFrozen(heard, { type: 'timer', timer: 'master-down' }, due).effects)?.reason, 'master-down timer expired');
  t.end();
});

t.test('drops are recorded in every state without effects, and an unknown reason is shown as is', (t) => {
  const s = started({ priority: 100 }, 0);
  for (const st of [s, stepFrozen(s, { type: 'shutdown' }, 10).state]) {
    const r = stepFrozen(st, { type: 'advert-dropped', from: '10.0.0.9', reason: 'something-new' }, 20);
    t.same(r.effects, []);
    t.same(r.state.lastDrop, { from: '10.0.0.9', reason: 'something-new', atMs: 20 });
  }
  const d = stepFrozen(s, { type: 'advert-dropped', from: '10.0.0.9', reason: 'something-new' }, 1).state;
  const due = d.timers['master-down'] ?? 0;
  t.match(transition(stepFrozen(d, { type: 'timer', timer: 'master-down' }, due).effects)?.reason, /adverts from 10\.0\.0\.9 dropped: something-new$/);
  t.end();
});
