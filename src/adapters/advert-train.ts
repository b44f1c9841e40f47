/**
 * Advert trains (native/advert_train.c): a MASTER's periodic IPv4 advert sent from the addon's
 * own thread on the instance's send socket, a bounded number of times, and optionally its VIP
 * lease renewed with them, so the agent's JavaScript wakes up only for some of its adverts. This module is the typed face of the four
 * native calls; what a train is, when it runs out and how a report reads are in the C file.
 *
 * Contract: calls never throw for a train that does not exist (its report is NO_TRAIN); a bad
 * argument (not a dotted quad, a message over 1500 bytes) throws the addon's TypeError or
 * errno error; `cancelFd` must run before the descriptor is closed (a descriptor number is
 * reused by the kernel, and a train must never send on someone else's socket).
 */
import { NO_TRAIN, type AdvertRepeat, type TrainReport } from './ports.js';

/** The addon's exports used here. */
export interface AdvertTrainBinding {
  trainSchedule(id: number, fd: number, message: Uint8Array, dsts: readonly string[], firstDelayMs: number, everyMs: number, count: number,
    renewal?: Uint8Array | null, renewDueMs?: number, lastRenewAgoMs?: number): number[];
  trainCollect(id: number): number[];
  trainCancel(id: number): number[];
  trainCancelFd(fd: number): void;
}

/** Whether `native` (the loaded addon) has the train calls (an addon built from older sources has not). */
export function hasTrains(native: object): native is AdvertTrainBinding {
  const b = native as Partial<AdvertTrainBinding>;
  return typeof b.trainSchedule === 'function' && typeof b.trainCollect === 'function'
    && typeof b.trainCancel === 'function' && typeof b.trainCancelFd === 'function';
}

function toReport(r: readonly number[]): TrainReport {
  const [sent = 0, errno = 0, sinceLastMs = -1, maxGapMs = 0, renewedAgoMs = -1, renewErrno = 0] = r;
  return sinceLastMs < 0 ? NO_TRAIN : { sent, errno, sinceLastMs, maxGapMs, renewedAgoMs, renewErrno };
}

/** Schedules train `id` on `fd` (replacing its earlier one) and returns the replaced one's report. */
export function scheduleTrain(native: AdvertTrainBinding, id: number, fd: number, message: Uint8Array, dsts: readonly string[], plan: AdvertRepeat): TrainReport {
  const r = plan.renewal;
  return toReport(r === undefined
    ? native.trainSchedule(id, fd, message, dsts, plan.firstDelayMs, plan.everyMs, plan.count)
    : native.trainSchedule(id, fd, message, dsts, plan.firstDelayMs, plan.everyMs, plan.count, r.datagram, Math.max(1, Math.round(r.dueAfterMs)), Math.max(0, Math.round(r.lastAgoMs))));
}

/** What train `id` did since its last report; `stop` ends it (nothing more is sent once this returns). */
export function trainReport(native: AdvertTrainBinding, id: number, stop: boolean): TrainReport {
  return toReport(stop ? native.trainCancel(id) : native.trainCollect(id));
}
