/**
 * Witnesses: addresses reachable over the external network, probed by ICMP echo, TCP connect or
 * HTTP GET, used as a tie-breaker by a node that hears no peer ("is it the peer that is gone, or
 * am I the one cut off?").
 *
 * `probeWitness` runs one probe (never rejects). `WitnessMonitor` probes every witness in rounds:
 * - a round probes all witnesses in parallel, each bounded by `timeoutMs`;
 * - rounds start every `intervalMs` (measured from the start of the previous round), never
 *   overlapping: a round that outlasts the interval delays the next one;
 * - `reachable()` is true when the LATEST COMPLETED round had at least one successful probe,
 *   false when it had none, and undefined before the first round completes (or when there are
 *   no witnesses: the monitor then never runs a round);
 * - 'change' is emitted with the new boolean whenever `reachable()` changes, including the first
 *   completed round (undefined -> true/false);
 * - `stop()` (idempotent) cancels the timer and aborts the probes in flight; results of an
 *   aborted round are dropped, so no 'change' is emitted after `stop()`.
 */
import { EventEmitter } from 'node:events';
import type { WitnessConfig } from '../core/config/types.js';
import type { CheckResult } from './health/common.js';
import { run as runHttp, type HttpCheck } from './health/http.js';
import { ping } from './health/icmp.js';
import { endpoint, run as runTcp, type TcpCheck } from './health/tcp.js';
import { isoTime } from './iso-time.js';

/** Any HTTP answer in 200..399 counts as reachable (redirects are not followed). */
export const WITNESS_HTTP_STATUSES: readonly number[] = Object.freeze(Array.from({ length: 200 }, (_, i) => 200 + i));

/** Human-readable target: "icmp 192.0.2.1", "tcp 192.0.2.1:443", "http https://example.net/". */
export function witnessTarget(w: WitnessConfig): string {
  switch (w.type) {
    case 'icmp': return `icmp ${w.address}`;
    case 'tcp': return `tcp ${endpoint(w.address, w.port)}`;
    case 'http': return `http ${w.url}`;
  }
}

/**
 * One probe of `w`, bounded by `timeoutMs`; `signal` (optional) aborts it earlier. Never rejects:
 * errors, timeouts and aborts are `ok: false` with a detail.
 */
export async function probeWitness(w: WitnessConfig, timeoutMs: number, signal?: AbortSignal): Promise<CheckResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const sig = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
  const common = { name: `witness ${witnessTarget(w)}`, intervalMs: timeoutMs, timeoutMs, rise: 1, fall: 1, weight: 0 } as const;
  try {
    switch (w.type) {
      case 'icmp':
        return await ping(w.address, sig);
      case 'tcp': {
        const check: TcpCheck = { ...common, type: 'tcp', host: w.address, port: w.port };
        return await runTcp(check, sig);
      }
      case 'http': {
        const check: HttpCheck = { ...common, type: 'http', url: w.url, expectStatus: WITNESS_HTTP_STATUSES, bodyContains: undefined };
        return await runHttp(check, sig);
      }
    }
  } catch (err) {
    // The checkers never reject; this only guards against a bug turning into an unhandled rejection.
    return { ok: false, detail: `${witnessTarget(w)}: ${String(err)}`, latencyMs: 0 };
  }
}

export interface WitnessStatus {
  /** witnessTarget(): "icmp 192.0.2.1". */
  readonly target: string;
  /** undefined until the witness has been probed once. */
  readonly ok: boolean | undefined;
  readonly detail: string;
  readonly latencyMs: number | undefined;
  /** When the last probe finished (ISO 8601), undefined before the first one. */
  readonly at: string | undefined;
}

export interface WitnessMonitorOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface WitnessMonitorEvents {
  change: [reachable: boolean];
}

export class WitnessMonitor extends EventEmitter<WitnessMonitorEvents> {
  private readonly witnesses: readonly WitnessConfig[];
  private readonly opts: WitnessMonitorOptions;
  private readonly last: (WitnessStatus | undefined)[];
  private state: boolean | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;

  constructor(witnesses: readonly WitnessConfig[], opts: WitnessMonitorOptions) {
    super();
    this.witnesses = [...witnesses];
    this.opts = { intervalMs: opts.intervalMs, timeoutMs: opts.timeoutMs };
    this.last = this.witnesses.map(() => undefined);
  }

  /** Starts probing (the first round at once). No-op when running or with no witnesses. */
  start(): void {
    if (this.running || this.witnesses.length === 0) return;
    this.running = true;
    void this.round();
  }

  /** Stops probing and aborts probes in flight. Idempotent; `reachable()` keeps its last value. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    this.abort = undefined;
  }

  /** See the module comment: the latest completed round had an ok probe; undefined before the first. */
  reachable(): boolean | undefined {
    return this.state;
  }

  status(): WitnessStatus[] {
    return this.witnesses.map((w, i) => this.last[i] ?? { target: witnessTarget(w), ok: undefined, detail: 'not probed yet', latencyMs: undefined, at: undefined });
  }

  private async round(): Promise<void> {
    const started = Date.now();
    const ac = new AbortController();
    this.abort = ac;
    const results = await Promise.all(this.witnesses.map((w) => probeWitness(w, this.opts.timeoutMs, ac.signal)));
    if (!this.running || ac.signal.aborted) return;
    this.abort = undefined;
    const at = isoTime();
    results.forEach((r, i) => {
      const w = this.witnesses[i];
      if (w !== undefined) this.last[i] = { target: witnessTarget(w), ok: r.ok, detail: r.detail, latencyMs: r.latencyMs, at };
    });
    const next = results.some((r) => r.ok);
    const changed = next !== this.state;
    this.state = next;
    const delay = Math.max(0, this.opts.intervalMs - (Date.now() - started));
    this.timer = setTimeout(() => { this.timer = undefined; void this.round(); }, delay);
    if (changed) this.emit('change', next);
  }
}
