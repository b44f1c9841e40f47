/**
 * /proc readings and small process helpers shared by the benchmark sections (test/bench/run.ts,
 * test/bench/scale.ts): CPU ticks and scheduler time, RSS, process trees, pids in a namespace.
 * Every reader returns 0 / undefined for a process that is gone instead of throwing.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { ip } from '../../src/lab/sh.js';

export const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcStat { readonly pid: number; readonly comm: string; readonly ppid: number; readonly ticks: number }

export function readStat(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    // after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    return { pid, comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

export function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st !== undefined) out.push(st);
  }
  return out;
}

/** `root` and all its descendants that are alive now. */
export function processTree(root: number): number[] {
  const stats = allStats();
  const tree = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of stats) {
      if (!tree.has(s.pid) && tree.has(s.ppid)) { tree.add(s.pid); grew = true; }
    }
  }
  return [...tree].filter((p) => stats.some((s) => s.pid === p));
}

export function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] !== undefined ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU time on the clock of the scheduler (ns, all threads): finer than the 10 ms ticks of stat. */
export function schedNs(pid: number): number {
  try {
    let sum = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try { sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
    }
    return sum;
  } catch {
    return 0;
  }
}

/** Pids in namespace `ns` whose comm is `comm` (`ip netns pids`). */
export async function nsPids(ns: string, comm: string): Promise<number[]> {
  const out = await ip('netns', 'pids', ns).catch(() => '');
  return out.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number).filter((p) => readStat(p)?.comm === comm);
}


export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

export function waitExit(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export function killPid(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

/** RSS summed over a process set, and its CPU over a window: ticks (utime+stime) and the sched clock. */
export interface Usage { readonly rssKb: number; readonly cpuPct: number; readonly cpuPctSched: number; readonly procs: number }

/**
 * CPU of each pid set over `windowS` seconds (in % of one core) and its RSS at the end. The sets
 * are read at the start and the end only: a process that appears in between is not counted.
 */
export async function measureUsage(pidSets: ReadonlyArray<readonly number[]>, windowS: number): Promise<Usage[]> {
  const ticks = (pids: readonly number[]): number => pids.reduce((s, p) => s + (readStat(p)?.ticks ?? 0), 0);
  const sched = (pids: readonly number[]): number => pids.reduce((s, p) => s + schedNs(p), 0);
  const t0 = performance.now();
  const ticks0 = pidSets.map(ticks);
  const sched0 = pidSets.map(sched);
  await sleep(windowS * 1000);
  const elapsedS = (performance.now() - t0) / 1000;
  return pidSets.map((pids, i): Usage => ({
    rssKb: pids.reduce((s, p) => s + rssKb(p), 0),
    cpuPct: ((ticks(pids) - (ticks0[i] ?? 0)) / CLK_TCK / elapsedS) * 100,
    cpuPctSched: ((sched(pids) - (sched0[i] ?? 0)) / 1e9 / elapsedS) * 100,
    procs: pids.filter(pidAlive).length,
  }));
}

/** "a / b" with two decimals; "-" when either is not finite, "inf" for x / 0. */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return '-';
  if (b === 0) return a === 0 ? '1.00' : 'inf';
  return (a / b).toFixed(2);
}

export function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export const r3 = (x: number): number => Math.round(x * 1000) / 1000;
