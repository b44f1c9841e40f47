/**
 * Where the agent's own cgroup v2 directory is: the cgroup2 mounts of /proc/self/mountinfo and
 * the agent's entry in /proc/self/cgroup. Reads only; never throws (a problem is a reason).
 */
import { existsSync, readFileSync } from 'node:fs';
import { errorMessage } from '../core/errors.js';

export interface CgroupMount {
  /** The hierarchy path mounted (usually "/"). */
  readonly root: string;
  readonly mountpoint: string;
}

type Result<T> = ({ ok: true } & T) | { ok: false; reason: string };

/** The cgroup v2 mounts of /proc/self/mountinfo. */
export function readCgroupMounts(): Result<{ mounts: CgroupMount[] }> {
  let mountinfo: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch (err) {
    return { ok: false, reason: `cannot read /proc/self/mountinfo (${errorCode(err)})` };
  }
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    // "id parent major:minor root mountpoint options [optional...] - fstype source superoptions"
    const [left, right] = line.split(' - ');
    if (right === undefined || !right.startsWith('cgroup2 ')) continue;
    const fields = (left ?? '').split(' ');
    mounts.push({ root: unescapeMount(fields[3] ?? ''), mountpoint: unescapeMount(fields[4] ?? '') });
  }
  return mounts.length === 0 ? { ok: false, reason: 'no cgroup v2 hierarchy is mounted' } : { ok: true, mounts };
}

/** The agent's own cgroup v2 directory now, from /proc/self/cgroup and the mounts. */
export function ownCgroupDir(mounts: readonly CgroupMount[]): Result<{ dir: string }> {
  let own: string | undefined;
  try {
    own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
  } catch (err) {
    return { ok: false, reason: `cannot read /proc/self/cgroup (${errorCode(err)})` };
  }
  if (own === undefined) return { ok: false, reason: 'the agent is in no cgroup v2 hierarchy (cgroup v1 only)' };
  for (const m of mounts) {
    if (m.root !== '/' && own !== m.root && !own.startsWith(`${m.root}/`)) continue;
    const rel = m.root === '/' ? own : own.slice(m.root.length);
    const dir = `${m.mountpoint}${rel === '/' ? '' : rel}`;
    if (existsSync(`${dir}/cgroup.procs`)) return { ok: true, dir };
  }
  return { ok: false, reason: `no cgroup v2 mount shows the agent's cgroup ${own}` };
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? errorMessage(err);
}
