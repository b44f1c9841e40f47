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
 * V8's optimizing compiler (TurboFan) for a light agent: not used. Its first optimization pages
 * in about 4 MB of the node binary's code (the compiler itself) and leaves its working memory in
 * the allocator, 4 to 5 MB of resident memory in all, which an agent with one instance would
 * carry for good while its code runs a few times a second: interpreted and baseline (Sparkplug)
 * code serves that load at no measurable CPU cost (one instance at 100 ms adverts: about 4.5 MB
 * less resident memory, CPU unchanged at under 1 % of a core). With hundreds of adverts a second the
 * optimized code pays for itself: at 255 instances with 1 s adverts, baseline code alone cost
 * about 0.25 % of a core more on each node (master 1.1 -> 1.3 %, backup 0.65 -> 0.9 %).
 *
 * `--max-opt` is read at every tier-up decision, so it takes effect when set at run time and can
 * be raised later. It is set before the agent's modules load (some of them run loops at load
 * that V8 would otherwise optimize on the spot) and raised once the config shows a heavier load
 * (tuneCompilerForLoad). Only memory not yet used is saved: lowering it again after optimized
 * code has run would not give the pages back, so it is never lowered.
 */
export const LIGHT_COMPILER_FLAGS = ['--max-opt=1'] as const;

/**
 * The optimizing tiers back (V8's defaults). Setting `--max-opt` below 3 also turns
 * `--turbofan` off, and raising it again does not turn it back on: both are set.
 */
export const FULL_COMPILER_FLAGS = ['--max-opt=999', '--turbofan'] as const;

/**
 * Adverts a second (sent or awaited, over all instances) from which the optimizing compiler is
 * turned back on. Scaled from the 255-instance figure above, baseline code below it costs under
 * a tenth of a percent of a core.
 */
export const OPTIMIZE_FROM_ADVERTS_PER_S = 50;

/** Adverts a second of `instances` (one advert each interval per instance, at master or backup). */
export function advertsPerSecond(instances: readonly { readonly advertIntervalCs: number }[]): number {
  let rate = 0;
  for (const inst of instances) rate += 100 / Math.max(1, inst.advertIntervalCs);
  return rate;
}

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

/** Which compiler tiers this process allows: V8's default until tuneHeapForDaemon. */
let compiler: 'default' | 'light' | 'full' = 'default';

/** Applies HEAP_FLAGS and, the first time, LIGHT_COMPILER_FLAGS to this process's V8. Idempotent; never throws. */
export function tuneHeapForDaemon(): void {
  apply(HEAP_FLAGS);
  if (compiler === 'default') {
    apply(LIGHT_COMPILER_FLAGS);
    compiler = 'light';
  }
}

/**
 * Turns the optimizing compiler back on (FULL_COMPILER_FLAGS) when tuneHeapForDaemon had turned
 * it off and the config's instances make OPTIMIZE_FROM_ADVERTS_PER_S adverts a second or more;
 * otherwise changes nothing. Returns whether optimized code is allowed from now on. Never throws.
 */
export function tuneCompilerForLoad(instances: readonly { readonly advertIntervalCs: number }[]): boolean {
  if (compiler === 'light' && advertsPerSecond(instances) >= OPTIMIZE_FROM_ADVERTS_PER_S) {
    apply(FULL_COMPILER_FLAGS);
    compiler = 'full';
  }
  return compiler !== 'light';
}

/** Applies REALTIME_GC_FLAGS (call once the main thread runs under a real-time policy). Idempotent; never throws. */
export function tuneGcForRealtime(): void {
  apply(REALTIME_GC_FLAGS);
}
