/**
 * Runs an instance's health checks and turns their results into verdicts (effective priority
 * and fault sources) through the pure tracker in src/core/health.
 *
 * Contract:
 * - `start()` runs every polled check at once, then again `intervalMs` after the previous run
 *   started (or at once if the run took longer). A check never has two runs in flight; a run is
 *   aborted (AbortSignal with a TimeoutError reason) when it exceeds `timeoutMs`.
 * - Interface checks are not polled: `start()` asks `linkState` once per interface, and
 *   `onLink()` (called by the daemon for every netlink link event) feeds them afterwards. An
 *   event that arrives while the start query is in flight wins over its answer.
 * - Every result emits `'result'`; one that changes its check's status also `'change'`; a result
 *   that changes the verdict also emits `'verdict'`
 *   (once per link event, however many checks watch that interface).
 *   `verdict()` gives the current one (all checks start `unknown`, which counts as failing).
 * - `stop()` clears every timer and aborts the runs in flight; results arriving afterwards are
 *   dropped. Idempotent. A stopped monitor is not restarted.
 * - `firstResults()` lets a starting instance wait (bounded) until every check has spoken, so a
 *   restart does not pass through FAULT only because no check has answered yet.
 * - The injected clock stamps results (monotonic ms); scheduling uses real timers.
 */
import type { CheckSummary } from '../core/control/types.js';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { CheckConfig } from '../core/config/types.js';
import { applyResult, createHealth, sameVerdict, verdict, type HealthState } from '../core/health/tracker.js';
import type { CheckResult, CheckStatus, HealthVerdict } from '../core/health/types.js';
import { isPolled, runCheck, type ExecOptions, type PolledCheck } from '../adapters/health/index.js';
import { linkErrorResult, linkResult } from '../adapters/health/interface.js';
import type { MonotonicClock } from '../adapters/ports.js';
import { isoTime } from '../adapters/iso-time.js';

export interface LinkStateReader {
  (ifname: string): Promise<{ up: boolean; running: boolean }>;
}

export interface HealthMonitorDeps {
  readonly clock: MonotonicClock;
  readonly linkState: LinkStateReader;
  /** Wall clock (ms since the epoch) for the ISO `at` of results in `status()`; default Date.now. */
  readonly wallClock?: () => number;
  /** Environment and containment of exec checks (the instance's `environment:`). */
  readonly exec?: ExecOptions;
}

export interface HealthResultEvent {
  readonly check: string;
  readonly result: CheckResult;
  /** The check's status after this result. */
  readonly status: CheckStatus;
}


export interface HealthMonitorEvents {
  verdict: [HealthVerdict];
  result: [HealthResultEvent];
  /** A result that changed its check's status (unknown/healthy/failing): what operators watch. */
  change: [HealthResultEvent & { readonly previous: CheckStatus }];
  stopped: [];
}

/** See HealthMonitor.startupBoundMs. */
export const STARTUP_MARGIN_MS = 250;

interface Poller {
  readonly check: PolledCheck;
  timer: NodeJS.Timeout | undefined;
  controller: AbortController | undefined;
}

export class HealthMonitor extends EventEmitter<HealthMonitorEvents> {
  private health: HealthState;
  private current: HealthVerdict;
  private readonly pollers: Poller[];
  private readonly interfaceChecks: readonly Extract<CheckConfig, { type: 'interface' }>[];
  private readonly linkEvents = new Map<string, number>();
  private started = false;
  private stopped = false;

  constructor(readonly checks: readonly CheckConfig[], basePriority: number, private readonly deps: HealthMonitorDeps) {
    super();
    this.health = createHealth(checks, basePriority);
    this.current = verdict(this.health);
    this.pollers = checks.filter(isPolled).map((check) => ({ check, timer: undefined, controller: undefined }));
    this.interfaceChecks = checks.filter((c): c is Extract<CheckConfig, { type: 'interface' }> => c.type === 'interface');
  }

  /** The current verdict (before any result: every check unknown, i.e. failing). */
  verdict(): HealthVerdict {
    return this.current;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const p of this.pollers) this.poll(p);
    for (const ifname of new Set(this.interfaceChecks.map((c) => c.interface))) {
      // An event that arrives while the query is in flight is newer than its answer.
      const seen = this.linkEvents.get(ifname) ?? 0;
      const fresh = (): boolean => (this.linkEvents.get(ifname) ?? 0) === seen;
      this.deps.linkState(ifname).then(
        (link) => { if (fresh()) this.recordLink(ifname, linkResult(ifname, link.up, link.running)); },
        (err: unknown) => { if (fresh()) this.recordLink(ifname, linkErrorResult(ifname, err)); },
      );
    }
  }

  /** True when every check has had its first result (none is `unknown` any more). */
  decided(): boolean {
    return this.health.checks.every((c) => c.status !== 'unknown');
  }

  /**
   * How long a starting instance waits for its checks' first results before it counts the
   * silent ones as failing: the longest check timeout (every polled check runs at once at start
   * and is aborted at its timeout) plus STARTUP_MARGIN_MS for the link queries and scheduling.
   */
  startupBoundMs(): number {
    return Math.max(0, ...this.checks.map((c) => ('timeoutMs' in c ? c.timeoutMs : 0))) + STARTUP_MARGIN_MS;
  }

  /**
   * Resolves once every check has its first result, or after `boundMs`, or at `stop()`;
   * never rejects. `true` when every check decided in time. Starts the monitor if needed.
   */
  firstResults(boundMs = this.startupBoundMs()): Promise<boolean> {
    this.start();
    if (this.decided() || this.stopped) return Promise.resolve(this.decided());
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('result', onResult);
        this.off('stopped', done);
        resolve(this.decided());
      };
      const onResult = (): void => { if (this.decided()) done(); };
      const timer = setTimeout(done, boundMs);
      this.on('result', onResult);
      this.once('stopped', done);
    });
  }

  /** A link event from netlink: feeds every interface check on `ifname`. */
  onLink(ifname: string, up: boolean, running: boolean): void {
    if (this.stopped) return;
    this.linkEvents.set(ifname, (this.linkEvents.get(ifname) ?? 0) + 1);
    this.recordLink(ifname, linkResult(ifname, up, running));
  }

  /** JSON-friendly summary of each check, for the status command (the control protocol's type). */
  status(): CheckSummary[] {
    const now = this.deps.clock();
    const wallNow = (this.deps.wallClock ?? Date.now)();
    return this.health.checks.map((c) => {
      const last = c.last;
      const ageMs = last === undefined ? 0 : Math.max(0, now - last.atMs);
      return {
        name: c.name, type: c.type, status: c.status, weight: c.weight, rise: c.rise, fall: c.fall,
        consecutiveOk: c.okCount, consecutiveFail: c.failCount, value: c.value ?? null,
        lastResult: last === undefined ? null : {
          ok: last.ok, detail: last.detail, latencyMs: last.latencyMs,
          value: last.value ?? null,
          at: isoTime(wallNow - ageMs), atMs: last.atMs, ageMs,
        },
      };
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.pollers) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.timer = undefined;
      p.controller?.abort(new Error('health monitor stopped'));
      p.controller = undefined;
    }
    this.emit('stopped');
  }

  private poll(p: Poller): void {
    p.timer = undefined;
    if (this.stopped || p.controller !== undefined) return;
    const controller = new AbortController();
    p.controller = controller;
    const startedMs = performance.now();
    const { timeoutMs, intervalMs } = p.check;
    const deadline = setTimeout(() => {
      controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    runCheck(p.check, controller.signal, this.deps.exec)
      .catch((err: unknown): CheckResult => ({ ok: false, detail: `internal error: ${String(err)}`, latencyMs: 0 }))
      .then((result) => {
        clearTimeout(deadline);
        if (this.stopped || p.controller !== controller) return;
        p.controller = undefined;
        const waitMs = Math.max(0, intervalMs - (performance.now() - startedMs));
        p.timer = setTimeout(() => this.poll(p), waitMs);
        this.record([p.check.name], result);
      });
  }

  /** One link state for every interface check on `ifname`, then at most one verdict event. */
  private recordLink(ifname: string, result: CheckResult): void {
    this.record(this.interfaceChecks.filter((c) => c.interface === ifname).map((c) => c.name), result);
  }

  private record(names: readonly string[], result: CheckResult): void {
    if (this.stopped) return;
    let changed = false;
    const now = this.deps.clock();
    for (const name of names) {
      const previous = this.health.checks.find((c) => c.name === name)?.status;
      const applied = applyResult(this.health, name, result, now);
      this.health = applied.state;
      changed ||= applied.changed;
      const check = applied.state.checks.find((c) => c.name === name);
      if (check === undefined) continue;
      this.emit('result', { check: name, result, status: check.status });
      if (previous !== undefined && previous !== check.status) this.emit('change', { check: name, result, status: check.status, previous });
    }
    if (!changed) return;
    const next = verdict(this.health);
    if (sameVerdict(next, this.current)) return;
    this.current = next;
    this.emit('verdict', next);
  }
}
