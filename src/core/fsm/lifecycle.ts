/**
 * Operator lifecycle inputs: start and shutdown (RFC 9568 §6.4.1 Startup, §6.4.2/§6.4.3 Shutdown).
 *
 * - `start` in INIT or STOPPED enters service (FAULT / MASTER for the owner / BACKUP); in any
 *   other state the instance is already running and the input is ignored.
 *   With cold-start configured, the first start begins its wait (takeover.ts).
 * - `shutdown` from any state but STOPPED -> STOPPED; a master first sends priority 0 and
 *   removes its VIPs. In STOPPED it is ignored (idempotent).
 */
import { enterService } from './service.js';
import { enterStopped } from './transitions.js';
import type { InstanceState, StepResult } from './types.js';

/** The cold-start wait begins with the first start (a restart keeps what was decided then). */
function coldStart(state: InstanceState, fromMs: number): InstanceState['takeover'] {
  const timeoutMs = state.settings.takeover?.coldStartTimeoutMs ?? null;
  const t = state.takeover;
  if (timeoutMs === null || state.state !== 'INIT' || t.peerHeard || t.coldStartUntilMs !== null) return t;
  return { ...t, coldStartUntilMs: fromMs + timeoutMs };
}

export function onStart(state: InstanceState, nowMs: number, coldStartFromMs = nowMs, backoffUntilMs?: number): StepResult {
  if (state.state !== 'INIT' && state.state !== 'STOPPED') return { state, effects: [] };
  const takeover = coldStart(state, coldStartFromMs);
  const carried = backoffUntilMs !== undefined && backoffUntilMs > nowMs && (takeover.backoffUntilMs ?? -Infinity) < backoffUntilMs;
  const fresh: InstanceState = {
    ...state, master: null, masterAdverIntervalCs: state.settings.advertIntervalCs,
    takeover: carried ? { ...takeover, backoffUntilMs } : takeover,
  };
  return enterService(fresh, nowMs, state.state === 'INIT' ? 'start' : 'restart');
}

export function onShutdown(state: InstanceState, nowMs: number): StepResult {
  if (state.state === 'STOPPED') return { state, effects: [] };
  return enterStopped(state, nowMs, 'shutdown');
}
