/**
 * What `haagent status` shows of one instance: the counters and the transition log the runner
 * keeps (`InstanceRecord`), and the assembly of the status object from them, the core's state,
 * the config and the ports (`instanceStatus`).
 *
 * Contract: the status object is a snapshot (arrays and maps copied, never live); the transition
 * log keeps the last MAX_TRANSITIONS entries and `transitionsTotal` counts every one.
 */
import { vipCidrs } from '../core/net/address.js';
import type { InstanceConfig } from '../core/config/types.js';
import type { CheckSummary, ElectionStatus, HookRunStatus, InstanceStatus, TakeoverStatus, TransitionStatus } from '../core/control/types.js';
import { csToMs } from '../core/fsm/timers.js';
import type { InstanceState, VrrpState } from '../core/fsm/types.js';
import { isoTime } from '../adapters/iso-time.js';

const MAX_TRANSITIONS = 20;

/** The counters and recent transitions of one instance. */
export class InstanceRecord {
  readonly transitions: TransitionStatus[] = [];
  transitionsTotal = 0;
  advertsSent = 0;
  advertsReceived = 0;
  readonly drops: Record<string, number> = {};

  /** Records a transition, stamped with the wall-clock time. */
  transition(from: VrrpState, to: VrrpState, reason: string): void {
    this.transitionsTotal += 1;
    this.transitions.push({ from, to, reason, at: isoTime() });
    if (this.transitions.length > MAX_TRANSITIONS) this.transitions.shift();
  }

  drop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }
}

/** Everything an instance's status is made of. */
export interface StatusParts {
  readonly config: InstanceConfig;
  readonly state: InstanceState;
  readonly primaryAddress: string;
  readonly nowMs: number;
  readonly record: InstanceRecord;
  readonly vipLifetimeSec: number;
  readonly vipLeaseError: string | undefined;
  readonly epoch: number;
  readonly maxEpochSeen: number;
  readonly epochStatus: Pick<InstanceStatus, 'epochPersisted' | 'epochStateError'>;
  readonly checks: readonly CheckSummary[];
  readonly hooks: readonly HookRunStatus[];
  /** Absent when the instance has no takeover keys and nothing is held back. */
  readonly takeover?: TakeoverStatus | undefined;
  /** Election on etcd; absent for plain VRRP. */
  readonly election?: ElectionStatus | undefined;
}

export function instanceStatus(p: StatusParts): InstanceStatus {
  const { config, state: s, record } = p;
  const self = s.state === 'MASTER';
  return {
    name: config.name,
    vrid: config.vrid,
    state: s.state,
    priority: config.priority,
    effectivePriority: s.effectivePriority,
    interface: config.interface,
    external: config.external,
    vrrpVersion: config.version,
    advertIntervalMs: csToMs(config.advertIntervalCs),
    preempt: config.preempt,
    vips: vipCidrs(config.vips),
    address: p.primaryAddress,
    master: self
      ? { address: p.primaryAddress, priority: s.effectivePriority, self: true }
      : s.master === null ? null : { address: s.master.address, priority: s.master.priority, self: false },
    timeInStateMs: Math.max(0, Math.round(p.nowMs - s.enteredStateAtMs)),
    transitions: [...record.transitions],
    advertsSent: record.advertsSent,
    advertsReceived: record.advertsReceived,
    drops: { ...record.drops },
    faults: s.faults,
    vipLifetimeSec: p.vipLifetimeSec,
    epoch: p.epoch,
    maxEpochSeen: p.maxEpochSeen,
    ...(p.vipLeaseError === undefined ? {} : { vipLeaseError: p.vipLeaseError }),
    ...p.epochStatus,
    maintenance: s.maintenance,
    transitionsTotal: record.transitionsTotal,
    checks: p.checks,
    hooks: p.hooks,
    ...(p.takeover === undefined ? {} : { takeover: p.takeover }),
    ...(p.election === undefined ? {} : { election: p.election }),
  };
}
