/**
 * Properties over random input sequences (fast-check), on one instance with a fake clock:
 * - never mutates its input (the state is deep-frozen before every step);
 * - state.timers always equals the timers armed by the effects so far (the shell's view);
 * - armed deadlines are finite and never in the past;
 * - VIPs are held exactly when the state is MASTER;
 * - timers match the state: MASTER <=> advert armed, BACKUP <=> master-down armed, and nothing
 *   in INIT/FAULT/STOPPED; preempt-delay only in BACKUP;
 * - every transition emits exactly one state-changed then one run-hook.
 */
import t from 'tap';
import fc from 'fast-check';
import { createInstance } from '../../../src/core/fsm/create.js';
import type { Input, InstanceSettings, TimerKind } from '../../../src/core/fsm/types.js';
import { settings, stepFrozen } from './helpers.js';

const timerKind = fc.constantFrom<TimerKind>('master-down', 'advert', 'preempt-delay');
const input: fc.Arbitrary<Input> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'start' }) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'shutdown' }) },
  { weight: 6, arbitrary: fc.record({ type: fc.constant('timer' as const), timer: timerKind }) },
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('advert' as const),
      from: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3'),
      priority: fc.oneof(fc.constant(0), fc.constant(100), fc.integer({ min: 1, max: 255 })),
      maxAdvertIntervalCs: fc.constantFrom(50, 100, 300),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('priority' as const), effectivePriority: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('fault' as const), source: fc.constantFrom('a', 'b'), active: fc.boolean() }) },
);

const settingsArb: fc.Arbitrary<InstanceSettings> = fc
  .record({
    version: fc.constantFrom(2 as const, 3 as const),
    priority: fc.oneof(fc.constant(100), fc.constant(255), fc.integer({ min: 1, max: 254 })),
    preempt: fc.boolean(),
    preemptDelayMs: fc.constantFrom(0, 0, 2500),
  })
  .map((o) => settings(o));

t.test('random input sequences keep the state machine consistent', (t) => {
  fc.assert(
    fc.property(settingsArb, fc.array(fc.tuple(input, fc.integer({ min: 0, max: 2000 })), { maxLength: 60 }), (cfg, seq) => {
      let now = 0;
      let s = createInstance(cfg, now);
      const armed: Record<TimerKind, number | null> = { 'master-down': null, advert: null, 'preempt-delay': null };
      let vips = false;
      for (const [inp, dt] of seq) {
        now += dt;
        // Deliver real timer fires at their deadline half the time, so transitions happen.
        const deadline = inp.type === 'timer' ? s.timers[inp.timer] : null;
        if (deadline !== null && deadline > now && dt % 2 === 0) now = deadline;
        const r = stepFrozen(s, inp, now);
        const changes = r.effects.filter((e) => e.type === 'state-changed');
        const hooks = r.effects.filter((e) => e.type === 'run-hook');
        if (changes.length !== hooks.length || changes.length > 1) return false;
        for (const e of r.effects) {
          if (e.type === 'arm-timer') {
            if (!Number.isFinite(e.deadlineMs) || e.deadlineMs < now) return false;
            armed[e.timer] = e.deadlineMs;
          } else if (e.type === 'cancel-timer') {
            if (armed[e.timer] === null) return false; // never cancel what is not armed
            armed[e.timer] = null;
          } else if (e.type === 'add-vips') {
            if (vips) return false;
            vips = true;
          } else if (e.type === 'remove-vips') {
            if (!vips) return false;
            vips = false;
          } else if (e.type === 'state-changed') {
            if (e.from !== s.state || e.to !== r.state.state || e.reason === '') return false;
          }
        }
        s = r.state;
        if (JSON.stringify(armed) !== JSON.stringify(s.timers)) return false;
        if (vips !== (s.state === 'MASTER')) return false;
        const on = (k: TimerKind): boolean => s.timers[k] !== null;
        if (on('advert') !== (s.state === 'MASTER')) return false;
        if (on('master-down') !== (s.state === 'BACKUP')) return false;
        if (on('preempt-delay') && s.state !== 'BACKUP') return false;
        if ((s.state === 'FAULT') !== (s.faults.length > 0 && s.state !== 'INIT' && s.state !== 'STOPPED')) return false;
      }
      return true;
    }),
    { numRuns: 400 },
  );
  t.end();
});
