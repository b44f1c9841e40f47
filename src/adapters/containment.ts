/**
 * Containment of operator commands (hooks, exec checks): what a command starts can be killed
 * with it, even a descendant that left its process group (`setsid`, a daemon's double fork).
 *
 * Two modes, chosen once per agent by {@link detectContainment}:
 *
 * - `cgroup`: every run gets a fresh leaf cgroup v2, `<agent's cgroup>/haagent-hooks/<pid>-<n>`,
 *   and the child is BORN in it: for the duration of the synchronous `spawn()` call the agent
 *   moves itself into the leaf, so the fork already happens there, then moves itself back (two
 *   writes to cgroup.procs). There is no window in which the child, or anything it forks, runs
 *   outside the leaf. A kill writes `1` to the leaf's `cgroup.kill` (Linux >= 5.14): the kernel
 *   SIGKILLs every process in it, whatever its session or process group. The leaf is removed
 *   once empty. No controller is enabled anywhere, so cgroup v2's "no internal processes" rule
 *   does not apply and the agent may stay in the parent of its leaves. Needs write access to the
 *   agent's own cgroup: root outside systemd, `Delegate=yes` in a systemd unit.
 * - `process-group`: the fallback (no cgroup v2, no cgroup.kill, no write access). The child is
 *   signalled with its whole process group, and the descendants found in /proc by parent links
 *   at each signal are signalled too. A descendant that left the group AND was orphaned before
 *   the first signal (a double fork with `setsid`) is not found and survives.
 *
 * In both modes the child leads its own session and process group (`detached: true`), and group
 * signals are sent too, so well-behaved commands see the same in both modes.
 *
 * Deliberately not done: limits (no controller is enabled), and killing what a command that
 * exited normally left behind (a hook may start something meant to outlive it; its leaf is
 * removed once that has ended).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { descendants, groupHasLiveMembers, isSameProcess, type ProcessRef } from './process-tree.js';
import { errorCode, ownCgroupDir, readCgroupMounts, type CgroupMount } from './cgroup-mounts.js';

export type ContainmentMode = 'cgroup' | 'process-group';

/** One contained run. */
export interface Contained {
  readonly child: ChildProcess;
  /** How this run is contained (a cgroup run falls back to process-group if its leaf failed). */
  readonly mode: ContainmentMode;
  /** Sends `sig` to every process of the run (best effort: gone processes are skipped). */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILLs every process of the run. */
  kill(): void;
  /** Whether a process of the run is still alive (zombies do not count). */
  alive(): Promise<boolean>;
  /** The run is over: its leaf cgroup is removed once empty. Kills nothing. Idempotent. */
  release(): void;
}

export interface Containment {
  readonly mode: ContainmentMode;
  /** The cgroup directory of the leaves, or why the fallback is used. */
  readonly detail: string;
  /**
   * `child_process.spawn(file, args, options)` without a shell, with `detached: true`,
   * contained. Throws what spawn throws; asynchronous spawn errors arrive as 'error' on the
   * child as usual.
   */
  spawn(file: string, args: readonly string[], options: SpawnOptions): Contained;
  /** Removes the leaves that are empty by now, then the parent if it is unused. */
  dispose(): void;
}

export const DEFAULT_PARENT_NAME = 'haagent-hooks';
/** After release(), how often and how many times a leaf that is still busy is retried. */
const RELEASE_RETRY_MS = 100;
const RELEASE_RETRIES = 20;

/**
 * Finds out which containment works here: a cgroup v2 hierarchy holding the agent's cgroup,
 * with cgroup.kill, where the agent can create a leaf and move itself in and out (tried once).
 * Never throws: whatever does not work gives the process-group fallback, the reason in
 * `detail`. Leaves of dead agents (`<pid>-<n>` of a pid that is gone) are removed if empty.
 *
 * @param parentName the directory of leaves under the agent's cgroup (tests use their own).
 */
export function detectContainment(parentName = DEFAULT_PARENT_NAME): Containment {
  const mounts = readCgroupMounts();
  const home = mounts.ok ? ownCgroupDir(mounts.mounts) : mounts;
  if (!home.ok) return new GroupContainment(home.reason);
  const parent = `${home.dir}/${parentName}`;
  const probe = `${parent}/${process.pid}-probe`;
  try {
    mkdirSync(probe, { recursive: true });
  } catch (err) {
    return new GroupContainment(`cannot create a cgroup in ${home.dir} (${errorCode(err)}; under systemd set Delegate=yes)`);
  }
  try {
    if (!existsSync(`${probe}/cgroup.kill`)) {
      tryRmdir(probe);
      tryRmdir(parent);
      return new GroupContainment('this kernel has no cgroup.kill (Linux 5.14 or later is needed)');
    }
    writeFileSync(`${probe}/cgroup.procs`, String(process.pid));
    writeFileSync(`${home.dir}/cgroup.procs`, String(process.pid));
  } catch (err) {
    try { writeFileSync(`${home.dir}/cgroup.procs`, String(process.pid)); } catch { /* was never moved */ }
    tryRmdir(probe);
    return new GroupContainment(`cannot move a process into a cgroup in ${home.dir} (${errorCode(err)})`);
  }
  tryRmdir(probe);
  for (const leaf of leavesOf(parent)) {
    const owner = Number(/^(\d+)-/.exec(leaf)?.[1]);
    if (Number.isInteger(owner) && !processExists(owner)) tryRmdir(`${parent}/${leaf}`);
  }
  return new CgroupContainment(parent, mounts.ok ? mounts.mounts : []);
}

let shared: Containment | undefined;

/** The agent's containment, detected on first use and kept; disposed of when the process exits. */
export function sharedContainment(): Containment {
  if (shared === undefined) {
    const c = detectContainment();
    shared = c;
    process.once('exit', () => c.dispose());
  }
  return shared;
}

/** The fallback, for callers (tests) that must have it where cgroups would work. */
export function processGroupContainment(detail: string): Containment {
  return new GroupContainment(detail);
}

/** Names of the sub-directories (leaves) of a cgroup directory; [] when it is gone. */
export function leavesOf(parent: string): string[] {
  try {
    return readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function spawnDetached(file: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return spawn(file, [...args], { ...options, shell: false, detached: true });
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  if (pid === process.pid) return;
  try {
    process.kill(pid, sig);
  } catch {
    // Gone meanwhile.
  }
}

class GroupContainment implements Containment {
  readonly mode = 'process-group' as const;
  constructor(readonly detail: string) {}

  spawn(file: string, args: readonly string[], options: SpawnOptions): Contained {
    return new GroupRun(spawnDetached(file, args, options));
  }

  dispose(): void {
    // Nothing is kept.
  }
}

class GroupRun implements Contained {
  readonly mode = 'process-group' as const;
  /** Descendants found at any signal so far; every later signal reaches them too. */
  private readonly taken: ProcessRef[] = [];

  constructor(readonly child: ChildProcess) {}

  /**
   * Collects the descendants first (so the command cannot orphan them by dying of `sig` before
   * they are found), then signals the group and every descendant taken so far that is still the
   * same process.
   */
  signal(sig: NodeJS.Signals): void {
    void this.scan().then(() => {
      signalGroup(this.child, sig);
      for (const ref of this.taken) void isSameProcess(ref).then((same) => { if (same) signalPid(ref.pid, sig); });
    });
  }

  kill(): void {
    this.signal('SIGKILL');
  }

  async alive(): Promise<boolean> {
    if (this.child.pid !== undefined && await groupHasLiveMembers(this.child.pid)) return true;
    for (const ref of this.taken) if (await isSameProcess(ref)) return true;
    return false;
  }

  release(): void {
    // Nothing to remove.
  }

  private async scan(): Promise<void> {
    if (this.child.pid === undefined) return;
    for (const ref of await descendants(this.child.pid)) {
      if (!this.taken.some((t) => t.pid === ref.pid && t.start === ref.start)) this.taken.push(ref);
    }
  }
}

class CgroupContainment implements Containment {
  readonly mode = 'cgroup' as const;
  private seq = 0;
  /** Set when the agent could not leave a leaf: no cgroup runs from then on. */
  private broken = false;
  /** Released leaves that were still busy; retried at every spawn and at dispose. */
  private readonly lingering = new Set<string>();

  constructor(private readonly parent: string, private readonly mounts: readonly CgroupMount[]) {}

  get detail(): string {
    return this.parent;
  }

  spawn(file: string, args: readonly string[], options: SpawnOptions): Contained {
    this.sweep();
    const home = ownCgroupDir(this.mounts);
    if (this.broken || !home.ok) return new GroupRun(spawnDetached(file, args, options));
    const leaf = `${this.parent}/${process.pid}-${++this.seq}`;
    try {
      mkdirSync(leaf, { recursive: true });
      writeFileSync(`${leaf}/cgroup.procs`, String(process.pid));
    } catch {
      tryRmdir(leaf);
      return new GroupRun(spawnDetached(file, args, options));
    }
    let child: ChildProcess;
    try {
      // Synchronous: by the time it returns the child has been forked (here, in the leaf) and
      // has exec'd the command.
      child = spawnDetached(file, args, options);
    } catch (err) {
      if (this.goHome(home.dir)) tryRmdir(leaf);
      throw err;
    }
    this.goHome(home.dir);
    return new CgroupRun(child, leaf, (l) => this.release(l));
  }

  dispose(): void {
    this.sweep();
    tryRmdir(this.parent);
  }

  /**
   * Moves the agent back to its own cgroup. Should that ever fail, the agent stays in the leaf:
   * CgroupRun.kill() checks for that before writing cgroup.kill, and later runs use the
   * process-group fallback.
   */
  private goHome(home: string): boolean {
    try {
      writeFileSync(`${home}/cgroup.procs`, String(process.pid));
      return true;
    } catch {
      this.broken = true;
      return false;
    }
  }

  private release(leaf: string): void {
    if (tryRmdir(leaf)) return;
    this.lingering.add(leaf);
    let tries = 0;
    const retry = (): void => {
      if (!this.lingering.has(leaf)) return;
      if (tryRmdir(leaf)) this.lingering.delete(leaf);
      else if (++tries < RELEASE_RETRIES) setTimeout(retry, RELEASE_RETRY_MS).unref();
    };
    setTimeout(retry, RELEASE_RETRY_MS).unref();
  }

  private sweep(): void {
    for (const leaf of this.lingering) if (tryRmdir(leaf)) this.lingering.delete(leaf);
  }
}

class CgroupRun implements Contained {
  readonly mode = 'cgroup' as const;
  private released = false;

  constructor(readonly child: ChildProcess, private readonly leaf: string, private readonly onRelease: (leaf: string) => void) {}

  /** The group, and every process in the leaf (a pid read from cgroup.procs is signalled at once). */
  signal(sig: NodeJS.Signals): void {
    signalGroup(this.child, sig);
    for (const pid of this.members()) signalPid(pid, sig);
  }

  kill(): void {
    signalGroup(this.child, 'SIGKILL');
    if (this.agentInside()) return;
    try {
      writeFileSync(`${this.leaf}/cgroup.kill`, '1');
    } catch {
      // Removed already (it was empty), or refused: the members one by one.
      for (const pid of this.members()) signalPid(pid, 'SIGKILL');
    }
  }

  async alive(): Promise<boolean> {
    try {
      return /^populated 1$/m.test(await readFile(`${this.leaf}/cgroup.events`, 'utf8'));
    } catch {
      return false; // removed: it was empty
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this.leaf);
  }

  private members(): number[] {
    try {
      return readFileSync(`${this.leaf}/cgroup.procs`, 'utf8').split('\n').filter((l) => l !== '').map(Number);
    } catch {
      return [];
    }
  }

  /** Never kill the agent: is it (after a failed move back) in this leaf? */
  private agentInside(): boolean {
    try {
      const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
      return own === undefined || (own !== '/' && this.leaf.endsWith(own));
    } catch {
      return true;
    }
  }
}
