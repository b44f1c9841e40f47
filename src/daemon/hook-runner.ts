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
 * Process handling (src/adapters/supervised-run.ts): each hook is spawned without a shell, in a
 * new session and process group, and contained (src/adapters/containment.ts): in a leaf cgroup
 * of its own where the host allows it, so that at a timeout or on `close()` everything the hook
 * started dies with it, even a descendant that left the process group (`setsid`); otherwise its
 * process group and the descendants found by parent links. A hook that exits normally is
 * deliberately NOT followed by a kill: a hook may start something meant to outlive it. Such
 * leftovers only delay completion by {@link OUTPUT_DRAIN_MS} if they hold the output pipes.
 *
 * Environment: only PATH, LANG, the instance's `environment:` entries and the HAAGENT_*
 * variables (src/adapters/child-env.ts); nothing else of the agent's environment.
 */
import { EventEmitter } from 'node:events';
import { childEnvironment } from '../adapters/child-env.js';
import { sharedContainment, type Containment } from '../adapters/containment.js';
import { superviseRun, type RunOutcome } from '../adapters/supervised-run.js';
import { HaagentError } from '../core/errors.js';
import type { EnvironmentEntry, HookConfig, HookName, HooksConfig } from '../core/config/types.js';
import { isoTime } from '../adapters/iso-time.js';

export { GROUP_POLL_MS, OUTPUT_DRAIN_MS } from '../adapters/supervised-run.js';

/**
 * How one hook run ended: the supervisor's outcome (exit code, signal, timeout, spawn error,
 * output tail, containment) plus which hook it was and when it ran.
 */
export interface HookResult extends RunOutcome {
  readonly hook: HookName;
  readonly command: readonly string[];
  /** ISO 8601 time the hook was started (from the runner's clock). */
  readonly startedAt: string;
  readonly durationMs: number;
  /** Exit code 0, not timed out and started. */
  readonly ok: boolean;
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
    const run = superviseRun(command, {
      containment: this.containment,
      env: this.env(hook, ctx),
      timeoutMs: cfg.timeoutMs,
      killGraceMs: this.killGraceMs,
      outputTailBytes: this.outputTailBytes,
    });
    const done = run.done.then((outcome): HookResult => {
      const result = {
        hook,
        command,
        startedAt: isoTime(startMs),
        durationMs: Math.max(0, this.clock() - startMs),
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        timedOut: outcome.timedOut,
        ok: outcome.error === undefined && !outcome.timedOut && outcome.exitCode === 0,
        outputTail: outcome.outputTail,
        containment: outcome.containment,
      };
      return outcome.error === undefined ? result : { ...result, error: outcome.error };
    });
    return { kill: run.kill, done };
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new HaagentError('HA_ERR_HOOK', `${name} must be a non-negative number, got ${value}`);
  }
  return value;
}
