/**
 * The pure VRRP state machine: step(state, input, nowMs) -> { state, effects }.
 *
 * Dispatches to one small handler per concern. Never mutates its arguments; returns the same
 * state object with no effects when an input changes nothing. Ignored inputs:
 * - timer inputs whose deadline is not armed or not yet reached (stale fires);
 * - advertisements in INIT, FAULT and STOPPED, and our own advertisements looped back
 *   (source = our primary address) in every state;
 * - advertisements reaching an address owner that is MASTER, when `ownerIgnoresAdverts` is set
 *   (election.ts);
 * - everything except `start` in STOPPED (health inputs are still recorded, see health.ts).
 * The takeover inputs (guards-result, guard-retry, promotion-failed, peer-heard,
 * demote-hook-done, promote-force, lock-lost, claim) are takeover.ts's.
 */
import { backupOnAdvert, backupOnTimer } from './backup.js';
import { onAdvertDropped } from './dropped.js';
import { ignoresAsOwner, isOwnAdvert } from './election.js';
import { onFault, onPriority } from './health.js';
import { onMaintenance, onSwitchover } from './handover.js';
import { onShutdown, onStart } from './lifecycle.js';
import { masterOnAdvert, masterOnTimer } from './master.js';
import { isDue } from './timer-effects.js';
import { blockedChange } from './takeover-state.js';
import { onClaim, onDemoteHookDone, onGuardRetry, onGuardsResult, onLockLost, onPeerHeard, onPromoteForce, onPromotionFailed } from './takeover.js';
import type { Input, InstanceState, StepResult } from './types.js';

/**
 * One input. A claim to MASTER that becomes held back, or no longer is, adds a
 * `takeover-blocked` effect at the end (takeover-state.ts); without takeover settings none is.
 */
export function step(state: InstanceState, input: Input, nowMs: number): StepResult {
  const r = dispatch(state, input, nowMs);
  if (r.state === state || r.state.takeover === state.takeover) return r;
  const change = blockedChange(state.takeover, r.state.takeover);
  return change.length === 0 ? r : { state: r.state, effects: [...r.effects, ...change] };
}

function dispatch(state: InstanceState, input: Input, nowMs: number): StepResult {
  switch (input.type) {
    case 'start':
      return onStart(state, nowMs, input.coldStartFromMs ?? nowMs, input.backoffUntilMs);
    case 'shutdown':
      return onShutdown(state, nowMs);
    case 'priority':
      return onPriority(state, input.effectivePriority, nowMs);
    case 'fault':
      return onFault(state, input.source, input.active, nowMs);
    case 'maintenance':
      return onMaintenance(state, input.on, nowMs);
    case 'switchover':
      return onSwitchover(state, nowMs);
    case 'advert-dropped':
      return onAdvertDropped(state, input.from, input.reason, nowMs);
    case 'guards-result':
      return onGuardsResult(state, input.attempt, input.ok, input.detail, nowMs, input.reason);
    case 'guard-retry':
      return onGuardRetry(state, nowMs);
    case 'promotion-failed':
      return onPromotionFailed(state, input.detail, nowMs);
    case 'peer-heard':
      return onPeerHeard(state, nowMs);
    case 'demote-hook-done':
      return onDemoteHookDone(state, nowMs);
    case 'promote-force':
      return onPromoteForce(state, nowMs);
    case 'lock-lost':
      return onLockLost(state, input.detail, nowMs);
    case 'claim':
      return onClaim(state, input.reason, nowMs);
    case 'timer':
      if (!isDue(state, input.timer, nowMs)) return { state, effects: [] };
      if (state.state === 'BACKUP') return backupOnTimer(state, input.timer, nowMs);
      if (state.state === 'MASTER') return masterOnTimer(state, input.timer, nowMs);
      return { state, effects: [] };
    case 'advert':
      if (isOwnAdvert(state, input.from) || ignoresAsOwner(state)) return { state, effects: [] };
      if (state.state === 'BACKUP') return backupOnAdvert(state, input, nowMs);
      if (state.state === 'MASTER') return masterOnAdvert(state, input, nowMs);
      return { state, effects: [] };
  }
}
