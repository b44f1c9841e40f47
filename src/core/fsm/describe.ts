/** Read-only views of an instance for status output. */
import type { InstanceState, TimerKind } from './types.js';

/** Milliseconds left on each armed timer at nowMs (0 when due), null when not armed. */
export function describeTimers(state: InstanceState, nowMs: number): Readonly<Record<TimerKind, number | null>> {
  const left = (deadline: number | null): number | null => (deadline === null ? null : Math.max(0, deadline - nowMs));
  return {
    'master-down': left(state.timers['master-down']),
    advert: left(state.timers.advert),
    'preempt-delay': left(state.timers['preempt-delay']),
  };
}
