/**
 * V8 heap settings for a long-running agent, applied once at the start of `haagent start`.
 *
 * The agent's live heap is small (about 15 MB at 255 instances) but it allocates steadily
 * (adverts, lease renewals, kernel notifications). V8 doubles its young generation each time
 * enough bytes have survived since the last growth, so after a few minutes any steady
 * allocator sits at the 32 MB maximum (two 16 MB semi-spaces), nearly all of it garbage, and
 * RSS with it. A growth factor of 1 keeps the young generation at its initial size (two 1 MB
 * semi-spaces): scavenges come more often but each is short, since little survives.
 *
 * The flag is read by V8 each time it considers growing, so setting it at run time works
 * (unlike the heap size flags, read once when the heap is created). It is a V8 flag, not a
 * Node API: a V8 without it ignores the setting and the agent runs as before. The cost is more
 * scavenges. (`--optimize-for-size` on top saved about 6 MB more at 255 instances but cost about
 * one more percent of a core on each node; not used.)
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_FLAGS = ['--semi-space-growth-factor=1'] as const;

/**
 * For an agent whose main thread runs under a real-time policy: the collector does its work on
 * that thread alone instead of handing parts to V8's helper threads. Those threads keep the
 * ordinary policy; with every CPU busy they wait for their turn, and a pause that waits for them
 * waits with them. Measured under full CPU load (4 busy loops on 2 CPUs, 10 ms adverts): with
 * the helpers, young-generation pauses of 30 ms and full pauses of 23 ms, each one a gap in the
 * master's adverts long enough for its backup to take over; with these flags the master's
 * longest pause was 8 ms. Without load a single-threaded pause is slightly longer than a shared
 * one (the heap is small: a few ms at most).
 *
 * Only flags V8 reads at each collection can be set at run time; `--single-threaded-gc` and
 * `--no-parallel-marking` make this V8 abort when set after start, so the final marking pause
 * of a full collection still uses the helpers (full collections are rare: a few a minute).
 */
export const REALTIME_GC_FLAGS = [
  '--no-parallel-scavenge',
  '--no-concurrent-marking',
  '--no-concurrent-sweeping',
  '--no-parallel-compaction',
  '--no-parallel-pointer-update',
  '--no-concurrent-array-buffer-sweeping',
] as const;

function apply(flags: readonly string[]): void {
  for (const flag of flags) {
    try {
      setFlagsFromString(flag);
    } catch {
      // A V8 that refuses the flag keeps its default behaviour.
    }
  }
}

/** Applies HEAP_FLAGS to this process's V8. Idempotent; never throws. */
export function tuneHeapForDaemon(): void {
  apply(HEAP_FLAGS);
}

/** Applies REALTIME_GC_FLAGS (call once the main thread runs under a real-time policy). Idempotent; never throws. */
export function tuneGcForRealtime(): void {
  apply(REALTIME_GC_FLAGS);
}
