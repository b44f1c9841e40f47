/**
 * The Master_Adver_Interval a v3 router adopts from an advertisement is bounded by
 * max-advert-interval (settings.maxAdvertIntervalCs): a larger advertised interval is accepted
 * but clamped, so one forged advertisement cannot postpone a takeover for minutes.
 */
import fc from 'fast-check';
import t from 'tap';
import { defaultMaxAdvertIntervalCs, maxAdoptedIntervalCs } from '../../../src/core/fsm/adopted-interval.js';
import { masterDownIntervalMs } from '../../../src/core/fsm/timers.js';
import { HIGHER_ADDRESS, LOWER_ADDRESS, advert, master, started, stepFrozen, transition } from './helpers.js';

const FORGED_CS = 4095; // the largest 12-bit Max Advertise Interval: 40.95 s

t.test('default bound: 3 x our interval, at least 1 s, at most 4095 cs; v2 never adopts', (t) => {
  t.equal(defaultMaxAdvertIntervalCs(3, 10), 100, '100 ms: the 1 s floor (keepalived\'s default interval)');
  t.equal(defaultMaxAdvertIntervalCs(3, 34), 102);
  t.equal(defaultMaxAdvertIntervalCs(3, 100), 300);
  t.equal(defaultMaxAdvertIntervalCs(3, 2000), 4095);
  t.equal(defaultMaxAdvertIntervalCs(2, 100), 100);
  t.equal(maxAdoptedIntervalCs(started({ advertIntervalCs: 100 })), 300, 'absent in settings: the default');
  t.equal(maxAdoptedIntervalCs(started({ advertIntervalCs: 100, maxAdvertIntervalCs: 1000 })), 1000);
  t.equal(maxAdoptedIntervalCs(started({ advertIntervalCs: 100, maxAdvertIntervalCs: 50 })), 100, 'never below our own interval');
  t.end();
});

// RFC 5798 §6.4.2 (kept by RFC 9568 §6.4.2) (kept by its successor RFC 9568): "If Preempt_Mode is False, or if the
// Priority in the ADVERTISEMENT is greater than or equal to the local Priority, then: Set
// Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT; Recompute the
// Master_Down_Interval; Reset the Master_Down_Timer to Master_Down_Interval".
// We follow it up to max-advert-interval and clamp above (see adopted-interval.ts for why
// clamping, not dropping).
t.test('a backup adopts a longer interval up to the bound', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100 }, 0);
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 150, 250), 1000);
  t.equal(r.state.masterAdverIntervalCs, 250);
  t.equal(r.state.timers['master-down'], 1000 + masterDownIntervalMs(100, 250, 3));
  t.end();
});

t.test('a forged 40.95 s interval is accepted but clamped: takeover within 3 x max + Skew_Time', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100 }, 0);
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 150, FORGED_CS), 1000);
  t.equal(r.state.state, 'BACKUP');
  t.same(r.state.master, { address: HIGHER_ADDRESS, priority: 150, lastSeenMs: 1000 }, 'still accepted as the master');
  t.equal(r.state.masterAdverIntervalCs, 300, 'clamped to 3 x 100 cs');
  const bounded = masterDownIntervalMs(100, 300, 3);
  t.equal(bounded, 9000 + 1820, '3 x 3 s + Skew_Time (156 x 300 / 256 = 182 cs)');
  t.equal(r.state.timers['master-down'], 1000 + bounded);
  // Unclamped, the same advert meant 3 x 40.95 s + 24.95 s of silence before a takeover.
  t.equal(masterDownIntervalMs(100, FORGED_CS, 3), 147_800);
  // Nobody else speaks: the backup takes over when the bounded timer fires.
  const fired = stepFrozen(r.state, { type: 'timer', timer: 'master-down' }, 1000 + bounded);
  t.equal(fired.state.state, 'MASTER');
  t.equal(transition(fired.effects)?.reason, 'master-down timer expired');
  t.end();
});

t.test('the real master\'s next advert restores its interval', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100 }, 0);
  const forged = stepFrozen(s, advert(HIGHER_ADDRESS, 150, FORGED_CS), 1000).state;
  const real = stepFrozen(forged, advert(LOWER_ADDRESS, 200, 100), 1100);
  t.equal(real.state.masterAdverIntervalCs, 100);
  t.equal(real.state.timers['master-down'], 1100 + masterDownIntervalMs(100, 100, 3));
  t.end();
});

t.test('a configured max-advert-interval is the bound', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100, maxAdvertIntervalCs: 1000 }, 0);
  t.equal(stepFrozen(s, advert(HIGHER_ADDRESS, 150, 900), 1).state.masterAdverIntervalCs, 900);
  t.equal(stepFrozen(s, advert(HIGHER_ADDRESS, 150, 1001), 1).state.masterAdverIntervalCs, 1000);
  const top = started({ priority: 100, advertIntervalCs: 100, maxAdvertIntervalCs: 4095 }, 0);
  t.equal(stepFrozen(top, advert(HIGHER_ADDRESS, 150, FORGED_CS), 1).state.masterAdverIntervalCs, 4095, '40.95 s configured: the literal RFC behaviour');
  t.end();
});

t.test('a fast backup follows a master at keepalived\'s default 1 s without clamping', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 10 }, 0);
  const r = stepFrozen(s, advert(HIGHER_ADDRESS, 150, 100), 1000);
  t.equal(r.state.masterAdverIntervalCs, 100);
  t.equal(r.state.timers['master-down'], 1000 + 3600, 'the RFC\'s 3 x 1 s + Skew_Time: ample margin over 1 s adverts');
  const forged = stepFrozen(s, advert(HIGHER_ADDRESS, 150, FORGED_CS), 1000);
  t.equal(forged.state.masterAdverIntervalCs, 100, 'a forged 40.95 s is clamped to the 1 s floor');
  t.end();
});

t.test('shorter intervals are adopted as they are (no lower bound)', (t) => {
  const s = started({ priority: 100, advertIntervalCs: 100 }, 0);
  t.equal(stepFrozen(s, advert(HIGHER_ADDRESS, 150, 1), 1).state.masterAdverIntervalCs, 1);
  t.end();
});

// RFC 5798 §6.4.3 (kept by RFC 9568 §6.4.3): "If the Priority in the ADVERTISEMENT is greater than the local Priority ...
// then: Cancel Adver_Timer; Set Master_Adver_Interval to Adver Interval contained in the
// ADVERTISEMENT; Recompute the Skew_Time; Recompute the Master_Down_Interval; Set
// Master_Down_Timer to Master_Down_Interval; Transition to the {Backup} state".
t.test('a master demoted by a forged priority-255 advert gets the VIPs back within the bound', (t) => {
  const m = master({ priority: 200, advertIntervalCs: 100 }, 10_000);
  const r = stepFrozen(m, advert(HIGHER_ADDRESS, 255, FORGED_CS), 10_050);
  t.equal(r.state.state, 'BACKUP', 'without authentication a higher priority wins (residual risk)');
  t.equal(r.state.masterAdverIntervalCs, 300);
  const deadline = r.state.timers['master-down'];
  t.equal(deadline, 10_050 + masterDownIntervalMs(200, 300, 3));
  const back = stepFrozen(r.state, { type: 'timer', timer: 'master-down' }, deadline ?? 0);
  t.equal(back.state.state, 'MASTER');
  t.end();
});

t.test('v2 keeps its own interval whatever the bound', (t) => {
  const s = started({ version: 2, priority: 100, advertIntervalCs: 100, maxAdvertIntervalCs: 4095 }, 0);
  t.equal(stepFrozen(s, advert(HIGHER_ADDRESS, 150, 25_500), 1).state.masterAdverIntervalCs, 100);
  t.end();
});

t.test('property: after any accepted v3 advert, Master_Down_Interval <= 3 x max + Skew_Time(max)', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4095 }),
      fc.option(fc.integer({ min: 1, max: 4095 }), { nil: undefined }),
      fc.integer({ min: 1, max: 4095 }),
      fc.integer({ min: 1, max: 254 }),
      (own, configured, claimed, ours) => {
        const s = started({ priority: ours, advertIntervalCs: own, ...(configured === undefined ? {} : { maxAdvertIntervalCs: configured }) }, 0);
        const r = stepFrozen(s, advert(HIGHER_ADDRESS, 255, claimed), 5);
        const max = Math.max(configured ?? Math.min(Math.max(3 * own, 100), 4095), own);
        const deadline = r.state.timers['master-down'] ?? Infinity;
        return r.state.masterAdverIntervalCs === Math.min(claimed, max) && deadline - 5 <= masterDownIntervalMs(ours, max, 3);
      },
    ),
    { numRuns: 500, seed: 5798 },
  );
  t.end();
});
