/**
 * The real timers behind one instance's arm-timer and cancel-timer effects: one Node timer per
 * TimerKind, armed for a monotonic deadline the core chose.
 *
 * Contract: arming a kind replaces its previous timer. A fire is fed to the core only if the
 * core still wants that deadline (`isCurrent`) and it is due by the clock; the core ignores
 * stale fires anyway, so re-arming is always safe. Node timers have whole-millisecond resolution
 * and may fire up to 1 ms before the monotonic deadline: such an early fire is re-armed for the
 * remainder instead of being lost (a lost master-down timer would leave a backup stuck).
 */
import type { Logger } from 'pino';
import type { TimerKind } from '../core/fsm/types.js';
import type { MonotonicClock } from '../adapters/ports.js';

export interface InstanceTimerDeps {
  readonly clock: MonotonicClock;
  readonly log: Logger;
  /** Called just before a Master_Down_Timer fire is checked (it may add inputs); may throw. */
  readonly beforeMasterDown: () => void;
  /** The core's current deadline for this kind is still `deadlineMs`. */
  readonly isCurrent: (kind: TimerKind, deadlineMs: number) => boolean;
  /** A due timer: feed it to the core. */
  readonly fire: (kind: TimerKind) => void;
}

export class InstanceTimers {
  private readonly timers = new Map<TimerKind, NodeJS.Timeout>();

  constructor(private readonly deps: InstanceTimerDeps) {}

  /** Arms `kind` for `deadlineMs`, replacing its running timer. */
  arm(kind: TimerKind, deadlineMs: number): void {
    this.cancel(kind);
    this.start(kind, deadlineMs);
  }

  cancel(kind: TimerKind): void {
    const old = this.timers.get(kind);
    if (old !== undefined) clearTimeout(old);
    this.timers.delete(kind);
  }

  stopAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private start(kind: TimerKind, deadlineMs: number): void {
    const wait = Math.max(0, Math.ceil(deadlineMs - this.deps.clock()));
    this.timers.set(kind, setTimeout(() => {
      this.timers.delete(kind);
      // Last-moment facts first (isolation: a cut-off backup must fence itself, not take over).
      if (kind === 'master-down') {
        try {
          this.deps.beforeMasterDown();
        } catch (err) {
          this.deps.log.error({ err }, 'the isolation check before taking over failed; taking over on the protocol alone');
        }
      }
      if (!this.deps.isCurrent(kind, deadlineMs)) return;
      if (this.deps.clock() < deadlineMs) {
        this.start(kind, deadlineMs);
        return;
      }
      this.deps.fire(kind);
    }, wait));
  }
}
