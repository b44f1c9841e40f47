/**
 * The decisions of the peer channel, pure so the simulation runs them:
 * - a hello from a MASTER counts like its VRRP advertisement (redundant heartbeats);
 * - isolation: no peer heard on any path (VRRP or hello) within Master_Down_Interval AND no
 *   witness reachable. Without witnesses the rule is off: a lone survivor must take over;
 * - epoch acceptance: a peer's epoch is adopted only up to EPOCH_JUMP_MARGIN above the largest
 *   epoch we already hold, so one hello cannot push the fencing epoch near its bound.
 */
import type { AdvertInput } from '../fsm/types.js';
import { HELLO_MAX_EPOCH, type Hello } from './hello.js';
import { anyPeerHeardSince, type PeerTable } from './presence.js';

/** The advert a hello stands for, or undefined (not from a master, our own, or priority 0). */
export function helloAsAdvert(hello: Hello, ourVrrpAddress: string): AdvertInput | undefined {
  if (hello.state !== 'MASTER' || hello.vrrpAddress === ourVrrpAddress || hello.priority === 0) return undefined;
  return { type: 'advert', from: hello.vrrpAddress, priority: hello.priority, maxAdvertIntervalCs: hello.advertIntervalCs };
}

export interface IsolationInput {
  readonly table: PeerTable;
  /** Monotonic ms of the last accepted VRRP advert (-Infinity = never). */
  readonly lastVrrpRxMs: number;
  readonly nowMs: number;
  readonly masterDownMs: number;
  /** undefined = no witness configured, or not probed yet. */
  readonly witnessReachable: boolean | undefined;
}

export function isIsolated(i: IsolationInput): boolean {
  if (i.witnessReachable !== false) return false;
  const since = i.nowMs - i.masterDownMs;
  return !anyPeerHeardSince(i.table, since) && i.lastVrrpRxMs < since;
}

/**
 * How far above the largest epoch we hold (ours or any peer's) a peer's epoch may be. Epochs
 * grow by one per takeover: a million takeovers is not a real history, it is a forged or
 * corrupted epoch. Well inside HELLO_MAX_EPOCH.
 */
export const EPOCH_JUMP_MARGIN = 1_000_000;

export type EpochVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'epoch-jump'; readonly detail: string };

/**
 * Whether a peer's `epoch` may be adopted, given `heldEpoch`, the largest epoch this node holds
 * (its own and every peer's so far). Accepted: 0..min(heldEpoch + EPOCH_JUMP_MARGIN,
 * HELLO_MAX_EPOCH). Not checked: that the hello is authentic (the codec) or fresh (presence.ts).
 * Consequence, deliberate: a peer whose epoch store is more than the margin ahead of ours (for
 * instance ours was wiped and theirs was not) is not heard over hellos; VRRP still works and the
 * drop is counted and logged so an operator can align the stores.
 */
export function acceptPeerEpoch(epoch: number, heldEpoch: number): EpochVerdict {
  const limit = Math.min(Math.max(0, heldEpoch) + EPOCH_JUMP_MARGIN, HELLO_MAX_EPOCH);
  if (Number.isInteger(epoch) && epoch >= 0 && epoch <= limit) return { ok: true };
  return { ok: false, reason: 'epoch-jump', detail: `epoch ${epoch} is more than ${EPOCH_JUMP_MARGIN} above the ${heldEpoch} we hold` };
}
