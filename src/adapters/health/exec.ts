/**
 * Exec check: runs `command` (argument vector, no shell, no PATH lookup), healthy on exit code 0.
 *
 * The child is contained like a hook (src/adapters/containment.ts: its own leaf cgroup where
 * the host allows it, else its process group); when the signal fires, everything it started
 * gets SIGKILL (so a script's own children die with it, even ones that called setsid where a
 * cgroup is used) and the promise resolves once the child has been reaped. Its environment is
 * the minimal one of src/adapters/child-env.ts (PATH, LANG, the instance's `environment:`
 * entries), never the agent's. stdin and stdout are discarded; the last 200 bytes of stderr go
 * into the failure detail.
 */
import type { EnvironmentEntry, CheckConfig } from '../../core/config/types.js';
import { childEnvironment } from '../child-env.js';
import { sharedContainment, type Contained, type Containment } from '../containment.js';
import { abortDetail, errorText, settleOnce, stopwatch, type CheckResult } from './common.js';

export type ExecCheck = Extract<CheckConfig, { type: 'exec' }>;

/** What an exec check runs with besides its config. */
export interface ExecOptions {
  /** The instance's `environment:` entries. Default none. */
  readonly environment?: readonly EnvironmentEntry[];
  /** Default the agent's, detected on first use. */
  readonly containment?: Containment;
}

/** Bytes of stderr kept for the detail. */
export const STDERR_TAIL_BYTES = 200;

export function run(check: ExecCheck, signal: AbortSignal, opts: ExecOptions = {}): Promise<CheckResult> {
  const elapsed = stopwatch();
  const [file = '', ...args] = check.command;
  const what = check.command.join(' ');
  return settleOnce(signal, (finish, onAbort) => {
    let tail = Buffer.alloc(0);
    let exit: { code: number | null; sig: NodeJS.Signals | null } | undefined;
    let aborted = false;
    const stderrText = (): string => {
      const text = tail.toString('utf8').replace(/\s+/g, ' ').trim();
      return text === '' ? '' : `: ${text}`;
    };
    const timedOut = (): void => finish({ ok: false, detail: `${what}: ${abortDetail(signal, check.timeoutMs)}`, latencyMs: elapsed() });
    const report = ({ code, sig }: { code: number | null; sig: NodeJS.Signals | null }): void => {
      if (code === 0) finish({ ok: true, detail: `${what}: exit 0`, latencyMs: elapsed() });
      else if (code !== null) finish({ ok: false, detail: `${what}: exit ${code}${stderrText()}`, latencyMs: elapsed() });
      else finish({ ok: false, detail: `${what}: killed by ${sig ?? 'a signal'}${stderrText()}`, latencyMs: elapsed() });
    };
    if (signal.aborted) {
      timedOut();
      return;
    }
    let contained: Contained;
    try {
      contained = (opts.containment ?? sharedContainment()).spawn(file, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: childEnvironment(opts.environment ?? [], {}),
      });
    } catch (err) {
      // Synchronous spawn failures (e.g. a NUL byte in an argument).
      finish({ ok: false, detail: `${what}: ${errorText(err)}`, latencyMs: elapsed() });
      return;
    }
    const child = contained.child;
    child.stderr?.on('data', (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > STDERR_TAIL_BYTES) tail = tail.subarray(tail.length - STDERR_TAIL_BYTES);
    });
    child.stderr?.on('error', () => { /* a destroyed pipe: the exit status still decides */ });
    child.on('error', (err) => {
      // spawn failed (ENOENT, EACCES): there is no process to wait for.
      contained.release();
      finish({ ok: false, detail: `${what}: ${errorText(err)}`, latencyMs: elapsed() });
    });
    child.on('exit', (code, sig) => {
      exit = { code, sig };
      if (aborted) timedOut();
    });
    // 'close' waits for stderr to drain as well as for the exit.
    child.on('close', (code, sig) => {
      contained.release();
      report(exit ?? { code, sig });
    });
    onAbort(() => {
      aborted = true;
      // Kill everything even if the child itself has exited: processes it left behind may hold
      // stderr open (then its exit status decides, as it would have without them).
      contained.kill();
      child.stderr?.destroy();
      if (exit !== undefined) report(exit);
      else if (child.pid === undefined) timedOut();
    });
  });
}
