/**
 * Ordered, awaited hooks for one VRRP instance.
 *
 * keepalived runs notify scripts asynchronously, unordered and fire-and-forget: a slow
 * `notify_backup` can still be running when `notify_master` starts, and nobody records how
 * either ended. Here the hooks of one runner form a FIFO queue: each starts only after the
 * previous one has ended (exited, or been killed at its timeout), and every run leaves a
 * {@link HookResult} (exit status, signal, timeout, output tail) in `results()` and on the
 * 'result' event.
 *
 * Everything is asynchronous: the caller's event loop keeps sending and receiving adverts while
 * a hook runs. Spawn failures (ENOENT, EACCES, ...) become a failed result; `run()` never
 * rejects.
 *
 * Process handling: each hook is spawned without a shell, in a new session and process group,
 * and contained (src/adapters/containment.ts): in a leaf cgroup of its own where the host
 * allows it, so that at a timeout or on `close()` everything the hook started dies with it,
 * even a descendant that left the process group (`setsid`); otherwise its process group and
 * the descendants found by parent links. A hook that exits normally is deliberately NOT
 * followed by a kill: a hook may start something meant to outlive it. Such leftovers only delay
 * completion by {@link OUTPUT_DRAIN_MS} if they hold the output pipes.
 *
 * Environment: only PATH, LANG, the instance's `environment:` entries and the HAAGENT_*
 * variables (src/adapters/child-env.ts); nothing else of the agent's environment.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { childEnvironment } from '../adapters/child-env.js';
import { sharedContainment, type Contained, type Containment, type ContainmentMode } from '../adapters/containment.js';
import { HaagentError } from '../core/errors.js';
import type { EnvironmentEntry, HookConfig, HookName, HooksConfig } from '../core/config/types.js';

/** How one hook run ended. */
export interface HookResult {
  readonly hook: HookName;
  readonly command: readonly string[];
  /** ISO 8601 time the hook was started (from the runner's clock). */
  readonly startedAt: string;
  readonly durationMs: number;
  /** Exit code, or null when the hook was killed by a signal or never started. */
  readonly exitCode: number | null;
  /** Name of the signal that ended the hook ("SIGTERM", "SIGKILL"), or null. */
  readonly signal: string | null;
  /** True when the hook outlived its `timeoutMs` and was signalled. */
  readonly timedOut: boolean;
  /** Exit code 0 and not timed out. */
  readonly ok: boolean;
  /** Why the hook could not be started (e.g. "spawn /x ENOENT"); absent when it ran. */
  readonly error?: string;
  /** The last `outputTailBytes` of stdout and stderr, interleaved in arrival order. */
  readonly outputTail: string;
  /** How the run was contained: its own cgroup, or its process group (the fallback). */
  readonly containment: ContainmentMode;
}

/** What the transition that triggered a hook was. */
export interface HookContext {
  /** Old state (HAAGENT_OLD_STATE). */
  readonly from: string;
  /** New state (HAAGENT_STATE). */
  readonly to: string;
  /** Current effective priority (HAAGENT_PRIORITY). */
  readonly priority: number;
  /** Optional transition counter / fencing epoch (HAAGENT_EPOCH). */
  readonly epoch?: number;
}

/** The instance a runner belongs to; constant over its life. */
export interface HookRunnerBase {
  readonly instance: string;
  readonly vrid: number;
  /** VIPs in CIDR notation (HAAGENT_VIPS, comma-separated). */
  readonly vips: readonly string[];
}

export interface HookRunnerOptions {
  /** Milliseconds since the epoch; used for `startedAt` and `durationMs`. Default `Date.now`. */
  readonly clock?: () => number;
  /** Time between SIGTERM and SIGKILL after a timeout. Default 2000. */
  readonly killGraceMs?: number;
  /** How many results `results()` keeps. Default 20. */
  readonly keepResults?: number;
  /** Bytes of combined output kept per result. Default 2048. */
  readonly outputTailBytes?: number;
  /** The instance's `environment:` entries. Default none. */
  readonly environment?: readonly EnvironmentEntry[];
  /** How hooks are contained. Default the agent's, detected on first use. */
  readonly containment?: Containment;
}

export type HookRunnerEvents = {
  /** One per hook that was started (or failed to start); not for unconfigured or skipped hooks. */
  result: [HookResult];
};

export const DEFAULT_KILL_GRACE_MS = 2000;
export const DEFAULT_KEEP_RESULTS = 20;
export const DEFAULT_OUTPUT_TAIL_BYTES = 2048;
/** After the hook process exits, how long to wait for its output pipes to close. */
export const OUTPUT_DRAIN_MS = 250;
/** After a timed-out hook's leader exits, how often to check whether the rest of its processes are gone. */
export const GROUP_POLL_MS = 20;

interface Job {
  readonly hook: HookName;
  readonly ctx: HookContext;
  readonly resolve: (result: HookResult | undefined) => void;
}

interface Running {
  /** SIGKILL the whole process group now. */
  readonly kill: () => void;
  readonly done: Promise<HookResult>;
}

export class HookRunner extends EventEmitter<HookRunnerEvents> {
  private readonly hooks: HooksConfig;
  private base: HookRunnerBase;
  private readonly clock: () => number;
  private readonly killGraceMs: number;
  private readonly keepResults: number;
  private readonly outputTailBytes: number;
  private readonly environment: readonly EnvironmentEntry[];
  private readonly containmentOption: Containment | undefined;

  private readonly queue: Job[] = [];
  private readonly history: HookResult[] = [];
  private running: Running | undefined;
  private draining = false;
  private closing: Promise<void> | undefined;

  /**
   * Throws HA_ERR_HOOK for a config the validator should already have refused (empty argv,
   * relative command, non-positive timeout) and for invalid options. Does not check that the
   * command exists or is executable: that is reported per run, as the file may appear later.
   */
  constructor(hooks: HooksConfig, base: HookRunnerBase, opts: HookRunnerOptions = {}) {
    super();
    for (const [name, cfg] of Object.entries(hooks) as [HookName, HookConfig | undefined][]) {
      if (cfg === undefined) continue;
      const cmd = cfg.command[0];
      if (cmd === undefined || !cmd.startsWith('/')) {
        throw new HaagentError('HA_ERR_HOOK', `hook "${name}": command[0] must be an absolute path`);
      }
      if (!Number.isFinite(cfg.timeoutMs) || cfg.timeoutMs <= 0) {
        throw new HaagentError('HA_ERR_HOOK', `hook "${name}": timeoutMs must be a positive number`);
      }
    }
    this.hooks = hooks;
    this.base = { instance: base.instance, vrid: base.vrid, vips: [...base.vips] };
    this.clock = opts.clock ?? Date.now;
    this.killGraceMs = nonNegative('killGraceMs', opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    this.keepResults = nonNegative('keepResults', opts.keepResults ?? DEFAULT_KEEP_RESULTS);
    this.outputTailBytes = nonNegative('outputTailBytes', opts.outputTailBytes ?? DEFAULT_OUTPUT_TAIL_BYTES);
    this.environment = [...(opts.environment ?? [])];
    this.containmentOption = opts.containment;
  }

  /** How this runner's hooks are contained (detected on first use unless given). */
  get containment(): Containment {
    return this.containmentOption ?? sharedContainment();
  }

  /** A reload changed the instance's VIPs in place: runs from now on see the new HAAGENT_VIPS. */
  setVips(vips: readonly string[]): void {
    this.base = { ...this.base, vips: [...vips] };
  }

  /**
   * Queue `hook` behind every hook queued before it. Resolves with its result once it has
   * ended; with undefined when no such hook is configured (still only after the earlier ones)
   * or when the runner was closed before the hook started. Never rejects.
   */
  run(hook: HookName, ctx: HookContext): Promise<HookResult | undefined> {
    if (this.closing !== undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.queue.push({ hook, ctx, resolve });
      void this.drain();
    });
  }

  /** The last `keepResults` results, newest last. */
  results(): readonly HookResult[] {
    return [...this.history];
  }

  /** Hooks queued or running (not yet resolved). */
  pending(): number {
    return this.queue.length + (this.running === undefined ? 0 : 1);
  }

  /**
   * SIGKILL the running hook's process group and resolve every queued hook with undefined;
   * later `run()` calls resolve with undefined at once. Resolves when the running hook (if any)
   * has been reaped. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    for (const job of this.queue.splice(0)) job.resolve(undefined);
    const running = this.running;
    if (running === undefined) {
      this.closing = Promise.resolve();
    } else {
      running.kill();
      this.closing = running.done.then(() => undefined);
    }
    return this.closing;
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
        const cfg = this.hooks[job.hook];
        if (cfg === undefined) {
          job.resolve(undefined);
          continue;
        }
        const running = this.execute(job.hook, cfg, job.ctx);
        this.running = running;
        const result = await running.done;
        this.running = undefined;
        this.record(result);
        job.resolve(result);
      }
    } finally {
      this.draining = false;
    }
  }

  private record(result: HookResult): void {
    this.history.push(result);
    while (this.history.length > this.keepResults) this.history.shift();
    try {
      this.emit('result', result);
    } catch (err) {
      // A throwing listener must not stall the queue; surface it as any emitter throw would.
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private env(hook: HookName, ctx: HookContext): Record<string, string> {
    const own: Record<string, string> = {
      HAAGENT_HOOK: hook,
      HAAGENT_INSTANCE: this.base.instance,
      HAAGENT_VRID: String(this.base.vrid),
      HAAGENT_STATE: ctx.to,
      HAAGENT_OLD_STATE: ctx.from,
      HAAGENT_VIPS: this.base.vips.join(','),
      HAAGENT_PRIORITY: String(ctx.priority),
    };
    if (ctx.epoch !== undefined) own['HAAGENT_EPOCH'] = String(ctx.epoch);
    return childEnvironment(this.environment, own);
  }

  /** Start one hook; `done` never rejects. */
  private execute(hook: HookName, cfg: HookConfig, ctx: HookContext): Running {
    const command = [...cfg.command];
    const startMs = this.clock();
    const startedAt = new Date(startMs).toISOString();
    const output = new OutputTail(this.outputTailBytes);
    const containment = this.containment;
    let mode: ContainmentMode = containment.mode;
    const finish = (fields: { exitCode: number | null; signal: string | null; timedOut: boolean; error?: string }): HookResult => {
      const base = {
        hook,
        command,
        startedAt,
        durationMs: Math.max(0, this.clock() - startMs),
        exitCode: fields.exitCode,
        signal: fields.signal,
        timedOut: fields.timedOut,
        ok: fields.error === undefined && !fields.timedOut && fields.exitCode === 0,
        outputTail: output.text(),
        containment: mode,
      };
      return fields.error === undefined ? base : { ...base, error: fields.error };
    };

    let contained: Contained;
    try {
      contained = containment.spawn(command[0] ?? '', command.slice(1), {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: this.env(hook, ctx),
      });
    } catch (err) {
      // Synchronous spawn failures (e.g. a NUL byte in an argument).
      const result = finish({ exitCode: null, signal: null, timedOut: false, error: errorText(err) });
      return { kill: () => undefined, done: Promise.resolve(result) };
    }

    const child: ChildProcess = contained.child;
    mode = contained.mode;
    let resolveDone!: (r: HookResult) => void;
    const done = new Promise<HookResult>((resolve) => {
      resolveDone = resolve;
    });

    let settled = false;
    let timedOut = false;
    let exited: { code: number | null; signal: string | null } | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let pollTimer: NodeJS.Timeout | undefined;
    /** Set while a timed-out hook's leader has exited but other processes of it may remain. */
    let waitingForGroup = false;

    const settle = (result: HookResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      clearTimeout(pollTimer);
      child.stdout?.destroy();
      child.stderr?.destroy();
      contained.release();
      resolveDone(result);
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
        settle(finish({ exitCode: null, signal: null, timedOut: false, error: errorText(err) }));
      }
      // Otherwise a signalling error; the 'exit' event still decides the result.
    });

    child.on('exit', (code, signal) => {
      exited = { code, signal };
      clearTimeout(timeoutTimer);
      if (timedOut && killTimer !== undefined) {
        // The leader is gone, but its other processes may still be exiting, or may ignore
        // SIGTERM: the hook is over once they are gone, or when the grace ends and SIGKILL is sent.
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
      // Give the pipes a moment to deliver what the hook wrote before it exited.
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
      killTimer = setTimeout(sigkill, this.killGraceMs);
    }, cfg.timeoutMs);

    return {
      kill: () => {
        if (settled) return;
        clearTimeout(timeoutTimer);
        sigkill();
      },
      done,
    };
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new HaagentError('HA_ERR_HOOK', `${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The last `limit` bytes of a byte stream, without splitting a UTF-8 character at its start. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    if (this.limit === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > 2 * this.limit) this.compact();
  }

  text(): string {
    this.compact();
    const buf = this.chunks[0] ?? Buffer.alloc(0);
    let start = 0;
    // Skip UTF-8 continuation bytes (10xxxxxx) left over from a character cut by the limit.
    while (start < buf.length && start < 3 && ((buf[start] ?? 0) & 0xc0) === 0x80) start++;
    return buf.subarray(start).toString('utf8');
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const kept = all.length > this.limit ? all.subarray(all.length - this.limit) : all;
    this.chunks = [kept];
    this.size = kept.length;
  }
}
