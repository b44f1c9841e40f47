/**
 * Exec check: runs `command` (argument vector, no shell, no PATH lookup), healthy on exit code 0.
 *
 * The child runs in its own process group; when the signal fires, the whole group gets SIGKILL
 * (so a script's own children die with it) and the promise resolves once the child has been
 * reaped. stdin and stdout are discarded; the last 200 bytes of stderr go into the failure detail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { CheckConfig } from '../../core/config/types.js';
import { abortDetail, errorText, settleOnce, stopwatch, type CheckResult } from './common.js';

export type ExecCheck = Extract<CheckConfig, { type: 'exec' }>;

/** Bytes of stderr kept for the detail. */
export const STDERR_TAIL_BYTES = 200;

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

export function run(check: ExecCheck, signal: AbortSignal): Promise<CheckResult> {
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
    const child = spawn(file, args, { shell: false, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > STDERR_TAIL_BYTES) tail = tail.subarray(tail.length - STDERR_TAIL_BYTES);
    });
    child.stderr?.on('error', () => { /* a destroyed pipe: the exit status still decides */ });
    child.on('error', (err) => {
      // spawn failed (ENOENT, EACCES): there is no process to wait for.
      finish({ ok: false, detail: `${what}: ${errorText(err)}`, latencyMs: elapsed() });
    });
    child.on('exit', (code, sig) => {
      exit = { code, sig };
      if (aborted) timedOut();
    });
    // 'close' waits for stderr to drain as well as for the exit.
    child.on('close', (code, sig) => report(exit ?? { code, sig }));
    onAbort(() => {
      aborted = true;
      // Kill the group even if the child itself has exited: children it left behind may hold
      // stderr open (then its exit status decides, as it would have without them).
      killGroup(child);
      child.stderr?.destroy();
      if (exit !== undefined) report(exit);
      else if (child.pid === undefined) timedOut();
    });
  });
}
