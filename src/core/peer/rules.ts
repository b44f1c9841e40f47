/**
 * The decisions of the peer channel (issue 5), pure so the simulation runs them:
 * - a hello from a MASTER counts like its VRRP advertisement (redundant heartbeats);
 * - isolation: no peer heard on any path (VRRP or hello) within Master_Down_Interval AND no
 *   witness reachable. Without witnesses the rule is off: a lone survivor must take over.
 */
import type { AdvertInput } from '../fsm/types.js';
import type { Hello } from './hello.js';
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
