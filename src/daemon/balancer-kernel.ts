/**
 * The load balancer's kernel side (src/adapters/nft.ts), kept apart from balancer.ts so the
 * stand-in that runs before the balancer is loaded (lazy-balancer.ts) removes stale tables the
 * same way without loading it.
 */
import { LEGACY_TABLE_FAMILY } from '../core/lb/ruleset.js';
import { applyRuleset, deleteTable } from '../adapters/nft.js';

/** The kernel side of the balancer; a fake in unit tests. */
export interface BalancerKernel {
  applyRuleset(json: object): Promise<void>;
  deleteTable(): Promise<void>;
  /** Removes tables of earlier versions (`table ip haagent`) a killed agent may have left. */
  deleteLegacyTable(): Promise<void>;
}

export const NFT_KERNEL: BalancerKernel = {
  applyRuleset: (json) => applyRuleset(json),
  deleteTable: () => deleteTable(),
  deleteLegacyTable: () => deleteTable(undefined, LEGACY_TABLE_FAMILY),
};

/** Removes our tables, current and legacy, that a killed agent may have left; rejects as nft does. */
export async function removeStaleTables(kernel: BalancerKernel): Promise<void> {
  await kernel.deleteTable();
  await kernel.deleteLegacyTable();
}
