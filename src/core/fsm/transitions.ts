/**
 * The state entries of RFC 9568 §6.4, each returning the new state and its effects in the
 * order the shell should carry them out. Every transition emits exactly one `state-changed`
 * effect (with a human reason) followed by one `run-hook`; nothing is logged in the state.
 *
 * Leaving MASTER removes the VIPs; only entering MASTER adds them, so "VIPs held" equals
 * "state is MASTER" as long as the shell applies the effects - except during a planned handover
 * (handover.ts), where a BACKUP marked `releasing` holds them until the new master is heard.
 */
import { cancelAllTimers, changeTimers } from './timer-effects.js';
import { afterDeparture, endClaim } from './takeover-state.js';
import { csToMs, masterDownIntervalMs, nextAdvertAtMs } from './timers.js';
import type { Effect, TransitionHook, InstanceState, PeerMaster, StepResult, VrrpState } from './types.js';

function changed(from: VrrpState, to: VrrpState, reason: string, hook: TransitionHook): Effect[] {
  return [
    { type: 'state-changed', from, to, reason },
    { type: 'run-hook', hook, from, to },
  ];
}

/** Milliseconds of this router's own Advertisement_Interval. */
export function advertIntervalMs(state: InstanceState): number {
  return csToMs(state.settings.advertIntervalCs);
}

/** Master_Down_Interval (ms) for this router with its current Master_Adver_Interval. */
export function masterDownMs(state: InstanceState, masterAdverIntervalCs = state.masterAdverIntervalCs): number {
  return masterDownIntervalMs(state.effectivePriority, masterAdverIntervalCs, state.settings.version);
}

/**
 * -> MASTER (§6.4.1 owner at start, §6.4.2 Master_Down_Timer fired): send an advertisement,
 * add the VIPs, announce them, set the Adver_Timer, drop the backup timers.
 */
export function enterMaster(state: InstanceState, nowMs: number, reason: string): StepResult {
  const t = changeTimers(state.timers, [
    ['advert', nextAdvertAtMs(nowMs, advertIntervalMs(state))],
    ['master-down', null],
    ['preempt-delay', null],
  ]);
  const claim = endClaim(state);
  return {
    state: {
      ...state,
      takeover: claim.takeover,
      state: 'MASTER',
      timers: t.timers,
      master: null,
      masterAdverIntervalCs: state.settings.advertIntervalCs,
      enteredStateAtMs: nowMs,
      yielding: false,
      releasing: false,
      releaseHeardAtMs: null,
    },
    effects: [
      { type: 'send-advert', priority: state.effectivePriority },
      { type: 'add-vips' },
      { type: 'announce', reason },
      ...t.effects,
      ...claim.effects,
      ...changed(state.state, 'MASTER', reason, 'master'),
    ],
  };
}

/**
 * -> BACKUP. From INIT/FAULT/STOPPED: Master_Adver_Interval = Advertisement_Interval and the
 * Master_Down_Timer is set to Master_Down_Interval (§6.4.1). From MASTER (§6.4.3, a better
 * advertisement): the caller passes the adopted interval and the new master; the Adver_Timer is
 * cancelled and the VIPs are removed.
 */
export function enterBackup(
  state: InstanceState,
  nowMs: number,
  reason: string,
  heard: { readonly masterAdverIntervalCs: number; readonly master: PeerMaster } | null = null,
): StepResult {
  const masterAdverIntervalCs = heard?.masterAdverIntervalCs ?? state.settings.advertIntervalCs;
  const t = changeTimers(state.timers, [
    ['advert', null],
    ['master-down', nowMs + masterDownMs(state, masterAdverIntervalCs)],
    ['preempt-delay', null],
  ]);
  const leaving: Effect[] = state.state === 'MASTER' ? [{ type: 'remove-vips' }] : [];
  return {
    state: {
      ...state,
      state: 'BACKUP',
      timers: t.timers,
      master: heard?.master ?? null,
      masterAdverIntervalCs,
      enteredStateAtMs: nowMs,
      takeover: afterDeparture(state, state.takeover),
    },
    effects: [...t.effects, ...leaving, ...changed(state.state, 'BACKUP', reason, 'backup')],
  };
}

/**
 * A master leaving service: a priority-0 advertisement (§6.4.3 Shutdown) and the VIPs go. A
 * backup still holding the VIPs of a planned handover (releasing) drops them too.
 */
function releaseIfMaster(state: InstanceState): Effect[] {
  if (state.state === 'MASTER') return [{ type: 'send-advert', priority: 0 }, { type: 'remove-vips' }];
  return state.releasing ? [{ type: 'remove-vips' }] : [];
}

function enterInactive(state: InstanceState, to: 'FAULT' | 'STOPPED', nowMs: number, reason: string): StepResult {
  const t = cancelAllTimers(state.timers);
  const claim = endClaim(state);
  return {
    state: {
      ...state, state: to, timers: t.timers, master: null, enteredStateAtMs: nowMs, releasing: false, releaseHeardAtMs: null,
      takeover: afterDeparture(state, claim.takeover),
    },
    effects: [...releaseIfMaster(state), ...t.effects, ...claim.effects, ...changed(state.state, to, reason, to === 'FAULT' ? 'fault' : 'stop')],
  };
}

/** -> FAULT: a master first releases (priority 0, VIPs removed); all timers cancelled. */
export function enterFault(state: InstanceState, nowMs: number, reason: string): StepResult {
  return enterInactive(state, 'FAULT', nowMs, reason);
}

/** -> STOPPED (§6.4.2/§6.4.3 Shutdown event). */
export function enterStopped(state: InstanceState, nowMs: number, reason: string): StepResult {
  return enterInactive(state, 'STOPPED', nowMs, reason);
}
