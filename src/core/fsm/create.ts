/** Construction of a fresh instance (RFC 9568 §6.4.1: the Initialize state). */
import type { InstanceSettings, InstanceState, TakeoverState } from './types.js';

export const NO_TIMERS: InstanceState['timers'] = Object.freeze({
  'master-down': null,
  advert: null,
  'preempt-delay': null,
});

/** No claim, nothing heard, nothing held back. */
export const IDLE_TAKEOVER: TakeoverState = Object.freeze({
  phase: 'idle', attempt: 0, claimReason: '', blocked: null, retryAtMs: null,
  peerHeard: false, coldStartUntilMs: null, backoffUntilMs: null, demoting: false,
});

/**
 * A new instance in INIT with no timers armed, effective priority = configured priority and
 * Master_Adver_Interval = Advertisement_Interval. Nothing happens until a `start` input.
 * Does not validate settings: config has already done that.
 */
export function createInstance(settings: InstanceSettings, nowMs: number): InstanceState {
  return {
    settings,
    state: 'INIT',
    effectivePriority: settings.priority,
    masterAdverIntervalCs: settings.advertIntervalCs,
    timers: NO_TIMERS,
    master: null,
    faults: [],
    enteredStateAtMs: nowMs,
    maintenance: false,
    yielding: false,
    releasing: false,
    releaseHeardAtMs: null,
    lastDrop: null,
    takeover: IDLE_TAKEOVER,
  };
}
