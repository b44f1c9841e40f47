/**
 * Types of the pure VRRP state machine (RFC 5798 §6, RFC 3768 §6).
 *
 *   step(state, input, nowMs) -> { state, effects[] }
 *
 * The core never touches sockets, timers or the clock. Timers are absolute deadlines in
 * milliseconds on the caller's monotonic clock; the shell arms one real timer per TimerKind and
 * feeds `{ type: 'timer' }` back when it fires. A timer input whose deadline is not the one the
 * state currently holds (stale fire) is ignored by the core.
 */
import type { Vip } from '../net/address.js';

export type VrrpVersion = 2 | 3;
export type AddressFamily = 4 | 6;

/** FAULT: an interface or health problem keeps the instance from serving. STOPPED: after shutdown. */
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOPPED';

export type TimerKind = 'master-down' | 'advert' | 'preempt-delay';

export type TransitionHook = 'master' | 'backup' | 'fault' | 'stop';

/** Settings of one virtual router instance, already validated by config. Frozen. */
export interface InstanceSettings {
  readonly name: string;
  /** VRID, 1..255. */
  readonly vrid: number;
  readonly version: VrrpVersion;
  readonly family: AddressFamily;
  /** Configured priority, 1..255 (255 = address owner). */
  readonly priority: number;
  /** Advertisement_Interval in centiseconds (v2: whole seconds * 100). */
  readonly advertIntervalCs: number;
  /**
   * v3: upper bound (cs) on a Master_Adver_Interval adopted from an advertisement; larger
   * advertised intervals are clamped to it (adopted-interval.ts). Absent = the default, 3 x
   * advertIntervalCs but at least 100 and at most 4095; never below advertIntervalCs. Unused by v2.
   */
  readonly maxAdvertIntervalCs?: number;
  /** Preempt_Mode, RFC 5798 §6.1. */
  readonly preempt: boolean;
  /** A backup that would preempt waits this long first (0 = no delay). */
  readonly preemptDelayMs: number;
  /**
   * This node's primary address on the heartbeat interface (IPv4 dotted quad or IPv6 text).
   * Used for the equal-priority tie-break: the higher primary address wins.
   */
  readonly primaryAddress: string;
  /** VIPs in configured order (sent in this exact order: keepalived interop). */
  readonly vips: readonly Vip[];
}

export interface PeerMaster {
  readonly address: string;
  readonly priority: number;
  /** When the last advertisement from it was accepted (nowMs). */
  readonly lastSeenMs: number;
}

export interface Transition {
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: string;
  readonly atMs: number;
}

export interface InstanceState {
  readonly settings: InstanceSettings;
  readonly state: VrrpState;
  /** Priority after health adjustments, 1..254 (or 255 when owner and healthy). */
  readonly effectivePriority: number;
  /** Master_Adver_Interval (cs): a v3 backup adopts the master's advertised interval. */
  readonly masterAdverIntervalCs: number;
  /** Absolute deadlines (ms) of armed timers; null = not armed. */
  readonly timers: Readonly<Record<TimerKind, number | null>>;
  /** The master we currently hear (null when we are master or hear nobody). */
  readonly master: PeerMaster | null;
  /** Active fault sources (e.g. 'interface:ext0', 'check:web'); non-empty = FAULT. */
  readonly faults: readonly string[];
  readonly enteredStateAtMs: number;
  /** Operator maintenance: never become MASTER while set (a master hands over first). */
  readonly maintenance: boolean;
  /** After a switchover: behave as non-preempt until this router is MASTER again. */
  readonly yielding: boolean;
  /**
   * A planned handover is under way: BACKUP, but the VIPs are still held until the new master is
   * heard (make before break), so clients see no gap while the peer takes over.
   */
  readonly releasing: boolean;
  /**
   * While releasing: when the new master's first advertisement was heard (null = not yet). The
   * VIPs go with its second one, one advert interval later, by when the new master has added
   * them and announced them with gratuitous ARP (its first advert leaves before that).
   */
  readonly releaseHeardAtMs: number | null;
  /** The last advert dropped because the sender's settings differ from ours (dropped.ts). */
  readonly lastDrop: { readonly from: string; readonly reason: string; readonly atMs: number } | null;
}

/** An advertisement that already passed the codec's checks (TTL, checksum, version, VRID, auth). */
export interface AdvertInput {
  readonly type: 'advert';
  /** Source IP address of the sender. */
  readonly from: string;
  readonly priority: number;
  /** Max Advertise Interval from the packet, centiseconds (v2: seconds * 100). */
  readonly maxAdvertIntervalCs: number;
}

export type Input =
  | { readonly type: 'start' }
  | AdvertInput
  | { readonly type: 'timer'; readonly timer: TimerKind }
  /** Health verdict: new effective priority (already clamped by the health layer). */
  | { readonly type: 'priority'; readonly effectivePriority: number }
  /** A fault source became active or cleared (interface down/up, weight-0 check failing). */
  | { readonly type: 'fault'; readonly source: string; readonly active: boolean }
  | { readonly type: 'shutdown' }
  /** Operator maintenance on/off (`haagent maintenance`). */
  | { readonly type: 'maintenance'; readonly on: boolean }
  /** Operator switchover (`haagent switchover`): a master hands over to the best backup. */
  | { readonly type: 'switchover' }
  /** An advert from `from` was dropped because its settings differ from ours (dropped.ts). */
  | { readonly type: 'advert-dropped'; readonly from: string; readonly reason: string };

export type Effect =
  | { readonly type: 'send-advert'; readonly priority: number }
  | { readonly type: 'arm-timer'; readonly timer: TimerKind; readonly deadlineMs: number }
  | { readonly type: 'cancel-timer'; readonly timer: TimerKind }
  | { readonly type: 'add-vips' }
  | { readonly type: 'remove-vips' }
  /** Gratuitous ARP / unsolicited NA for every VIP. */
  | { readonly type: 'announce'; readonly reason: string }
  | { readonly type: 'state-changed'; readonly from: VrrpState; readonly to: VrrpState; readonly reason: string }
  | { readonly type: 'run-hook'; readonly hook: TransitionHook; readonly from: VrrpState; readonly to: VrrpState };

export interface StepResult {
  readonly state: InstanceState;
  readonly effects: readonly Effect[];
}
