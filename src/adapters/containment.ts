/**
 * Containment of operator commands (hooks, exec checks): everything a command starts can be
 * killed with it, even a descendant that left its process group (`setsid`, a daemon's double
 * fork).
 *
 * Two modes, chosen once per agent by {@link detectContainment}:
 *
 * - `cgroup`: every run gets a fresh leaf cgroup v2 `<agent's cgroup>/haagent-hooks/<pid>-<n>`,
 *   and the child is BORN in it: for the duration of the synchronous `spawn()` call the agent
 *   moves itself into the leaf, so the fork already happens there, then moves itself back. There
 *   is no window in which the child (or anything it forks) runs outside the leaf. A kill writes
 *   `1` to the leaf's `cgroup.kill` (Linux >= 5.14), which SIGKILLs every process in it, whatever
 *   its session or process group; the leaf is removed once empty. No controller is enabled
 *   anywhere, so cgroup v2's "no internal processes" rule does not apply: the agent may stay in
 *   the parent of the leaves. Needs write access to the agent's own cgroup: root outside
 *   systemd, or `Delegate=yes` in the unit (systemd's rule for processes that manage their own
 *   sub-cgroups).
 * - `process-group`: the fallback (no cgroup v2, no cgroup.kill, no write access). The child runs
 *   in its own process group, which is signalled as a whole; in addition, at the first signal
 *   the child's descendants are collected from /proc by parent links and signalled too. A
 *   descendant that left the group AND was orphaned before that moment (a double fork with
 *   `setsid`) is not found and survives.
 *
 * In both modes the child is a process group leader (`detached: true`) and group signals are
 * sent too, so behaviour for well-behaved commands is the same.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

export type ContainmentMode = 'cgroup' | 'process-group';

/** One contained run. */
export interface Contained {
  readonly child: ChildProcess;
  /** How this run is contained (a cgroup run falls back to process-group if its leaf failed). */
  readonly mode: ContainmentMode;
  /** Sends `sig` to every process of the run (best effort; gone processes are ignored). */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILLs every process of the run. */
  kill(): void;
  /** Whether a process of the run is still alive (zombies do not count). */
  alive(): Promise<boolean>;
  /**
   * The run is over: its leaf cgroup is removed once empty. Processes left behind by a command
   * that exited normally are NOT killed (a command may start something meant to outlive it);
   * their leaf is removed later, when they have gone. Idempotent.
   */
  release(): void;
}

export interface Containment {
  readonly mode: ContainmentMode;
  /** The cgroup directory of the leaves, or why the fallback is used. */
  readonly detail: string;
  /**
   * `child_process.spawn(file, args, options)` with `detached: true` (own session and process
   * group), contained. Throws what spawn throws; asynchronous spawn errors arrive as 'error' on
   * the child as usual.
   */
  spawn(file: string, args: readonly string[], options: SpawnOptions): Contained;
  /** Removes leaves left busy by earlier runs once they are empty, and the parent if unused. */
  dispose(): void;
}

export interface DetectOptions {
  /** Name of the directory of leaves under the agent's cgroup. Default "haagent-hooks". */
  readonly parentName?: string;
  /** Where /proc is (tests). Default "/proc". */
  readonly proc?: string;
}

export const DEFAULT_PARENT_NAME = 'haagent-hooks';
/** How often, and how many times, a busy leaf is retried after `release()`. */
const RELEASE_RETRY_MS = 100;
const RELEASE_RETRIES = 20;

/**
 * Finds out which containment works here: a writable cgroup v2 hierarchy with cgroup.kill, and
 * the agent able to move itself into a leaf and back (tried once). Never throws: anything that
 * does not work gives the process-group fallback with the reason in `detail`.
 */
export function detectContainment(opts: DetectOptions = {}): Containment {
  const proc = opts.proc ?? '/proc';
  const parentName = opts.parentName ?? DEFAULT_PARENT_NAME;
  const home = ownCgroupDir(proc);
  if (!home.ok) return new GroupContainment(home.reason, proc);
  const parent = `${home.dir}/${parentName}`;
  const probe = `${parent}/${process.pid}-probe`;
  try {
    mkdirSync(probe, { recursive: true });
  } catch (err) {
    return new GroupContainment(`cannot create a cgroup under ${home.dir} (${errorCode(err)}; under systemd set Delegate=yes)`, proc);
  }
  try {
    if (!existsSync(`${probe}/cgroup.kill`)) return new GroupContainment('this kernel has no cgroup.kill (Linux 5.14 or later is needed)', proc);
    writeFileSync(`${probe}/cgroup.procs`, String(process.pid));
    writeFileSync(`${home.dir}/cgroup.procs`, String(process.pid));
  } catch (err) {
    // Make sure the agent is back home before giving up on cgroups.
    try { writeFileSync(`${home.dir}/cgroup.procs`, String(process.pid)); } catch { /* reported below */ }
    return new GroupContainment(`cannot move a process into a cgroup under ${home.dir} (${errorCode(err)})`, proc);
  } finally {
    try { rmdirSync(probe); } catch { /* busy or gone: the parent's dispose retries */ }
  }
  return new CgroupContainment(parent, proc);
}

let shared: Containment | undefined;

/** The agent's containment, detected on first use and kept; its leaves' parent is removed at exit. */
export function sharedContainment(): Containment {
  if (shared === undefined) {
    const c = detectContainment();
    shared = c;
    process.once('exit', () => c.dispose());
  }
  return shared;
}

type HomeResult = { ok: true; dir: string } | { ok: false; reason: string };

/** The agent's own cgroup v2 directory, from /proc/self/cgroup and /proc/self/mountinfo. */
function ownCgroupDir(proc: string): HomeResult {
  let cgroup: string;
  let mountinfo: string;
  try {
    cgroup = readFileSync(`${proc}/self/cgroup`, 'utf8');
    mountinfo = readFileSync(`${proc}/self/mountinfo`, 'utf8');
  } catch (err) {
    return { ok: false, reason: `cannot read ${proc}/self (${errorCode(err)})` };
  }
  const line = cgroup.split('\n').find((l) => l.startsWith('0::'));
  if (line === undefined) return { ok: false, reason: 'the agent is in no cgroup v2 (cgroup v1 only)' };
  const own = line.slice(3);
  for (const m of mountinfo.split('\n')) {
    // "id parent major:minor root mountpoint options [optional...] - fstype source superoptions"
    const [left, right] = m.split(' - ');
    if (right === undefined || !right.startsWith('cgroup2 ')) continue;
    const fields = (left ?? '').split(' ');
    const root = unescapeMount(fields[3] ?? '');
    const mountpoint = unescapeMount(fields[4] ?? '');
    if (root !== '/' && own !== root && !own.startsWith(`${root}/`)) continue;
    const rel = root === '/' ? own : own.slice(root.length);
    const dir = `${mountpoint}${rel === '/' ? '' : rel}`;
    if (existsSync(`${dir}/cgroup.procs`)) return { ok: true, dir };
  }
  return { ok: false, reason: `no cgroup v2 mount holds the agent's cgroup ${own}` };
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}

function spawnDetached(file: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return spawn(file, [...args], { ...options, shell: false, detached: true });
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
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

/** The fallback containment, also for tests that must see it where cgroups would work. */
export function processGroupContainment(detail: string, proc = '/proc'): Containment {
  return new GroupContainment(detail, proc);
}

class GroupContainment implements Containment {
  readonly mode = 'process-group' as const;
  constructor(readonly detail: string, private readonly proc = '/proc') {}

  spawn(file: string, args: readonly string[], options: SpawnOptions): Contained {
    return new GroupRun(spawnDetached(file, args, options), this.proc);
  }

  dispose(): void {
    // Nothing is kept.
  }
}

/** A process taken at a first signal: pid and start time, so a reused pid is never signalled. */
interface Taken {
  readonly pid: number;
  readonly start: string;
}

class GroupRun implements Contained {
  readonly mode = 'process-group' as const;
  /** Descendants found at a signal; they are signalled again with every later one. */
  private readonly taken: Taken[] = [];

  constructor(readonly child: ChildProcess, private readonly proc: string) {}

  /**
   * Collects the descendants first (so the command cannot orphan them by dying of `sig` before
   * they are found), then signals the group and every descendant found by this or earlier calls.
   */
  signal(sig: NodeJS.Signals): void {
    void this.scan().then(() => {
      signalGroup(this.child, sig);
      this.signalTaken(sig);
    });
  }

  kill(): void {
    this.signal('SIGKILL');
  }

  async alive(): Promise<boolean> {
    const pid = this.child.pid;
    if (pid !== undefined && await groupHasLiveMembers(this.proc, pid)) return true;
    for (const t of this.taken) if ((await startTime(this.proc, t.pid)) === t.start) return true;
    return false;
  }

  release(): void {
    // Nothing to remove.
  }

  private async scan(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    for (const t of await descendants(this.proc, pid)) {
      if (!this.taken.some((o) => o.pid === t.pid && o.start === t.start)) this.taken.push(t);
    }
  }

  private signalTaken(sig: NodeJS.Signals): void {
    for (const t of this.taken) {
      void startTime(this.proc, t.pid).then((start) => { if (start === t.start) signalPid(t.pid, sig); });
    }
  }
}

class CgroupContainment implements Containment {
  readonly mode = 'cgroup' as const;
  readonly detail: string;
  private seq = 0;
  /** Set when the agent could not leave a leaf: no further cgroup runs. */
  private broken: string | undefined;
  /** Leaves whose removal found them busy; retried at every spawn and at dispose. */
  private readonly lingering = new Set<string>();

  constructor(private readonly parent: string, private readonly proc: string) {
    this.detail = parent;
  }

  spawn(file: string, args: readonly string[], options: SpawnOptions): Contained {
    this.sweep();
    if (this.broken !== undefined) return new GroupRun(spawnDetached(file, args, options), this.proc);
    const home = ownCgroupDir(this.proc);
    const leaf = `${this.parent}/${process.pid}-${++this.seq}`;
    try {
      if (!home.ok) throw new Error(home.reason);
      mkdirSync(leaf, { recursive: true });
      writeFileSync(`${leaf}/cgroup.procs`, String(process.pid));
    } catch {
      tryRmdir(leaf);
      return new GroupRun(spawnDetached(file, args, options), this.proc);
    }
    let child: ChildProcess;
    try {
      // Synchronous: the child is forked (and has exec'd) before this returns, inside the leaf.
      child = spawnDetached(file, args, options);
    } catch (err) {
      if (this.goHome(home.dir, leaf)) tryRmdir(leaf);
      throw err;
    }
    this.goHome(home.dir, leaf);
    return new CgroupRun(child, leaf, this.proc, (dir) => this.release(dir));
  }

  dispose(): void {
    this.sweep();
    tryRmdir(this.parent);
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

  /**
   * Moves the agent back to its own cgroup. Should that ever fail, the agent stays in `leaf`:
   * CgroupRun.kill() checks for that before writing cgroup.kill, and every later run falls back
   * to the process group.
   */
  private goHome(home: string, leaf: string): boolean {
    try {
      writeFileSync(`${home}/cgroup.procs`, String(process.pid));
      return true;
    } catch (err) {
      this.broken = `the agent could not move itself out of ${leaf} (${errorCode(err)})`;
      return false;
    }
  }
}

class CgroupRun implements Contained {
  readonly mode = 'cgroup' as const;
  private released = false;

  constructor(
    readonly child: ChildProcess,
    private readonly leaf: string,
    private readonly proc: string,
    private readonly onRelease: (leaf: string) => void,
  ) {}

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
      // Removed already (nothing left), or the kernel refused: fall back to the members.
      for (const pid of this.members()) signalPid(pid, 'SIGKILL');
    }
  }

  async alive(): Promise<boolean> {
    try {
      const events = await readFile(`${this.leaf}/cgroup.events`, 'utf8');
      return /^populated 1$/m.test(events);
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

  /** Guard against ever killing the agent: is it (unexpectedly) in this leaf? */
  private agentInside(): boolean {
    try {
      return readFileSync(`${this.proc}/self/cgroup`, 'utf8').split('\n').some((l) => l.startsWith('0::') && this.leaf.endsWith(l.slice(3)));
    } catch {
      return true;
    }
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

/** "pid (comm) state ppid pgrp ...": the fields after comm, which may hold spaces and parentheses. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

async function readStat(proc: string, pid: string | number): Promise<string[] | undefined> {
  try {
    return statFields(await readFile(`${proc}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Start time (clock ticks since boot) of a live, non-zombie process; undefined when gone. */
async function startTime(proc: string, pid: number): Promise<string | undefined> {
  const f = await readStat(proc, pid);
  if (f === undefined || f[0] === 'Z' || f[0] === 'X') return undefined;
  return f[19];
}

/** Every live descendant of `root` by parent links, as found in one pass over /proc. */
async function descendants(proc: string, root: number): Promise<Taken[]> {
  let entries: string[];
  try {
    entries = await readdir(proc);
  } catch {
    return [];
  }
  const children = new Map<number, Taken[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const f = await readStat(proc, entry);
    if (f === undefined || f[0] === 'Z' || f[0] === 'X') continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid) ?? [];
    list.push({ pid: Number(entry), start: f[19] ?? '' });
    children.set(ppid, list);
  }
  const out: Taken[] = [];
  const todo = [root];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      todo.push(c.pid);
    }
  }
  return out;
}

/**
 * Whether process group `pgid` still has a member that is not a zombie. kill(-pgid, 0) alone
 * counts zombies, which a container's PID 1 may never reap; /proc tells them apart.
 */
export async function groupHasLiveMembers(proc: string, pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let entries: string[];
  try {
    entries = await readdir(proc);
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const f = await readStat(proc, entry);
    if (f !== undefined && f[2] === String(pgid) && f[0] !== 'Z' && f[0] !== 'X') return true;
  }
  return false;
}

/** Leaves of a parent cgroup directory (tests and diagnostics). */
export function leavesOf(parent: string): string[] {
  try {
    return readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}
