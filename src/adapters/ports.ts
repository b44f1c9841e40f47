/**
 * The edges the daemon depends on, as interfaces, so the daemon can be driven by fakes in unit
 * tests and by the real adapters (raw socket, rtnetlink, AF_PACKET) in production.
 */

/** Sends VRRP messages (the VRRP part only; the kernel builds the IP header). */
export interface VrrpTransport {
  send(message: Uint8Array, dst: string): Promise<void>;
  /**
   * Optional (IPv4 only): train `id` (one per instance, process-wide) sends `message` to each
   * of `dsts` by itself, `plan.count` times: `plan.firstDelayMs` from now, then every
   * `plan.everyMs`; it replaces that id's earlier train, whose report it returns.
   */
  repeat?(id: number, message: Uint8Array, dsts: readonly string[], plan: AdvertRepeat): TrainReport;
  /** Optional, with `repeat`: what train `id` did since its last report; `stop` ends it first. */
  trainReport?(id: number, stop: boolean): TrainReport;
  close(): void;
}

/** When a train repeats an advert: `count` times, the first `firstDelayMs` from now, then every `everyMs` (whole ms). */
export interface AdvertRepeat {
  readonly firstDelayMs: number;
  readonly everyMs: number;
  readonly count: number;
  /** Optional: the train also renews the VIP lease with its adverts (see LeaseRenewal). */
  readonly renewal?: LeaseRenewal;
}

/**
 * A VIP lease renewal a train sends with one of its adverts once `dueAfterMs` have passed since
 * the last renewal (`lastAgoMs` ago now): `datagram` holds complete rtnetlink requests, each
 * asking for an acknowledgement (whole ms).
 */
export interface LeaseRenewal {
  readonly datagram: Uint8Array;
  readonly dueAfterMs: number;
  readonly lastAgoMs: number;
}

/** What an advert train did since its last report (see native/advert_train.c). */
export interface TrainReport {
  /** Adverts sent (every destination's datagram sent). */
  readonly sent: number;
  /** errno of the last failed send; 0 = none. */
  readonly errno: number;
  /** How long ago (ms) its last advert left (before the first: since it was scheduled); -1 = no train. */
  readonly sinceLastMs: number;
  /** Longest gap (ms) between its consecutive adverts, counted from the moment it was scheduled. */
  readonly maxGapMs: number;
  /** How long ago (ms) it last renewed the VIP lease; -1 = it did not since the last report. */
  readonly renewedAgoMs: number;
  /** errno of a renewal that failed since the last report; 0 = none. */
  readonly renewErrno: number;
}

/** The report of no train. */
export const NO_TRAIN: TrainReport = Object.freeze({ sent: 0, errno: 0, sinceLastMs: -1, maxGapMs: 0, renewedAgoMs: -1, renewErrno: 0 });

/** Sends complete Ethernet frames on one interface. */
export interface FrameSender {
  send(frame: Uint8Array): void;
  close(): void;
}

/** Monotonic milliseconds (never the wall clock: it can jump). */
export type MonotonicClock = () => number;
