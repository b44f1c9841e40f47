/**
 * Runs one instance's takeover guards (`guards:`) when the core asks (`run-guards`): every
 * guard at once, each supervised like a hook (src/adapters/supervised-run.ts: no shell, its own
 * cgroup or process group, killed at its timeout) with the same minimal environment
 * (src/adapters/child-env.ts) plus the takeover's facts (TakeoverFacts below).
 *
 * Contract: `run` resolves once every guard of the attempt has ended, with one result each, and
 * never rejects (a spawn failure is a failed result). The attempt passes only if every guard
 * exited 0 in time. `close()` kills what runs; later runs resolve at once as failed ("stopped").
 * It keeps the results of the last attempt for status. It decides nothing: the core does.
 */
import { childEnvironment } from '../adapters/child-env.js';
import { sharedContainment, type Containment } from '../adapters/containment.js';
import { superviseRun, type SupervisedRun } from '../adapters/supervised-run.js';
import type { EnvironmentEntry, GuardConfig } from '../core/config/types.js';
import type { GuardRunStatus } from '../core/control/types.js';

/** What a guard is told about the takeover it judges (its HAAGENT_* variables). */
export interface TakeoverFacts {
  readonly instance: string;
  readonly vrid: number;
  readonly vips: readonly string[];
  /** The current VRRP state (HAAGENT_STATE). */
  readonly state: string;
  /** The epoch held now; the takeover would take epoch + 1 (HAAGENT_EPOCH). */
  readonly epoch: number;
  /** A peer was heard since boot (HAAGENT_PEER_HEARD=1|0). */
  readonly peerHeard: boolean;
  /** ms since the last advert of a master, null if none since boot (HAAGENT_MASTER_SILENT_MS, empty). */
  readonly masterSilentMs: number | null;
}

export interface GuardAttempt {
  readonly ok: boolean;
  /** Names the guards that failed and how; empty when all passed. */
  readonly detail: string;
  readonly results: readonly GuardRunStatus[];
}

export interface GuardRunnerOptions {
  readonly environment?: readonly EnvironmentEntry[];
  readonly containment?: Containment;
  /** Wall clock (ms) for durations; default Date.now. */
  readonly clock?: () => number;
  readonly killGraceMs?: number;
  readonly outputTailBytes?: number;
}

/**
 * How one result reads in a detail line: "fresh: exit 1", "fresh: timed out after 5000 ms".
 * Never the guard's output: the detail travels in events to alert sinks (webhooks, syslog),
 * and a script's output may hold anything; the output tail is in status and the log only.
 */
function describeGuard(r: GuardRunStatus, timeoutMs: number): string {
  if (r.error !== undefined) return `${r.name}: could not run (${r.error})`;
  if (r.timedOut) return `${r.name}: timed out after ${timeoutMs} ms`;
  return `${r.name}: exit ${r.exitCode === null ? 'by signal' : String(r.exitCode)}`;
}

export class GuardRunner {
  private readonly running = new Set<SupervisedRun>();
  private last: readonly GuardRunStatus[] = [];
  private closed = false;
  /** Counts attempts: only the latest one's results are kept. */
  private attempts = 0;

  constructor(private readonly guards: readonly GuardConfig[], private readonly opts: GuardRunnerOptions = {}) {}

  /** The results of the last finished attempt (empty before the first). */
  results(): readonly GuardRunStatus[] {
    return this.last;
  }

  /**
   * One attempt: every guard at once. A new attempt kills what an earlier one still runs (its
   * guards then report as failed, and only the latest attempt's results are kept), so two
   * attempts never run side by side.
   */
  async run(facts: TakeoverFacts): Promise<GuardAttempt> {
    if (this.closed) return { ok: false, detail: 'stopped', results: [] };
    const attempt = ++this.attempts;
    for (const r of this.running) r.kill();
    this.running.clear();
    const results = await Promise.all(this.guards.map((g) => this.runOne(g, facts)));
    if (attempt === this.attempts) this.last = results;
    const failed = results.map((r, i) => (r.ok ? undefined : describeGuard(r, this.guards[i]?.timeoutMs ?? 0))).filter((x): x is string => x !== undefined);
    return { ok: failed.length === 0, detail: failed.join('; '), results };
  }

  /** Kills every running guard; later runs fail at once. */
  close(): void {
    this.closed = true;
    for (const r of this.running) r.kill();
    this.running.clear();
  }

  private async runOne(g: GuardConfig, f: TakeoverFacts): Promise<GuardRunStatus> {
    const clock = this.opts.clock ?? Date.now;
    const own: Record<string, string> = {
      HAAGENT_GUARD: g.name,
      HAAGENT_INSTANCE: f.instance,
      HAAGENT_VRID: String(f.vrid),
      HAAGENT_VIPS: f.vips.join(','),
      HAAGENT_STATE: f.state,
      HAAGENT_EPOCH: String(f.epoch),
      HAAGENT_PEER_HEARD: f.peerHeard ? '1' : '0',
      HAAGENT_MASTER_SILENT_MS: f.masterSilentMs === null ? '' : String(Math.max(0, Math.round(f.masterSilentMs))),
    };
    const startMs = clock();
    const run = superviseRun(g.command, {
      containment: this.opts.containment ?? sharedContainment(),
      env: childEnvironment(this.opts.environment ?? [], own),
      timeoutMs: g.timeoutMs,
      killGraceMs: this.opts.killGraceMs ?? 1000,
      outputTailBytes: this.opts.outputTailBytes ?? 1024,
    });
    this.running.add(run);
    const o = await run.done;
    this.running.delete(run);
    const base: GuardRunStatus = {
      name: g.name, ok: o.error === undefined && !o.timedOut && o.exitCode === 0, exitCode: o.exitCode, timedOut: o.timedOut,
      durationMs: Math.max(0, Math.round(clock() - startMs)), outputTail: o.outputTail,
    };
    return o.error === undefined ? base : { ...base, error: o.error };
  }
}
