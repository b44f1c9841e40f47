/**
 * MASTER state handlers (RFC 9568 §6.4.3).
 *
 * A lower advertisement (lower priority, or equal priority from a lower primary address) is
 * discarded and the master re-asserts itself at once with an advertisement: RFC 9568 made this
 * a rule (RFC 5798 only discarded it; keepalived already re-advertised). haagent also announces
 * the VIPs again (gratuitous ARP / unsolicited NA), which heals a split brain's stale ARP caches. This is deliberately NOT rate-limited in the core: one reply per received
 * lower advertisement, and the other master steps down as soon as it hears ours. The Adver_Timer
 * is not re-armed by it.
 */
import { advertBeatsLocal, localRank } from './election.js';
import { adoptedIntervalCs } from './adopted-interval.js';
import { changeTimers } from './timer-effects.js';
import { nextAdvertAtMs } from './timers.js';
import { advertIntervalMs, enterBackup } from './transitions.js';
import type { AdvertInput, InstanceState, StepResult, TimerKind } from './types.js';

/**
 * Send an advertisement now and reset the Adver_Timer to Advertisement_Interval, on the shared
 * tick grid (nextAdvertAtMs: at most one interval away).
 */
export function advertiseNow(state: InstanceState, nowMs: number): StepResult {
  const t = changeTimers(state.timers, [['advert', nextAdvertAtMs(nowMs, advertIntervalMs(state))]]);
  return {
    state: { ...state, timers: t.timers },
    effects: [{ type: 'send-advert', priority: state.effectivePriority }, ...t.effects],
  };
}

export function masterOnAdvert(state: InstanceState, advert: AdvertInput, nowMs: number): StepResult {
  if (advert.priority === 0) {
    // §6.4.3: "If the Priority in the ADVERTISEMENT is 0, then: Send an ADVERTISEMENT;
    // Reset the Adver_Timer to Advertisement_Interval".
    return advertiseNow(state, nowMs);
  }
  if (advertBeatsLocal({ priority: advert.priority, address: advert.from }, localRank(state))) {
    // §6.4.3: "Cancel Adver_Timer; Set the Active_Adver_Interval to the Max Advertise Interval
    // contained in the ADVERTISEMENT; Recompute the Skew_Time; Recompute the
    // Active_Down_Interval; Set the Active_Down_Timer to Active_Down_Interval; Transition to the
    // {Backup} state".
    return enterBackup(state, nowMs, `higher-priority master ${advert.from} (priority ${advert.priority})`, {
      masterAdverIntervalCs: adoptedIntervalCs(state, advert),
      master: { address: advert.from, priority: advert.priority, lastSeenMs: nowMs },
    });
  }
  // §6.4.3: "else // new Active Router logic: Discard the ADVERTISEMENT; Send an ADVERTISEMENT
  // immediately to assert the {Active} state to the sending VRRP Router and to update any
  // learning bridges with the correct Active VRRP Router path" - plus the announcement.
  return {
    state,
    effects: [
      { type: 'send-advert', priority: state.effectivePriority },
      { type: 'announce', reason: `lower-priority master ${advert.from} (priority ${advert.priority}) seen` },
    ],
  };
}

/** A due timer in MASTER (stale fires were filtered by step). */
export function masterOnTimer(state: InstanceState, timer: TimerKind, nowMs: number): StepResult {
  // §6.4.3: "If the Adver_Timer fires, then: Send an ADVERTISEMENT; Reset the Adver_Timer to Advertisement_Interval".
  if (timer === 'advert') return advertiseNow(state, nowMs);
  return { state, effects: [] }; // backup timers are never armed in MASTER
}
