/**
 * BACKUP state handlers (RFC 9568 §6.4.2).
 *
 * Acceptance is RFC-literal, as keepalived does it: an advertisement whose priority is "greater
 * than or equal to the local Priority" is accepted even from a lower address. A backup with
 * preempt therefore never takes over from an EQUAL-priority master (no needless flap); the
 * address tie-break of §6.4.3 applies only between two masters (split brain healing).
 *
 * Preempt delay (settings.preemptDelayMs > 0): the first advertisement this backup would
 * discard to preempt arms the 'preempt-delay' timer at now + preemptDelayMs; until that
 * deadline such advertisements are ACCEPTED (Master_Down_Timer reset, master recorded), so the
 * lower master stays in place. When 'preempt-delay' fires and the master we last heard is still
 * one we would preempt, we become MASTER at once. Hearing a master that beats us cancels the
 * wait (the next lower one starts a fresh one); when the lower master goes silent, the
 * Master_Down_Timer still fires as usual. The owner (priority 255) waits too.
 *
 * Where the RFC enters MASTER (Master_Down_Timer, preemption) this node claims it instead
 * (takeover.ts: guards, cold start, backoff may hold it back; without them it is MASTER at once).
 */
import { adoptedIntervalCs } from './adopted-interval.js';
import { preemptMode } from './election.js';
import { finishRelease, masterDownDuringHandover } from './handover.js';
import { changeTimers } from './timer-effects.js';
import { skewTimeMs } from './timers.js';
import { masterDownReason } from './dropped.js';
import { masterDownMs } from './transitions.js';
import { cancelClaim, claimMaster } from './takeover.js';
import type { TimerChange } from './timer-effects.js';
import type { AdvertInput, InstanceState, PeerMaster, StepResult, TimerKind } from './types.js';

function unchanged(state: InstanceState): StepResult {
  return { state, effects: [] };
}

/** What accepting an advertisement does to the preempt-delay wait. */
type PreemptWait = 'keep' | 'cancel' | { readonly armAtMs: number };

function accept(state: InstanceState, advert: AdvertInput, nowMs: number, wait: PreemptWait): StepResult {
  const masterAdverIntervalCs = adoptedIntervalCs(state, advert);
  const master: PeerMaster = { address: advert.from, priority: advert.priority, lastSeenMs: nowMs };
  const waitChange: TimerChange[] =
    wait === 'keep' ? [] : [['preempt-delay', wait === 'cancel' ? null : wait.armAtMs]];
  const t = changeTimers(state.timers, [
    // §6.4.2: "Set the Active_Adver_Interval to the Max Advertise Interval contained in the
    // ADVERTISEMENT; Recompute the Skew_Time; Recompute the Active_Down_Interval; Set the
    // Active_Down_Timer to Active_Down_Interval" (the adopted interval is bounded:
    // adopted-interval.ts). masterDownMs recomputes Skew_Time from the adopted interval, the
    // step RFC 9568 spells out and RFC 5798 left implicit.
    ['master-down', nowMs + masterDownMs(state, masterAdverIntervalCs)],
    ...waitChange,
  ]);
  return { state: { ...state, masterAdverIntervalCs, master, timers: t.timers }, effects: t.effects };
}

export function backupOnAdvert(state: InstanceState, advert: AdvertInput, nowMs: number): StepResult {
  const released = finishRelease(state, advert.priority, nowMs);
  if (released.state === state) return acceptOrDiscard(state, advert, nowMs);
  const r = acceptOrDiscard(released.state, advert, nowMs);
  return { state: r.state, effects: [...released.effects, ...r.effects] };
}

function acceptOrDiscard(state: InstanceState, advert: AdvertInput, nowMs: number): StepResult {
  if (advert.priority === 0) {
    // §6.4.2: "If the Priority in the ADVERTISEMENT is 0, then: Set the Active_Down_Timer to
    // Skew_Time" (Skew_Time from the interval adopted so far).
    const skew = skewTimeMs(state.effectivePriority, state.masterAdverIntervalCs, state.settings.version);
    const t = changeTimers(state.timers, [['master-down', nowMs + skew]]);
    const master: PeerMaster = { address: advert.from, priority: 0, lastSeenMs: nowMs };
    return { state: { ...state, master, timers: t.timers }, effects: t.effects };
  }
  // §6.4.2: "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is greater than
  // or equal to the local Priority, then: ... Set the Active_Down_Timer to Active_Down_Interval".
  const atLeastOurs = advert.priority >= state.effectivePriority;
  if (!preemptMode(state) || atLeastOurs) {
    // A master we would not preempt is alive: a pending claim to MASTER is given up (takeover.ts).
    const c = cancelClaim(state);
    const r = accept(c.state, advert, nowMs, atLeastOurs ? 'cancel' : 'keep');
    return c.effects.length === 0 ? r : { state: r.state, effects: [...c.effects, ...r.effects] };
  }
  // We would preempt this lower master; while our claim is pending (guards, held back) it is discarded.
  if (state.takeover.phase !== 'idle') return unchanged(state);
  // We would preempt this lower master.
  if (state.settings.preemptDelayMs > 0) {
    const waitUntil = state.timers['preempt-delay'];
    if (waitUntil === null) return accept(state, advert, nowMs, { armAtMs: nowMs + state.settings.preemptDelayMs });
    if (waitUntil > nowMs) return accept(state, advert, nowMs, 'keep');
  }
  // §6.4.2: "else // preempt was true and priority was less than the local priority: Discard
  // the ADVERTISEMENT" - the Master_Down_Timer then fires and we take over.
  return unchanged(state);
}

/** A due timer in BACKUP (stale fires were filtered by step). */
export function backupOnTimer(state: InstanceState, timer: TimerKind, nowMs: number): StepResult {
  if (timer === 'master-down') {
    const held = masterDownDuringHandover(state, nowMs);
    if (held !== undefined) return held;
    // §6.4.2: "If the Active_Down_Timer fires, then: Send an ADVERTISEMENT ... Transition to the {Active} state".
    const released = state.master !== null && state.master.priority === 0;
    return claimMaster(state, nowMs, released ? 'peer released (priority 0)' : masterDownReason(state, nowMs));
  }
  if (timer === 'preempt-delay') {
    const m = state.master;
    if (m !== null && m.priority !== 0 && preemptMode(state) && m.priority < state.effectivePriority) {
      return claimMaster(state, nowMs, `preempt delay expired: preempting lower-priority master ${m.address} (priority ${m.priority})`);
    }
    const t = changeTimers(state.timers, [['preempt-delay', null]]);
    return { state: { ...state, timers: t.timers }, effects: t.effects };
  }
  return unchanged(state); // 'advert' is never armed in BACKUP
}
