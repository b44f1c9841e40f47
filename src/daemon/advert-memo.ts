/**
 * The last IPv4 advert each instance accepted, kept as its bytes with what the intake took from
 * it, so that the next identical one (a master repeats itself every interval) goes straight to
 * the instance without being decoded and checked again (src/core/packet/repeat.ts says why that
 * is exact).
 *
 * Contract: an entry belongs to one config object (a reload makes a new one, so nothing decoded
 * under old settings is reused); `remember` copies the bytes (the socket may reuse its buffer).
 * The intake remembers only adverts whose acceptance had no side other than the input itself:
 * no HMAC (every signed advert differs anyway), no notes to log, nothing clamped.
 */
import type { InstanceConfig } from '../core/config/types.js';
import { isRepeatOf } from '../core/packet/repeat.js';

/** What the intake hands the instance for an accepted advert. */
export interface AcceptedAdvert {
  readonly src: string;
  readonly priority: number;
  readonly maxAdvertIntervalCs: number;
}

interface Entry extends AcceptedAdvert {
  readonly bytes: Uint8Array;
}

export class AdvertMemo {
  private readonly last = new WeakMap<InstanceConfig, Entry>();

  /** The accepted advert `datagram` repeats for `config`, or undefined. */
  match(config: InstanceConfig, datagram: Uint8Array): AcceptedAdvert | undefined {
    const e = this.last.get(config);
    return e !== undefined && isRepeatOf(datagram, e.bytes) ? e : undefined;
  }

  remember(config: InstanceConfig, datagram: Uint8Array, advert: AcceptedAdvert): void {
    this.last.set(config, { bytes: Uint8Array.from(datagram), src: advert.src, priority: advert.priority, maxAdvertIntervalCs: advert.maxAdvertIntervalCs });
  }

  forget(config: InstanceConfig): void {
    this.last.delete(config);
  }
}
