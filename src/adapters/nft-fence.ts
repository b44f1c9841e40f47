/**
 * The kernel side of the self-fence (src/core/fence/self-fence.ts): applies its script with
 * `nft -f` (Debian package `nftables`) and reads its drop counters. Like the balancer's
 * adapter, one nft run per change (an arm, a disarm, a new timeout: never per advert); the per-advert
 * refresh is done by the kernel itself and costs no process and no syscall.
 *
 * `netns`: run inside that network namespace (tests, labs). Failures reject with
 * HaagentError('HA_ERR_NETLINK') carrying nft's stderr (see nft.ts).
 */
import { fenceRetimeScript, fenceScript, FENCE_TABLE_FAMILY, FENCE_TABLE_NAME } from '../core/fence/self-fence.js';
import type { FencedInstance } from '../core/fence/self-fence.js';
import { applyScript } from './nft.js';

/** Makes our fence table exactly the fence of `armed` (none: removes it), atomically. */
export function applyFence(armed: readonly FencedInstance[], netns?: string): Promise<void> {
  return applyScript(fenceScript(armed), netns);
}

/**
 * Changes only the timeouts of the applied fence (`armed`: the same instances as the last
 * applyFence), leaving every element's current expiry alone; rejects if the table is not there.
 */
export function retimeFence(armed: readonly FencedInstance[], netns?: string): Promise<void> {
  return applyScript(fenceRetimeScript(armed), netns);
}

/** Removes our fence table if it exists (a killed agent's, at start; ours, at shutdown). */
export function removeFence(netns?: string): Promise<void> {
  return applyFence([], netns);
}

export const FENCE_TABLE = `${FENCE_TABLE_FAMILY} ${FENCE_TABLE_NAME}`;
