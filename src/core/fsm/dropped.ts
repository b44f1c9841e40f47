/**
 * Adverts dropped because a peer's settings differ from ours (its address list, its v2 interval,
 * its version): the peer is alive but misconfigured. RFC 9568 §7.1 says such an event SHOULD be
 * logged; here it is also remembered, so that when this backup then takes over on Master_Down
 * the transition says why the master looked dead ("adverts from 10.0.0.2 dropped: address list
 * differs") instead of a bare timer expiry.
 *
 * Recorded in every state, with no effects. A drop counts for the reason while it is at most one
 * Master_Down_Interval old (the time the master-down timer needs to fire after the last advert
 * that did count).
 */
import { masterDownMs } from './transitions.js';
import type { InstanceState, StepResult } from './types.js';

/** What a drop reason says to an operator. */
const DESCRIBED: Readonly<Record<string, string>> = {
  'address-mismatch': 'address list differs',
  'bad-interval': 'advert interval differs',
  'bad-version': 'VRRP version differs',
  'auth-mismatch': 'authentication differs',
};

export function onAdvertDropped(state: InstanceState, from: string, reason: string, nowMs: number): StepResult {
  return { state: { ...state, lastDrop: { from, reason, atMs: nowMs } }, effects: [] };
}

/** The reason a master-down expiry at `nowMs` gives (see the module comment). */
export function masterDownReason(state: InstanceState, nowMs: number): string {
  const d = state.lastDrop;
  if (d === null || nowMs - d.atMs > masterDownMs(state)) return 'master-down timer expired';
  return `master-down timer expired; adverts from ${d.from} dropped: ${DESCRIBED[d.reason] ?? d.reason}`;
}
