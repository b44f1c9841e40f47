/**
 * Processes as /proc shows them: descendants by parent links, process group members, and start
 * times (so that a pid taken earlier is never signalled once the kernel has reused it).
 *
 * Every function reads a snapshot: processes may start or end while it runs. Entries that vanish
 * while being read are skipped; zombies count as gone (a container's PID 1 may never reap them).
 */
import { readdir, readFile } from 'node:fs/promises';

/** A process, pinned by its start time (clock ticks since boot). */
export interface ProcessRef {
  readonly pid: number;
  readonly start: string;
}

/** Fields after "pid (comm) ": state, ppid, pgrp, ...; comm may hold spaces and parentheses. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The stat fields of a live (not zombie) process; undefined once it has gone. */
async function liveStat(pid: string | number): Promise<string[] | undefined> {
  let f: string[];
  try {
    f = statFields(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // exited meanwhile
  }
  return f[0] === 'Z' || f[0] === 'X' ? undefined : f;
}

async function pids(): Promise<string[]> {
  return (await readdir('/proc')).filter((e) => /^\d+$/.test(e));
}

/** Whether `ref` is still the same live process (not gone, not a reused pid). */
export async function isSameProcess(ref: ProcessRef): Promise<boolean> {
  return (await liveStat(ref.pid))?.[19] === ref.start;
}

/** Every live descendant of `root` by parent links, in one pass over /proc. */
export async function descendants(root: number): Promise<ProcessRef[]> {
  let all: string[];
  try {
    all = await pids();
  } catch {
    return [];
  }
  const children = new Map<number, ProcessRef[]>();
  for (const pid of all) {
    const f = await liveStat(pid);
    if (f === undefined) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid) ?? [];
    list.push({ pid: Number(pid), start: f[19] ?? '' });
    children.set(ppid, list);
  }
  const out: ProcessRef[] = [];
  const todo = [root];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      todo.push(child.pid);
    }
  }
  return out;
}

/**
 * Whether process group `pgid` still has a member that is not a zombie. kill(-pgid, 0) alone
 * counts zombies; /proc tells them apart.
 */
export async function groupHasLiveMembers(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let all: string[];
  try {
    all = await pids();
  } catch {
    return true;
  }
  for (const pid of all) {
    if ((await liveStat(pid))?.[2] === String(pgid)) return true;
  }
  return false;
}
