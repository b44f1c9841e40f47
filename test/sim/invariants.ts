/**
 * The convergence invariant, checked once the network has been stable long enough.
 *
 * Definitions, per partition group g (routers hear each other iff they are in the same group):
 * - running(g): routers of g that are alive and in BACKUP or MASTER (not crashed, not FAULT,
 *   not STOPPED);
 * - rank: (effective priority, primary address) - the order of RFC 5798 §6.4.3;
 * - preempting: Preempt_Mode true, or effective priority 255 (the owner always preempts, §6.1).
 *
 * Invariant: if running(g) is not empty, exactly one router M of running(g) is MASTER, and no
 * preempting router of running(g) outranks M. With preempt everywhere this means M is the
 * highest-ranked running router (highest priority, tie -> highest address); with non-preempt
 * routers any running router may be master as long as no preempting router outranks it (a
 * non-preempt router keeps a healthy lower master in place, a preempting one never does).
 */
import { compareRank, preemptMode } from '../../src/core/fsm/election.js';
import type { InstanceState } from '../../src/core/fsm/types.js';
import type { Router, World } from './world.js';

function isRunning(r: Router): r is Router & { state: InstanceState } {
  return r.state !== null && (r.state.state === 'BACKUP' || r.state.state === 'MASTER');
}

const rank = (s: InstanceState): { priority: number; address: string } => ({
  priority: s.effectivePriority,
  address: s.settings.primaryAddress,
});

/** null when the invariant holds, otherwise a description of what is wrong. */
export function checkConverged(world: World): string | null {
  const groups = new Set(world.routers.map((r) => r.group));
  for (const g of groups) {
    const running = world.routers.filter((r) => r.group === g).filter(isRunning);
    if (running.length === 0) continue;
    const masters = running.filter((r) => r.state.state === 'MASTER');
    const names = (rs: readonly Router[]): string => rs.map((r) => world.name(r)).join(', ');
    if (masters.length !== 1) {
      return `group ${g}: ${masters.length} masters [${names(masters)}] among [${names(running)}]`;
    }
    const m = masters[0];
    if (m === undefined) continue;
    for (const p of running) {
      if (p !== m && preemptMode(p.state) && compareRank(rank(p.state), rank(m.state)) > 0) {
        return `group ${g}: ${world.name(p)} preempts and outranks master ${world.name(m)}`;
      }
    }
  }
  return null;
}
