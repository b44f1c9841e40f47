/**
 * One supervised run of an operator command (a hook): spawned without a shell, contained
 * (src/adapters/containment.ts), its combined output tail kept, and ended at its timeout.
 *
 * Contract of {@link superviseRun}: the command is spawned with exactly the `env` given (the
 * caller builds the minimal environment), stdin ignored, stdout and stderr captured into one
 * tail of `outputTailBytes`. At `timeoutMs` every process of the run gets SIGTERM and, after
 * `killGraceMs`, SIGKILL; the run is over once its leader has exited and, after a timeout,
 * once no other process of it is alive (polled every {@link GROUP_POLL_MS}) or the SIGKILL was
 * sent. `kill()` SIGKILLs every process of the run at once. `done` never rejects: spawn failures
 * (ENOENT, EACCES, a NUL byte in an argument) resolve with `error` set.
 *
 * Deliberately not done: a run that exits normally is NOT followed by a kill (a hook may start
 * something meant to outlive it); such leftovers only delay the end by {@link OUTPUT_DRAIN_MS}
 * if they hold the output pipes. No validation of the command (the caller's config checks).
 */
import type { ChildProcess } from 'node:child_process';
import type { Contained, Containment, ContainmentMode } from './containment.js';
import { OutputTail } from './output-tail.js';
import { errorMessage } from '../core/errors.js';

/** After the process exits, how long to wait for its output pipes to close. */
export const OUTPUT_DRAIN_MS = 250;
/** After a timed-out run's leader exits, how often to check whether the rest of its processes are gone. */
export const GROUP_POLL_MS = 20;

export interface SuperviseOptions {
  readonly containment: Containment;
  /** The whole environment of the child. */
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
  /** Time between SIGTERM and SIGKILL after a timeout. */
  readonly killGraceMs: number;
  /** Bytes of combined output kept. */
  readonly outputTailBytes: number;
}

/** How a supervised run ended. */
export interface RunOutcome {
  /** Exit code, or null when the run was killed by a signal or never started. */
  readonly exitCode: number | null;
  /** Name of the signal that ended the run ("SIGTERM", "SIGKILL"), or null. */
  readonly signal: string | null;
  /** True when the run outlived its `timeoutMs` and was signalled. */
  readonly timedOut: boolean;
  /** Why the command could not be started; absent when it ran. */
  readonly error?: string;
  /** The last `outputTailBytes` of stdout and stderr, interleaved in arrival order. */
  readonly outputTail: string;
  /** How the run was contained: its own cgroup, or its process group (the fallback). */
  readonly containment: ContainmentMode;
}

export interface SupervisedRun {
  /** SIGKILL every process of the run now (no-op once it is over). */
  readonly kill: () => void;
  readonly done: Promise<RunOutcome>;
}

/** Starts `command` (absolute argv[0]) under supervision; see the module contract. */
export function superviseRun(command: readonly string[], opts: SuperviseOptions): SupervisedRun {
  const output = new OutputTail(opts.outputTailBytes);
  let mode: ContainmentMode = opts.containment.mode;
  const finish = (fields: { exitCode: number | null; signal: string | null; timedOut: boolean; error?: string }): RunOutcome => {
    const base = { exitCode: fields.exitCode, signal: fields.signal, timedOut: fields.timedOut, outputTail: output.text(), containment: mode };
    return fields.error === undefined ? base : { ...base, error: fields.error };
  };

  let contained: Contained;
  try {
    contained = opts.containment.spawn(command[0] ?? '', command.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env,
    });
  } catch (err) {
    // Synchronous spawn failures (e.g. a NUL byte in an argument).
    const outcome = finish({ exitCode: null, signal: null, timedOut: false, error: errorMessage(err) });
    return { kill: () => undefined, done: Promise.resolve(outcome) };
  }

  const child: ChildProcess = contained.child;
  mode = contained.mode;
  let resolveDone!: (r: RunOutcome) => void;
  const done = new Promise<RunOutcome>((resolve) => {
    resolveDone = resolve;
  });

  let settled = false;
  let timedOut = false;
  let exited: { code: number | null; signal: string | null } | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  /** Set while a timed-out run's leader has exited but other processes of it may remain. */
  let waitingForGroup = false;

  const settle = (outcome: RunOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timeoutTimer);
    clearTimeout(killTimer);
    clearTimeout(drainTimer);
    clearTimeout(pollTimer);
    child.stdout?.destroy();
    child.stderr?.destroy();
    contained.release();
    resolveDone(outcome);
  };

  const settleExited = (): void => {
    if (exited === undefined || waitingForGroup) return;
    settle(finish({ exitCode: exited.code, signal: exited.signal, timedOut }));
  };

  const sigkill = (): void => {
    clearTimeout(killTimer);
    killTimer = undefined;
    clearTimeout(pollTimer);
    waitingForGroup = false;
    contained.kill();
    settleExited();
  };

  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  // Pipe errors after a destroy are expected; they must not become uncaught exceptions.
  child.stdout?.on('error', () => undefined);
  child.stderr?.on('error', () => undefined);

  child.on('error', (err) => {
    if (child.pid === undefined) {
      // Never started (ENOENT, EACCES, ...): no 'exit' will follow.
      settle(finish({ exitCode: null, signal: null, timedOut: false, error: errorMessage(err) }));
    }
    // Otherwise a signalling error; the 'exit' event still decides the outcome.
  });

  child.on('exit', (code, signal) => {
    exited = { code, signal };
    clearTimeout(timeoutTimer);
    if (timedOut && killTimer !== undefined) {
      // The leader is gone, but its other processes may still be exiting, or may ignore
      // SIGTERM: the run is over once they are gone, or when the grace ends and SIGKILL is sent.
      waitingForGroup = true;
      const poll = (): void => {
        void contained.alive().then((alive) => {
          if (!waitingForGroup || settled) return;
          if (alive) {
            pollTimer = setTimeout(poll, GROUP_POLL_MS);
            return;
          }
          clearTimeout(killTimer);
          killTimer = undefined;
          waitingForGroup = false;
          settleExited();
        });
      };
      poll();
    }
    // Give the pipes a moment to deliver what the command wrote before it exited.
    drainTimer = setTimeout(settleExited, OUTPUT_DRAIN_MS);
  });

  child.on('close', () => {
    clearTimeout(drainTimer);
    settleExited();
  });

  timeoutTimer = setTimeout(() => {
    timeoutTimer = undefined;
    if (exited !== undefined || settled) return;
    timedOut = true;
    contained.signal('SIGTERM');
    killTimer = setTimeout(sigkill, opts.killGraceMs);
  }, opts.timeoutMs);

  return {
    kill: () => {
      if (settled) return;
      clearTimeout(timeoutTimer);
      sigkill();
    },
    done,
  };
}

