/**
 * Changing timer deadlines in the state together with the matching effects, so the two can
 * never disagree. Contract: an `arm-timer` effect is emitted for every deadline set, and a
 * `cancel-timer` effect for every armed deadline cleared, including one that has just fired
 * (harmless for the shell, and it keeps "state.timers mirrors the armed real timers" true).
 * Clearing a timer that is not armed emits nothing.
 */
import type { Effect, InstanceState, TimerKind } from './types.js';

export type TimerChange = readonly [TimerKind, number | null];

export interface TimerUpdate {
  readonly timers: InstanceState['timers'];
  readonly effects: readonly Effect[];
}

export function changeTimers(timers: InstanceState['timers'], changes: readonly TimerChange[]): TimerUpdate {
  const next: Record<TimerKind, number | null> = { ...timers };
  const effects: Effect[] = [];
  for (const [timer, deadlineMs] of changes) {
    if (deadlineMs !== null) {
      next[timer] = deadlineMs;
      effects.push({ type: 'arm-timer', timer, deadlineMs });
    } else if (next[timer] !== null) {
      next[timer] = null;
      effects.push({ type: 'cancel-timer', timer });
    }
  }
  return { timers: next, effects };
}

/** Clear every armed timer (entering FAULT or STOPPED). */
export function cancelAllTimers(timers: InstanceState['timers']): TimerUpdate {
  return changeTimers(timers, [['master-down', null], ['advert', null], ['preempt-delay', null]]);
}

/** Is this timer input the firing of the deadline the state holds? Anything else is stale. */
export function isDue(state: InstanceState, timer: TimerKind, nowMs: number): boolean {
  const deadline = state.timers[timer];
  return deadline !== null && deadline <= nowMs;
}
