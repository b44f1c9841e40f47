/**
 * Rate-limited logging of received adverts, as RFC 9568 §7.1 asks: a receiver that discards a
 * packet "SHOULD log the event (subject to rate-limiting)", and one whose Max Advertise Interval
 * differs from ours, or that reaches the address owner, is logged the same way (§7.1, erratum
 * 8298, §8.3.2) while still being processed.
 *
 * Contract: per instance and per reason (or note kind), the first event is logged at once
 * (info for drops and interval notes, warn for the owner notes), then at most one line per
 * `everyMs` (default 60 s) saying how many more there were; the rest go to debug, as every drop
 * did before. Counting drops for metrics stays with the caller (runner.countDrop). Keys come
 * from instance names and fixed reason sets only, never from packet contents, so the state is
 * bounded by the configuration. `nowMs` is the caller's monotonic clock.
 * HMAC authentication events (a failure by reason, unsigned adverts accepted in a migration
 * mode, a sender's clock off by over half the time window) share the window: per instance and
 * event, the first is logged and then at most one line per `everyMs`, the rest not at all (a
 * failure is also logged at debug by the caller); these lines carry no count.
 */
import type { Logger } from 'pino';
import type { AdvertNote } from '../core/packet/validate.js';
import { WarnThrottle } from './warn-throttle.js';

/** At most one log line per instance and reason in this window (after the first). */
export const ADVERT_LOG_EVERY_MS = 60_000;

const NOTE_TEXT: Readonly<Record<AdvertNote['kind'], string>> = {
  'interval-differs': 'advert interval differs from ours (the backup adopts it; differing intervals make failover uneven)',
  'owner-receives': 'advert received by the address owner: another router serves this VRID',
  'another-owner': 'two routers are configured as the address owner (priority 255) for this VRID',
};

export class AdvertLog {
  private readonly throttle: WarnThrottle;
  private readonly counts = new Map<string, number>();

  constructor(private readonly log: Logger, everyMs = ADVERT_LOG_EVERY_MS) {
    this.throttle = new WarnThrottle(everyMs);
  }

  /** Counts one event under `key`; the number of events since the last logged one, or undefined when this one is not logged. */
  private admit(key: string, nowMs: number): { more: number } | undefined {
    const total = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, total);
    const a = this.throttle.admit(key, nowMs, total);
    if (a === undefined) return undefined;
    return { more: a.sinceLast === undefined ? 0 : a.sinceLast - 1 };
  }

  private static since(more: number): string {
    return more > 0 ? ` (${more} more since the last report)` : '';
  }

  /** An advert of `instance` dropped for `reason`; `from` when the sender is known. */
  dropped(instance: string, reason: string, detail: string, from: string | undefined, nowMs: number): void {
    const a = this.admit(`${instance}\0drop\0${reason}`, nowMs);
    const fields = { instance, reason, detail, ...(from === undefined ? {} : { from }) };
    if (a === undefined) {
      this.log.debug(fields, 'dropped advert');
      return;
    }
    this.log.info({ ...fields, moreDropped: a.more }, `dropped advert${from === undefined ? '' : ` from ${from}`} (${reason}): ${detail}${AdvertLog.since(a.more)}`);
  }

  /** Adverts of `instance` from `from` dropped by HMAC authentication for `reason` (a warning). */
  authFailed(instance: { name: string; vrid: number }, from: string, reason: string, detail: string, nowMs: number): void {
    if (!this.admitAuth(instance.name, reason, nowMs)) return;
    this.log.warn({ instance: instance.name, vrid: instance.vrid, peer: from, reason, detail },
      `adverts from ${from} (VRID ${instance.vrid}) dropped by HMAC authentication (${reason}): ${detail}`);
  }

  /** An unsigned advert accepted in migration mode `mode` (info: a roll-out can be checked). */
  unsigned(instance: { name: string; vrid: number }, from: string, mode: string, nowMs: number): void {
    if (!this.admitAuth(instance.name, 'unsigned', nowMs)) return;
    this.log.info({ instance: instance.name, peer: from, mode },
      `adverts from ${from} (VRID ${instance.vrid}) carry no HMAC trailer; accepted in mode ${mode}: that node does not sign yet (enforce would drop them)`);
  }

  /** A signed advert whose time is `skewSec` off ours, over half the HMAC time window (a warning). */
  skewed(instance: { name: string; vrid: number }, from: string, skewSec: number, windowSec: number, nowMs: number): void {
    if (!this.admitAuth(instance.name, 'skew', nowMs)) return;
    this.log.warn({ instance: instance.name, peer: from, skewSec, windowSec },
      `adverts from ${from} (VRID ${instance.vrid}) are ${Math.abs(skewSec)} s off our clock, over half the HMAC time window (${windowSec} s): fix NTP before they are dropped as stale`);
  }

  private admitAuth(instance: string, event: string, nowMs: number): boolean {
    return this.throttle.admit(`${instance}\0auth\0${event}`, nowMs) !== undefined;
  }

  /**
   * An accepted advert that RFC 9568 asks to log. `ownerIgnores`: this instance ignores adverts
   * while it is master (owner-ignore-adverts), said in the owner notes.
   */
  noted(instance: string, note: AdvertNote, from: string, ownerIgnores: boolean, nowMs: number): void {
    const a = this.admit(`${instance}\0note\0${note.kind}`, nowMs);
    if (a === undefined) return;
    const owner = note.kind !== 'interval-differs';
    const handling = owner ? (ownerIgnores ? '; ignored while master (owner-ignore-adverts)' : '; processed as usual (the higher address wins between owners)') : '';
    const msg = `advert from ${from}: ${NOTE_TEXT[note.kind]} - ${note.detail}${handling}${AdvertLog.since(a.more)}`;
    const fields = { instance, note: note.kind, from, detail: note.detail, moreSeen: a.more };
    if (owner) this.log.warn(fields, msg);
    else this.log.info(fields, msg);
  }
}
