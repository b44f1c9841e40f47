/**
 * The simulation must be able to fail: deliberately broken state machines (thin wrappers
 * around step) are run through the same seeds, and the checker must catch each of them.
 */
import t from 'tap';
import { step } from '../../src/core/fsm/step.js';
import type { Effect, Input, InstanceState, StepResult } from '../../src/core/fsm/types.js';
import { reportSeed, runSeed } from './scenario.js';
import type { StepFn } from './world.js';

/** Equal-priority adverts always look as if they came from a lower address. */
const ignoresTieBreak: StepFn = (state: InstanceState, input: Input, nowMs: number): StepResult => {
  if (input.type === 'advert' && input.priority === state.effectivePriority) {
    return step(state, { ...input, from: '0.0.0.0' }, nowMs);
  }
  return step(state, input, nowMs);
};

/** Every router behaves as if Preempt_Mode were False (only the owner still preempts). */
const ignoresPreempt: StepFn = (state, input, nowMs) => {
  const r = step({ ...state, settings: { ...state.settings, preempt: false } }, input, nowMs);
  return { ...r, state: { ...r.state, settings: state.settings } };
};

/** A master stepping down forgets to remove its VIPs. */
const keepsVips: StepFn = (state, input, nowMs) => {
  const r = step(state, input, nowMs);
  const leavingMaster = state.state === 'MASTER' && r.state.state === 'BACKUP';
  return leavingMaster ? { ...r, effects: r.effects.filter((e: Effect) => e.type !== 'remove-vips') } : r;
};

/** The master-down timer is armed with a NaN deadline (a unit bug). */
const nanTimer: StepFn = (state, input, nowMs) => {
  const r = step(state, input, nowMs);
  return { ...r, effects: r.effects.map((e: Effect) => (e.type === 'arm-timer' && e.timer === 'master-down' ? { ...e, deadlineMs: Number.NaN } : e)) };
};

const cases: ReadonlyArray<readonly [string, StepFn, RegExp]> = [
  ['ignoring the equal-priority tie-break', ignoresTieBreak, /masters|outranks|storm/],
  ['ignoring preempt', ignoresPreempt, /preempts and outranks/],
  ['keeping VIPs after stepping down', keepsVips, /VIPs|add-vips/],
  ['arming a NaN deadline', nanTimer, /armed master-down at NaN/],
];

for (const [what, broken, expected] of cases) {
  t.test(`the checker catches a state machine ${what}`, (t) => {
    let caught: number | null = null;
    for (let seed = 1; seed <= 500 && caught === null; seed++) {
      if (runSeed(seed, { stepFn: broken }).violation !== null) caught = seed;
    }
    t.not(caught, null, `caught within 500 seeds (first: ${caught})`);
    if (caught !== null) {
      const r = runSeed(caught, { stepFn: broken });
      t.match(r.violation, expected);
      t.match(reportSeed(caught, broken), /SIMULATION FAILED[\s\S]*trace:\n/, 'the report carries seed and trace');
      t.equal(runSeed(caught).violation, null, 'the real step passes the same seed');
    }
    t.end();
  });
}
