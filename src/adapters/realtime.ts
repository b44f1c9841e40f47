/**
 * Timers that hold under load: SCHED_RR/SCHED_FIFO for the agent's main thread and locking
 * its code in memory, through the native addon (native/realtime.c).
 *
 * Which threads get the policy: the thread that calls `setRealtime`, which must be the main
 * thread (the one running the event loop: VRRP timers, adverts, the state machine), and, with
 * `setRealtimeOtherThreads` right after it, every thread that exists at that moment: V8's
 * platform workers (the collector's helpers and the compiler, created at Node's start) and
 * libuv's threadpool if already started. The policy is set with SCHED_RESET_ON_FORK, so
 * everything created later starts as SCHED_OTHER: threadpool threads started later (fs,
 * dns.lookup, zlib), hooks and exec checks (spawned processes). What that means: the event loop
 * preempts ordinary load, so a due timer runs at once even with every CPU busy, but (1) a
 * stop-the-world pause of the main thread's own GC is still a pause, and one that hands work to
 * helper threads waits for them: as ordinary threads under full load they made such pauses
 * reach 23-30 ms. So with a real-time policy the agent has V8 collect on the main thread alone
 * (src/daemon/heap-tuning.ts, REALTIME_GC_FLAGS: the longest pause 8 ms under full load), and
 * the helpers that the final marking pause of a rare full collection still uses are real-time
 * too; (2) work handed to a threadpool thread started later (file reads such as the epoch
 * store) runs at ordinary priority and may wait under load; (3) a bug that spins the event loop
 * (or a real-time helper) would take a CPU from ordinary work; the kernel's RT throttling
 * (kernel.sched_rt_runtime_us, 95 % by default) still leaves the rest 5 % of each second.
 *
 * Memory: `lockMemory` locks the pages of every file-backed mapping (Node, the libraries, the
 * addon), the malloc heap and the main stack as they are used (mlock2 MLOCK_ONFAULT), so the
 * agent's code is never paged out and read back under memory pressure. Not mlockall: V8 frees
 * memory with madvise(MADV_DONTNEED), which fails on locked pages, and V8 then aborts the
 * process; V8's own heap and JIT code are therefore left unlocked (they are only at risk on
 * hosts with swap).
 *
 * Every failure is a HaagentError('HA_ERR_SCHED') naming what is missing (CAP_SYS_NICE or
 * LimitRTPRIO=, CAP_IPC_LOCK or LimitMEMLOCK=, RestrictRealtime=no) with the native error as
 * cause.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { errorMessage, HaagentError } from '../core/errors.js';
import { loadBinding } from './packet-socket.js';

export type RtPolicy = 'rr' | 'fifo';

export interface SchedInfo {
  readonly policy: 'rr' | 'fifo' | 'other' | 'batch' | 'idle' | 'deadline' | 'unknown';
  readonly priority: number;
  readonly resetOnFork: boolean;
}

interface RealtimeBinding {
  setScheduler(policy: RtPolicy | 'other', priority: number, tid?: number): void;
  getScheduler(tid: number): SchedInfo;
  priorityRange(policy: RtPolicy): { min: number; max: number };
  lockMemory(): { regions: number; bytes: number };
  unlockMemory(): void;
  gettid(): number;
}

function binding(): RealtimeBinding {
  let native: unknown;
  try {
    native = loadBinding();
  } catch (cause) {
    throw new HaagentError('HA_ERR_SCHED', `the native addon is not available: ${errorMessage(cause)}`, { cause });
  }
  if (typeof (native as Partial<RealtimeBinding>).setScheduler !== 'function') {
    throw new HaagentError('HA_ERR_SCHED', 'the native addon has no real-time support: rebuild it (npm ci)');
  }
  return native as RealtimeBinding;
}

const codeOf = (err: unknown): string | undefined => {
  const c = (err as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
};

/**
 * Puts the calling thread (call it from the main thread) under `policy` at `priority`, with
 * SCHED_RESET_ON_FORK. Throws HA_ERR_SCHED: EPERM (no CAP_SYS_NICE and LimitRTPRIO= below the
 * priority, or a seccomp filter such as RestrictRealtime=yes), EINVAL (out of range).
 */
export function setRealtime(priority: number, policy: RtPolicy = 'rr'): void {
  const b = binding();
  try {
    b.setScheduler(policy, priority);
  } catch (cause) {
    const code = codeOf(cause);
    const hint = code === 'EPERM'
      ? ': not permitted (needs CAP_SYS_NICE, or RLIMIT_RTPRIO >= the priority: systemd LimitRTPRIO=; and RestrictRealtime=no)'
      : code === 'EINVAL' ? `: priority out of range for SCHED_${policy.toUpperCase()} (1..99)` : '';
    throw new HaagentError('HA_ERR_SCHED', `cannot set SCHED_${policy.toUpperCase()} priority ${priority} on the main thread${hint} (${code ?? String(cause)})`, { cause });
  }
}

/**
 * Puts every other thread of this process that exists now under the same policy and priority
 * as `setRealtime` gives the main thread: V8's platform workers (created at Node's start: the
 * collector's helpers, the compiler) and libuv's threadpool if it was started already. Call it
 * right after `setRealtime`, from the main thread. A pause of the main thread that waits for a
 * helper (the final marking of a full collection) then waits for a thread that ordinary load
 * cannot starve. Threads created later keep SCHED_OTHER (reset on fork). Returns the threads
 * set and those that refused (the error's code, e.g. EPERM); a thread that ended meanwhile
 * (ESRCH) is neither. Never throws.
 */
export function setRealtimeOtherThreads(priority: number, policy: RtPolicy = 'rr'): { readonly set: number[]; readonly failed: { tid: number; code: string }[] } {
  const b = binding();
  const self = threadId();
  const set: number[] = [];
  const failed: { tid: number; code: string }[] = [];
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number).filter((tid) => Number.isInteger(tid) && tid > 0 && tid !== self);
  } catch {
    return { set, failed };
  }
  for (const tid of tids) {
    try {
      b.setScheduler(policy, priority, tid);
      set.push(tid);
    } catch (err) {
      const code = codeOf(err) ?? String(err);
      if (code !== 'ESRCH') failed.push({ tid, code });
    }
  }
  return { set, failed };
}

/** Back to SCHED_OTHER (tests). */
export function clearRealtime(): void {
  binding().setScheduler('other', 0);
}

/** The scheduling policy of thread `tid` (0: the calling thread). */
export function schedulerOf(tid = 0): SchedInfo {
  return binding().getScheduler(tid);
}

/** Locks the agent's code, malloc heap and main stack (see the module comment). Returns what was locked. */
export function lockMemory(): { regions: number; bytes: number } {
  const b = binding();
  try {
    return b.lockMemory();
  } catch (cause) {
    const code = codeOf(cause);
    const hint = code === 'EPERM' || code === 'ENOMEM'
      ? ': not permitted or over the limit (needs CAP_IPC_LOCK, or RLIMIT_MEMLOCK large enough: systemd LimitMEMLOCK=infinity)'
      : '';
    throw new HaagentError('HA_ERR_SCHED', `cannot lock the agent's memory${hint} (${code ?? String(cause)})`, { cause });
  }
}

export function unlockMemory(): void {
  binding().unlockMemory();
}

/** The calling thread's id (the main thread's equals the pid). */
export function threadId(): number {
  return binding().gettid();
}

export interface ThreadSched {
  readonly tid: number;
  readonly name: string;
  /** Policy number from /proc (field 41): 0 OTHER, 1 FIFO, 2 RR, 3 BATCH, 5 IDLE, 6 DEADLINE. */
  readonly policy: number;
  readonly rtPriority: number;
}

/** Every thread of this process with its policy, from /proc/self/task/<tid>/stat. */
export function threadPolicies(): ThreadSched[] {
  const out: ThreadSched[] = [];
  for (const t of readdirSync('/proc/self/task')) {
    let stat: string;
    let name: string;
    try {
      stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      name = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after "(comm) ": state is field 3; rt_priority is field 40, policy 41.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ tid: Number(t), name, policy: Number(f[38]), rtPriority: Number(f[37]) });
  }
  return out;
}
