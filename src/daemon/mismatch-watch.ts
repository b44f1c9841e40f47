/**
 * Peers whose VRRP adverts we drop because their settings differ from ours (address list, v2
 * interval, version): they are alive, so the drops will make this node take over while they
 * still hold the VIP. That must be loud: the first drop from a sender is reported at once,
 * then at most once per REPEAT_MS while it goes on, and once when it stops (a valid advert from
 * that sender, or STALE_MS of silence). Status and metrics read `current()`.
 *
 * Bounded: at most MAX_SENDERS senders are tracked per instance (a flood of spoofed sources
 * cannot grow it); beyond that new senders are only counted by the caller's drop counters.
 */
export const REPEAT_MS = 60_000;
export const STALE_MS = 60_000;
export const MAX_SENDERS = 16;

export interface Mismatch {
  readonly from: string;
  readonly reason: string;
  /** The sender's address list, as it advertised it. */
  readonly theirs: readonly string[];
  lastMs: number;
  lastReportMs: number;
  count: number;
}

export interface MismatchReport {
  readonly kind: 'new' | 'ongoing' | 'cleared';
  readonly mismatch: Mismatch;
}

export class MismatchWatch {
  private readonly senders = new Map<string, Mismatch>();

  /** A dropped advert; returns what to report now, if anything. */
  dropped(from: string, reason: string, theirs: readonly string[], nowMs: number): MismatchReport | undefined {
    const known = this.senders.get(from);
    if (known === undefined) {
      if (this.senders.size >= MAX_SENDERS) return undefined;
      const m: Mismatch = { from, reason, theirs: [...theirs], lastMs: nowMs, lastReportMs: nowMs, count: 1 };
      this.senders.set(from, m);
      return { kind: 'new', mismatch: m };
    }
    known.lastMs = nowMs;
    known.count++;
    if (nowMs - known.lastReportMs < REPEAT_MS) return undefined;
    known.lastReportMs = nowMs;
    return { kind: 'ongoing', mismatch: known };
  }

  /** A valid advert from `from`: its mismatch (if any) has cleared. */
  accepted(from: string): MismatchReport | undefined {
    const m = this.senders.get(from);
    if (m === undefined) return undefined;
    this.senders.delete(from);
    return { kind: 'cleared', mismatch: m };
  }

  /** The mismatches still going on (senders heard within STALE_MS); forgets the others. */
  current(nowMs: number): Mismatch[] {
    for (const [k, m] of this.senders) if (nowMs - m.lastMs > STALE_MS) this.senders.delete(k);
    return [...this.senders.values()];
  }

  get size(): number {
    return this.senders.size;
  }
}
