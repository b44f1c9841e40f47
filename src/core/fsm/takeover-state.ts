/**
 * The bookkeeping of a claim to MASTER that every transition shares (takeover.ts decides; the
 * transitions only keep this consistent): entering MASTER, FAULT or STOPPED ends any claim and
 * its retry timer; leaving MASTER with a demote hook configured marks the node `demoting`.
 * Without takeover settings nothing here changes a state or adds an effect.
 */
import type { Effect, InstanceState, TakeoverState } from './types.js';

/** The claim is over (won, or the node left service): idle, nothing held back, no retry. */
export function endClaim(state: InstanceState): { readonly takeover: TakeoverState; readonly effects: readonly Effect[] } {
  const t = state.takeover;
  if (t.phase === 'idle' && t.blocked === null && t.retryAtMs === null) return { takeover: t, effects: [] };
  return {
    takeover: { ...t, phase: 'idle', claimReason: '', blocked: null, retryAtMs: null },
    effects: t.retryAtMs === null ? [] : [{ type: 'cancel-guard-retry' }],
  };
}

/** `takeover` after leaving `state` (its VRRP state before the transition). */
export function afterDeparture(state: InstanceState, takeover: TakeoverState): TakeoverState {
  if (state.state !== 'MASTER' || state.settings.takeover?.holdWhileDemoting !== true) return takeover;
  return { ...takeover, demoting: true };
}

/**
 * The `takeover-blocked` effect a step owes: when a claim becomes held back (or its reason
 * changes) and when it no longer is. A retry that fails for the same reason again says nothing.
 */
export function blockedChange(before: TakeoverState, after: TakeoverState): readonly Effect[] {
  const a = before.blocked;
  const b = after.blocked;
  if (a === b || (a !== null && b !== null && a.reason === b.reason)) return [];
  const effects: Effect[] = [];
  if (a !== null) effects.push({ type: 'takeover-blocked', reason: a.reason, detail: a.detail, active: false });
  if (b !== null) effects.push({ type: 'takeover-blocked', reason: b.reason, detail: b.detail, active: true });
  return effects;
}
