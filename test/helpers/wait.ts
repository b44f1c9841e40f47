/** Waiting in tests: a plain sleep, and polling a condition with a liveness bound. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `cond()` holds, polling every 10 ms; rejects naming `what` after `timeoutMs`.
 * The bound is a liveness limit (the thing must happen at all), not a speed claim.
 */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
