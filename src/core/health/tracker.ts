/**
 * Check results -> per-check status (rise/fall) -> effective priority and fault sources.
 *
 * Rules:
 * - Until its first result a check is `unknown`, which counts as failing. The first result
 *   decides the status directly.
 * - A healthy check turns failing after `fall` consecutive failures; a failing check turns
 *   healthy after `rise` consecutive successes.
 * - `interface` checks are fed by link events (edges, not samples), so each event decides the
 *   status directly: rise and fall are not applied to them.
 * - Effective priority = base − Σ weight of failing checks with weight > 0 + Σ value of healthy
 *   `file` checks, clamped to 1..254. An address owner (base 255) keeps 255 only while every
 *   check is healthy and the file adjustment is 0.
 * - A failing check with weight 0 is the fault source `check:<name>`.
 *
 * Pure: no I/O, no clock (the caller passes `nowMs`). Results for unknown names are ignored.
 */
import type { CheckConfig } from '../config/types.js';
import type { CheckHealth, CheckResult, CheckStatus, HealthState, HealthVerdict, RecordedResult } from './types.js';

export type { CheckHealth, CheckResult, CheckStatus, HealthState, HealthVerdict, RecordedResult } from './types.js';

export const OWNER_PRIORITY = 255;
const MAX_PRIORITY = 254;
const MIN_PRIORITY = 1;

type CheckShape = Pick<CheckConfig, 'name' | 'type' | 'weight' | 'rise' | 'fall'>;

export function createHealth(checks: readonly CheckShape[], basePriority: number): HealthState {
  return Object.freeze({
    basePriority,
    checks: Object.freeze(checks.map((c) => Object.freeze<CheckHealth>({
      name: c.name, type: c.type, weight: c.weight, rise: c.rise, fall: c.fall,
      status: 'unknown', okCount: 0, failCount: 0, value: undefined, last: undefined,
    }))),
  });
}

function nextStatus(check: CheckHealth, ok: boolean, okCount: number, failCount: number): CheckStatus {
  if (check.status === 'unknown' || check.type === 'interface') return ok ? 'healthy' : 'failing';
  if (ok) return check.status === 'failing' && okCount >= check.rise ? 'healthy' : check.status;
  return check.status === 'healthy' && failCount >= check.fall ? 'failing' : check.status;
}

/**
 * Records one result of the check `name`. `changed` is true when the check's status or (for a
 * `file` check) its value changed, i.e. when the verdict may have changed.
 */
export function applyResult(state: HealthState, name: string, result: CheckResult, nowMs: number): { state: HealthState; changed: boolean } {
  const index = state.checks.findIndex((c) => c.name === name);
  const check = state.checks[index];
  if (check === undefined) return { state, changed: false };
  const okCount = result.ok ? check.okCount + 1 : 0;
  const failCount = result.ok ? 0 : check.failCount + 1;
  const status = nextStatus(check, result.ok, okCount, failCount);
  const value = check.type === 'file' && result.ok && result.value !== undefined ? result.value : check.value;
  const last: RecordedResult = Object.freeze({
    ok: result.ok, detail: result.detail, latencyMs: result.latencyMs, atMs: nowMs,
    ...(result.value === undefined ? {} : { value: result.value }),
  });
  const next: CheckHealth = Object.freeze({ ...check, status, okCount, failCount, value, last });
  const checks = state.checks.slice();
  checks[index] = next;
  return {
    state: Object.freeze({ ...state, checks: Object.freeze(checks) }),
    changed: status !== check.status || value !== check.value,
  };
}

export function verdict(state: HealthState): HealthVerdict {
  let penalty = 0;
  let adjustment = 0;
  let allHealthy = true;
  const faults: string[] = [];
  for (const c of state.checks) {
    if (c.status === 'healthy') {
      if (c.type === 'file') adjustment += c.value ?? 0;
      continue;
    }
    allHealthy = false;
    if (c.weight > 0) penalty += c.weight;
    else faults.push(`check:${c.name}`);
  }
  const effectivePriority = state.basePriority === OWNER_PRIORITY && allHealthy && adjustment === 0
    ? OWNER_PRIORITY
    : Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, state.basePriority - penalty + adjustment));
  return Object.freeze({ effectivePriority, faults: Object.freeze(faults) });
}

export function sameVerdict(a: HealthVerdict, b: HealthVerdict): boolean {
  return a.effectivePriority === b.effectivePriority
    && a.faults.length === b.faults.length
    && a.faults.every((f, i) => f === b.faults[i]);
}
