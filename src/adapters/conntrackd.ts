/**
 * conntrackd and conntrack (Debian packages `conntrackd` and `conntrack`, conntrack-tools 1.4),
 * always from argument vectors, never a shell.
 *
 * - `startConntrackd(conf)`: the daemon in the foreground (no -d), so the caller supervises
 *   the child itself; stdout ignored, the end of stderr kept for the exit report.
 * - `conntrackdCommand(conf, args, timeoutMs)`: one client command to the running daemon
 *   (`-c`, `-f`, `-R`, `-B`, `-t`, `-n`, `-s`, `-k`), found through the control socket named
 *   in `conf`. `conntrackCommand(args, timeoutMs)`: the kernel table tool.
 *
 * Both commands never reject: a missing binary, a non-zero exit or the timeout (the child is
 * killed) come back as `ok: false` with a one-line `detail`. Both run in the caller's network
 * namespace (the agent's).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export const CONNTRACKD = 'conntrackd';
export const CONNTRACK = 'conntrack';

/** Output kept of a client command (statistics are a few KiB). */
const MAX_OUTPUT_BYTES = 1024 * 1024;
const STDERR_TAIL_CHARS = 500;

export interface CommandResult {
  readonly ok: boolean;
  readonly stdout: string;
  /** Why it failed, one line ('' when ok). */
  readonly detail: string;
  readonly timedOut: boolean;
  readonly durationMs: number;
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' | ').slice(-STDERR_TAIL_CHARS);
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(file, [...args], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES }, (err, stdout, stderr) => {
      const durationMs = performance.now() - started;
      if (err === null) {
        resolve({ ok: true, stdout, detail: '', timedOut: false, durationMs });
        return;
      }
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
      const timedOut = e.killed === true;
      const detail = e.code === 'ENOENT' ? `${file} not found (install the Debian package ${file === CONNTRACKD ? 'conntrackd' : 'conntrack'})`
        : timedOut ? `${file} ${args.join(' ')} did not finish within ${timeoutMs} ms`
          : `${file} ${args.join(' ')} exited ${String(e.code)}: ${oneLine(stderr) || oneLine(stdout)}`;
      resolve({ ok: false, stdout, detail, timedOut, durationMs });
    });
    child.stdin?.end();
  });
}

export function conntrackdCommand(conf: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return run(CONNTRACKD, ['-C', conf, ...args], timeoutMs);
}

export function conntrackCommand(args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return run(CONNTRACK, args, timeoutMs);
}

/** The daemon, in the foreground; `onExit` gets its code or signal and the end of its stderr. */
export function startConntrackd(conf: string, onExit: (code: number | null, signal: string | null, stderrTail: string) => void): ChildProcess {
  const child = spawn(CONNTRACKD, ['-C', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { tail = (tail + d).slice(-STDERR_TAIL_CHARS); });
  let reported = false;
  const report = (code: number | null, signal: string | null, extra = ''): void => {
    if (reported) return;
    reported = true;
    onExit(code, signal, oneLine(`${tail} ${extra}`));
  };
  child.once('error', (err: NodeJS.ErrnoException) => report(null, null, err.code === 'ENOENT' ? 'conntrackd not found (install the Debian package conntrackd)' : err.message));
  child.once('close', (code, signal) => report(code, signal));
  return child;
}
