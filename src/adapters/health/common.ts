/**
 * Shared pieces of the health checkers. Every checker has the shape `run(check, signal)` and
 * never rejects: errors, timeouts and aborts become `{ ok: false, detail }`.
 *
 * Timeouts are the caller's job: it aborts `signal` once `timeoutMs` has passed, with a
 * `TimeoutError` reason (as `AbortSignal.timeout` does); any other reason reads as "aborted".
 */
import { performance } from 'node:perf_hooks';
import type { CheckResult } from '../../core/health/types.js';

export type { CheckResult } from '../../core/health/types.js';

/** Latency stopwatch on the monotonic clock, rounded to 0.1 ms. */
export function stopwatch(): () => number {
  const start = performance.now();
  return () => Math.round((performance.now() - start) * 10) / 10;
}

export function isTimeout(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

/** Why the signal fired, for a detail: "timed out after 1000 ms" or "aborted". */
export function abortDetail(signal: AbortSignal, timeoutMs: number): string {
  return isTimeout(signal.reason) ? `timed out after ${timeoutMs} ms` : 'aborted';
}

/** "ECONNREFUSED", else the message of an error, else its string form. */
export function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (typeof message === 'string' && message !== '') return message;
  }
  return String(err);
}

/**
 * Runs `body` with a `finish` that settles the promise once (later calls are ignored) and an
 * `onAbort` hook registered on the signal until then; a throw from `body` becomes a failure.
 */
export function settleOnce(
  signal: AbortSignal,
  body: (finish: (result: CheckResult) => void, onAbort: (fn: () => void) => void) => void,
): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    let done = false;
    const aborters: (() => void)[] = [];
    const listener = (): void => { for (const fn of aborters) fn(); };
    const finish = (result: CheckResult): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', listener);
      resolve(result);
    };
    signal.addEventListener('abort', listener, { once: true });
    try {
      body(finish, (fn) => { aborters.push(fn); if (signal.aborted && !done) fn(); });
    } catch (err) {
      finish({ ok: false, detail: errorText(err), latencyMs: 0 });
    }
  });
}
