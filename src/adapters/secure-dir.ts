/**
 * Directories the agent trusts with root-only state (the control socket's directory, the state
 * directory with the fencing epochs). A directory that another user can write to lets that
 * user replace our files or plant symlinks that root then follows, so it is refused, not used.
 *
 * Contract of `ensurePrivateDir(path)`:
 * - a missing directory is created (parents too) with mode 0700;
 * - an existing one must be a real directory (not a symlink), owned by the user the agent runs
 *   as (root in production), and not writable by group or others; otherwise it throws
 *   HaagentError('HA_ERR_INSECURE') naming the path, what is wrong, and the command that fixes it;
 * - other failures (EACCES, EROFS, ENOTDIR...) throw HaagentError('HA_ERR_STATE') with the cause.
 * Deliberately not checked: the parents of the directory (e.g. /run, /var/lib); they belong to
 * the system, and checking them would refuse ordinary layouts such as a sticky /tmp in tests.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { HaagentError } from '../core/errors.js';

/** Why `st` (an lstat result) is not a private directory of `uid`, or undefined when it is. */
export function privateDirProblem(st: { isDirectory(): boolean; isSymbolicLink(): boolean; uid: number; mode: number }, uid: number): string | undefined {
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== uid) return `is owned by uid ${st.uid}, not by uid ${uid} (the agent's user)`;
  if ((st.mode & 0o022) !== 0) return `is writable by ${(st.mode & 0o020) !== 0 ? 'its group' : 'others'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return undefined;
}

/** Creates `path` (0700) or checks that the existing one is private; `what` names it in errors. */
export function ensurePrivateDir(path: string, what: string): void {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : 0;
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new HaagentError('HA_ERR_STATE', `${what} ${path}: cannot create it: ${(cause as Error).message}`, { cause });
  }
  let st;
  try {
    st = lstatSync(path);
  } catch (cause) {
    throw new HaagentError('HA_ERR_STATE', `${what} ${path}: cannot inspect it: ${(cause as Error).message}`, { cause });
  }
  const problem = privateDirProblem(st, uid);
  if (problem !== undefined) {
    throw new HaagentError('HA_ERR_INSECURE', `${what} ${path} ${problem}; refusing to use it (fix: chown ${uid}:${uid} ${path} && chmod 0700 ${path}, or pick another directory)`);
  }
}
