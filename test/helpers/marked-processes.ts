/**
 * Finds live processes that carry a marker in their argv or environment (/proc/<pid>/cmdline,
 * /proc/<pid>/environ), to check that nothing a hook or check started is left behind. Zombies
 * are not counted: they have died, and a container's PID 1 may never reap them.
 */
import { readdirSync, readFileSync } from 'node:fs';

export function markedProcesses(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      let environ = '';
      try { environ = readFileSync(`/proc/${entry}/environ`, 'utf8'); } catch { /* not ours to read */ }
      if (cmdline.includes(marker) || environ.includes(marker)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Waits (bounded) until no process carries `marker`; returns the ones still there. */
export async function waitUntilUnmarked(marker: string, withinMs = 3000): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const left = markedProcesses(marker);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** SIGKILLs every process carrying `marker` (test teardown). */
export function killMarked(marker: string): void {
  for (const pid of markedProcesses(marker)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
