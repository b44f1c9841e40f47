/**
 * The real timers behind one instance's arm-timer and cancel-timer effects: one entry per
 * TimerKind on the agent's DeadlineTimers (one Node timer per distinct deadline millisecond,
 * shared by all instances), armed for a monotonic deadline the core chose.
 *
 * Contract: arming a kind replaces its previous timer. A fire is fed to the core only if the
 * core still wants that deadline (`isCurrent`) and it is due by the clock; the core ignores
 * stale fires anyway, so re-arming is always safe. DeadlineTimers never runs an entry before the
 * clock reaches its deadline (a lost master-down timer would leave a backup stuck).
 *
 * Re-arming for a later deadline (a backup's Master_Down_Timer at every advert, hundreds a second
 * with many instances) does not touch the timer: the new deadline is recorded and the entry,
 * when it runs at the earlier one, starts again for the remainder. Only an earlier deadline
 * replaces it.
 *
 * A timer may be armed to wake later than its deadline (`wakeAtMs`): a MASTER whose adverts a
 * train sends in between (advert-wake.ts) is fed its Adver_Timer at the wake-up, which the core
 * sees as a timer that fired late.
 *
 * A due Master_Down_Timer is checked one step later in the same event-loop turn (setImmediate,
 * after the poll phase), not in the timers phase where Node runs it: when this process was
 * stalled longer than Master_Down_Interval (starved of CPU, paused, a long collection), the
 * master's adverts that arrived meanwhile are waiting in the socket, and libuv runs due timers
 * before it reads sockets. Reading them first restarts the timer as the protocol wants; firing
 * first would take over from a healthy master. The extra delay is one loop turn, well under a
 * millisecond on an idle loop.
 */
import type { Logger } from 'pino';
import type { TimerKind } from '../core/fsm/types.js';
import type { MonotonicClock } from '../adapters/ports.js';
import { DeadlineTimers, type DeadlineEntry } from './deadline-timers.js';

export interface InstanceTimerDeps {
  readonly clock: MonotonicClock;
  readonly log: Logger;
  /** The agent's shared timers; absent = a private set (one Node timer per pending deadline). */
  readonly deadlines?: DeadlineTimers;
  /** Called just before a Master_Down_Timer fire is checked (it may add inputs); may throw. */
  readonly beforeMasterDown: () => void;
  /** The core's current deadline for this kind is still `deadlineMs`. */
  readonly isCurrent: (kind: TimerKind, deadlineMs: number) => boolean;
  /** A due timer: feed it to the core. */
  readonly fire: (kind: TimerKind) => void;
}

/** One armed kind: its entry, when that runs, and the deadline the core wants now. */
interface Armed {
  entry: DeadlineEntry | undefined;
  /** Monotonic ms the entry runs at (or just after). */
  readonly firesAtMs: number;
  /** The core's latest deadline. */
  deadlineMs: number;
  /** When to feed it: >= deadlineMs and >= firesAtMs. */
  wakeAtMs: number;
}

export class InstanceTimers {
  private readonly timers = new Map<TimerKind, Armed>();
  /** A due master-down timer waiting for the reads of this loop turn (see above). */
  private pendingMasterDown: NodeJS.Immediate | undefined;
  private readonly deadlines: DeadlineTimers;

  constructor(private readonly deps: InstanceTimerDeps) {
    this.deadlines = deps.deadlines ?? new DeadlineTimers(deps.clock);
  }

  /**
   * Arms `kind` for `deadlineMs`, fed at `wakeAtMs` (default: the deadline; never earlier),
   * replacing its running timer (a later wake-up is recorded only).
   */
  arm(kind: TimerKind, deadlineMs: number, wakeAtMs = deadlineMs): void {
    const wake = Math.max(wakeAtMs, deadlineMs);
    const armed = this.timers.get(kind);
    if (armed !== undefined && armed.firesAtMs <= wake) {
      armed.deadlineMs = deadlineMs;
      armed.wakeAtMs = wake;
      return;
    }
    this.cancel(kind);
    this.start(kind, deadlineMs, wake);
  }

  cancel(kind: TimerKind): void {
    const old = this.timers.get(kind);
    if (old?.entry !== undefined) this.deadlines.cancel(old.entry);
    this.timers.delete(kind);
    if (kind === 'master-down') this.clearPendingMasterDown();
  }

  stopAll(): void {
    for (const t of this.timers.values()) if (t.entry !== undefined) this.deadlines.cancel(t.entry);
    this.timers.clear();
    this.clearPendingMasterDown();
  }

  private clearPendingMasterDown(): void {
    if (this.pendingMasterDown !== undefined) clearImmediate(this.pendingMasterDown);
    this.pendingMasterDown = undefined;
  }

  private start(kind: TimerKind, deadlineMs: number, wakeAtMs = deadlineMs): void {
    const armed: Armed = { entry: undefined, firesAtMs: wakeAtMs, deadlineMs, wakeAtMs };
    this.timers.set(kind, armed);
    armed.entry = this.deadlines.at(wakeAtMs, () => {
      this.timers.delete(kind);
      const deadline = armed.deadlineMs;
      if (!this.deps.isCurrent(kind, deadline)) return;
      // Re-armed for later since: wait for the remainder.
      if (this.deps.clock() < armed.wakeAtMs) {
        this.start(kind, deadline, armed.wakeAtMs);
        return;
      }
      if (kind !== 'master-down') {
        this.deps.fire(kind);
        return;
      }
      this.pendingMasterDown = setImmediate(() => {
        this.pendingMasterDown = undefined;
        // Last-moment facts first (isolation: a cut-off backup must fence itself, not take over).
        try {
          this.deps.beforeMasterDown();
        } catch (err) {
          this.deps.log.error({ err }, 'the isolation check before taking over failed; taking over on the protocol alone');
        }
        this.due(kind, deadline);
      });
    });
  }

  /** Feeds a fire of `kind` for `deadlineMs` to the core if still current and due; re-arms an early one. */
  private due(kind: TimerKind, deadlineMs: number): void {
    if (!this.deps.isCurrent(kind, deadlineMs)) return;
    if (this.deps.clock() < deadlineMs) {
      this.start(kind, deadlineMs);
      return;
    }
    this.deps.fire(kind);
  }
}
