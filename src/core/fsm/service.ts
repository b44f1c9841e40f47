/** Entering service (RFC 9568 §6.4.1 Startup), shared by start and a cleared fault. */
import { isOwner } from './election.js';
import { claimMaster } from './takeover.js';
import { enterBackup, enterFault } from './transitions.js';
import type { InstanceState, StepResult } from './types.js';

/**
 * Start serving from INIT, STOPPED or FAULT (§6.4.1): FAULT while a fault source is active,
 * a claim to MASTER for the address owner (effective priority 255; MASTER at once unless the
 * takeover rules hold it back, takeover.ts), BACKUP otherwise.
 */
export function enterService(state: InstanceState, nowMs: number, reason: string): StepResult {
  if (state.faults.length > 0) {
    return enterFault(state, nowMs, `${reason}; fault active: ${state.faults.join(', ')}`);
  }
  if (isOwner(state) && !state.maintenance) return claimMaster(state, nowMs, `${reason} (address owner, priority 255)`);
  return enterBackup(state, nowMs, reason);
}
