/**
 * Health-check results and per-check health, shared by the pure tracker (src/core/health), the
 * checkers (src/adapters/health) and the monitor that runs them (src/daemon/health-monitor.ts).
 */
import type { CheckType } from '../config/types.js';

/** One run of one check. Checkers never throw: every error becomes `ok: false` with a reason. */
export interface CheckResult {
  readonly ok: boolean;
  /** Human-readable: "GET http://127.0.0.1/health: status 503, expected 200". */
  readonly detail: string;
  readonly latencyMs: number;
  /** `file` checks only, when ok: the integer read, added to the priority while healthy. */
  readonly value?: number;
}

/** A result as recorded by the tracker, stamped with the monotonic time it was applied. */
export interface RecordedResult extends CheckResult {
  readonly atMs: number;
}

/** `unknown` until the first result; it counts as failing (a check that never answered is not healthy). */
export type CheckStatus = 'unknown' | 'healthy' | 'failing';

export interface CheckHealth {
  readonly name: string;
  readonly type: CheckType;
  readonly weight: number;
  readonly rise: number;
  readonly fall: number;
  readonly status: CheckStatus;
  /** Consecutive successes (reset by a failure). */
  readonly okCount: number;
  /** Consecutive failures (reset by a success). */
  readonly failCount: number;
  /**
   * `file` checks: the value of the last successful read (kept through failures that have not
   * yet reached `fall`); undefined before the first successful read and for other types.
   */
  readonly value: number | undefined;
  readonly last: RecordedResult | undefined;
}

export interface HealthState {
  /** The configured priority (1..255). */
  readonly basePriority: number;
  /** In configured order. */
  readonly checks: readonly CheckHealth[];
}

export interface HealthVerdict {
  /** 1..254, or 255 for an address owner with every check healthy and no file adjustment. */
  readonly effectivePriority: number;
  /** `check:<name>` for every failing (or unknown) check with weight 0, in configured order. */
  readonly faults: readonly string[];
}
