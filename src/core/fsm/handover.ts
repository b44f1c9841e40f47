/**
 * Planned handovers, driven by the operator (not by RFC 9568, which has only the Shutdown
 * event): maintenance and switchover.
 *
 * A master hands over "make before break": it sends a priority-0 advertisement (the best backup
 * then takes over after Skew_Time, §6.4.2) and becomes BACKUP but keeps the VIPs (`releasing`)
 * until it hears the new master's SECOND advertisement (the first one leaves the new master
 * before its VIPs are added and announced), then removes them. Clients keep being
 * served by the old master until the new one has announced the VIPs. If nobody takes over
 * within Master_Down_Interval the old master simply becomes MASTER again (switchover), or drops
 * the VIPs and stays BACKUP (maintenance: the operator asked for this node to serve nothing).
 *
 * - maintenance on: never become MASTER while set; a master hands over first.
 * Election on etcd (settings.takeover.etcd): break before make instead, the VIPs go at once
 *   (two holders of the key never exist, so two holders of the VIPs must not either).
 * - switchover: only a master acts; it then `yields` (behaves as non-preempt) until it is master
 *   again, so a preempting node does not take the VIP straight back. Running switchover on the
 *   new master moves mastership back.
 */
import { changeTimers } from './timer-effects.js';
import { enterBackup, enterMaster, masterDownMs } from './transitions.js';
import type { Effect, InstanceState, StepResult } from './types.js';

function releaseGracefully(state: InstanceState, nowMs: number, reason: string): StepResult {
  const r = enterBackup(state, nowMs, reason);
  // Election on etcd: break before make. The next holder adds the VIPs only once it has the
  // leader key, and the key is freed only after the VIPs are gone here.
  if (state.settings.takeover?.etcd !== undefined) return { state: r.state, effects: [{ type: 'send-advert', priority: 0 }, ...r.effects] };
  return {
    state: { ...r.state, releasing: true, releaseHeardAtMs: null },
    effects: [{ type: 'send-advert', priority: 0 }, ...r.effects.filter((e) => e.type !== 'remove-vips')],
  };
}

export function onMaintenance(state: InstanceState, on: boolean, nowMs: number): StepResult {
  if (state.maintenance === on) return { state, effects: [] };
  const flagged = { ...state, maintenance: on };
  if (on && state.state === 'MASTER') return releaseGracefully(flagged, nowMs, 'maintenance: handing over');
  return { state: flagged, effects: [] };
}

export function onSwitchover(state: InstanceState, nowMs: number): StepResult {
  if (state.state !== 'MASTER') return { state, effects: [] };
  return releaseGracefully({ ...state, yielding: true }, nowMs, 'switchover requested: handing over');
}

/**
 * BACKUP heard an advertisement while releasing: the first one from the new master is noted;
 * with the next one the releasing router lets go of the VIPs.
 */
export function finishRelease(state: InstanceState, priority: number, nowMs: number): { state: InstanceState; effects: Effect[] } {
  if (!state.releasing || priority === 0) return { state, effects: [] };
  if (state.releaseHeardAtMs === null) return { state: { ...state, releaseHeardAtMs: nowMs }, effects: [] };
  return { state: { ...state, releasing: false, releaseHeardAtMs: null }, effects: [{ type: 'remove-vips' }] };
}

/**
 * Master_Down_Timer fired in BACKUP while maintenance is on or a handover is pending.
 * Returns undefined when the normal rule (become MASTER) applies.
 */
export function masterDownDuringHandover(state: InstanceState, nowMs: number): StepResult | undefined {
  if (state.maintenance) {
    // Stay BACKUP; keep watching so the state stays truthful when maintenance ends.
    const t = changeTimers(state.timers, [['master-down', nowMs + masterDownMs(state)]]);
    const effects: Effect[] = state.releasing ? [{ type: 'remove-vips' }] : [];
    return { state: { ...state, releasing: false, releaseHeardAtMs: null, timers: t.timers }, effects: [...effects, ...t.effects] };
  }
  if (state.releasing) return enterMaster(state, nowMs, 'handover: no peer took over; keeping mastership');
  return undefined;
}
