/**
 * What `haagent status` exits with, Nagios-style: a pure reading of the agent's status.
 * - `fault`: some instance is in FAULT (it will not hold its VIP: a check or a NIC is down, or it
 *   is isolated);
 * - `dual-master`: this node is MASTER of an instance and a haagent peer reports MASTER of the
 *   same instance too, or a VRRP sender whose adverts we drop for its settings is advertising
 *   (a sender of adverts acts as master), heard within the last PEER_FRESH_INTERVALS advert
 *   intervals: both may hold the VIP;
 * - `takeover-blocked`: a takeover this node wants is held back (a failing guard, the cold-start
 *   wait, the backoff after a failed promotion, a demote hook): no master is heard, so the VIP
 *   may be nowhere;
 * - `ok` otherwise. Dual master wins over fault, fault over a held-back takeover.
 * Deliberately not judged: BACKUP without any master heard (the peer may simply be down) and
 * config mismatches (shown in the table, and loud in the logs).
 */
import type { AgentStatus } from '../core/control/types.js';

export type StatusVerdict = 'ok' | 'fault' | 'dual-master' | 'takeover-blocked';

/** How recent a peer's MASTER report must be to count (advert intervals). */
export const PEER_FRESH_INTERVALS = 3;

export interface StatusHealth {
  readonly verdict: StatusVerdict;
  /** One line per problem, naming the instance. */
  readonly problems: readonly string[];
}

export function statusHealth(s: AgentStatus): StatusHealth {
  const faults: string[] = [];
  const duals: string[] = [];
  const blocked: string[] = [];
  for (const inst of s.instances) {
    const t = inst.takeover;
    if (t?.blocked === true) blocked.push(`${inst.name}: takeover held back (${t.reason ?? '?'}): ${t.detail ?? ''}`);
    if (inst.state === 'FAULT') faults.push(`${inst.name}: FAULT${inst.faults.length > 0 ? ` (${inst.faults.join(', ')})` : ''}`);
    if (inst.state !== 'MASTER') continue;
    const fresh = PEER_FRESH_INTERVALS * inst.advertIntervalMs;
    const others = (inst.peers ?? []).filter((p) => p.state === 'MASTER' && p.lastSeenAgoMs <= fresh).map((p) => p.node);
    // A sender whose adverts we drop for its settings is advertising, i.e. acting as master too.
    for (const m of inst.vrrpMismatches ?? []) if (m.lastSeenAgoMs <= fresh) others.push(`${m.from} (its adverts dropped: ${m.reason})`);
    if (others.length > 0) duals.push(`${inst.name}: this node and ${others.join(', ')} are both MASTER`);
  }
  if (duals.length > 0) return { verdict: 'dual-master', problems: [...duals, ...faults] };
  if (faults.length > 0) return { verdict: 'fault', problems: [...faults, ...blocked] };
  if (blocked.length > 0) return { verdict: 'takeover-blocked', problems: blocked };
  return { verdict: 'ok', problems: [] };
}
