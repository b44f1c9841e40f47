/**
 * Health inputs: effective priority changes and fault sources.
 *
 * Priority: recorded in every state. A MASTER advertises the new value at once (and resets its
 * Adver_Timer) so preempting backups react without waiting; it steps down only when it later
 * hears a better advertisement. A BACKUP changes nothing immediately: its next decision on an
 * advertisement (and the next Master_Down_Interval it computes, whose skew uses its own
 * priority) applies the new value. Owner status follows the value: 255 = owner, below = not.
 * Non-finite values are ignored; others are rounded and clamped to 1..255.
 *
 * Faults: the first active source takes BACKUP or MASTER to FAULT; clearing the last one takes
 * FAULT back into service as at start. In INIT and STOPPED the sources (and the priority) are
 * only recorded, with no effects, so a later start sees the current truth.
 */
import { advertiseNow } from './master.js';
import { enterService } from './service.js';
import { enterFault } from './transitions.js';
import type { InstanceState, StepResult } from './types.js';

export function onPriority(state: InstanceState, effectivePriority: number, nowMs: number): StepResult {
  if (!Number.isFinite(effectivePriority)) return { state, effects: [] };
  const p = Math.min(255, Math.max(1, Math.round(effectivePriority)));
  if (p === state.effectivePriority) return { state, effects: [] };
  const next: InstanceState = { ...state, effectivePriority: p };
  if (state.state === 'MASTER') return advertiseNow(next, nowMs);
  return { state: next, effects: [] };
}

export function onFault(state: InstanceState, source: string, active: boolean, nowMs: number): StepResult {
  const present = state.faults.includes(source);
  if (active === present) return { state, effects: [] };
  const faults = active ? [...state.faults, source] : state.faults.filter((f) => f !== source);
  const next: InstanceState = { ...state, faults };
  if (active && (state.state === 'BACKUP' || state.state === 'MASTER')) {
    return enterFault(next, nowMs, `fault: ${source}`);
  }
  if (!active && state.state === 'FAULT' && faults.length === 0) {
    return enterService(next, nowMs, `fault cleared: ${source}`);
  }
  return { state: next, effects: [] };
}
