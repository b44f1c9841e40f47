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
 * `--optimize-for-size` makes V8 grow the old generation less eagerly and compact it more,
 * which keeps the garbage promoted between full collections small.
 *
 * Both are read by V8 when it decides, so setting them at run time works (unlike the heap size
 * flags, read once when the heap is created). They are V8 flags, not a Node API: a V8 without
 * them ignores the setting and the agent runs as before. The cost is some more GC work.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_FLAGS = ['--semi-space-growth-factor=1', '--optimize-for-size'] as const;

/** Applies HEAP_FLAGS to this process's V8. Idempotent; never throws. */
export function tuneHeapForDaemon(): void {
  for (const flag of HEAP_FLAGS) {
    try {
      setFlagsFromString(flag);
    } catch {
      // A V8 that refuses the flag keeps its default behaviour.
    }
  }
}
