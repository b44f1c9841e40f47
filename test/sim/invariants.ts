/**
 * The convergence invariant, checked once the network has been stable long enough.
 *
 * Definitions, per partition group g (routers hear each other iff they are in the same group):
 * - running(g): routers of g that are alive and in BACKUP or MASTER (not crashed, not FAULT,
 *   not STOPPED);
 * - rank: (effective priority, primary address) - the order of RFC 9568 §6.4.3;
 * - preempting: Preempt_Mode true, or effective priority 255 (the owner always preempts, §6.1).
 *
 * Invariant: if running(g) is not empty, exactly one router M of running(g) is MASTER, and no
 * preempting router of running(g) has a strictly higher effective priority than M. A backup
 * accepts an advertisement whose priority is "greater than or equal to the local Priority"
 * (§6.4.2, as keepalived does), so among equal priorities whoever is master stays master; the
 * address tie-break decides only between two masters (checked by "exactly one MASTER"). With
 * non-preempt routers any running router may be master as long as no preempting router has a
 * higher priority (a non-preempt router keeps a healthy lower master, a preempting one never).
 */
import { preemptMode } from '../../src/core/fsm/election.js';
import type { InstanceState } from '../../src/core/fsm/types.js';
import type { Router, World } from './world.js';

function isRunning(r: Router): r is Router & { state: InstanceState } {
  return r.state !== null && (r.state.state === 'BACKUP' || r.state.state === 'MASTER');
}


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
      if (p !== m && preemptMode(p.state) && p.state.effectivePriority > m.state.effectivePriority) {
        return `group ${g}: ${world.name(p)} preempts and outranks (higher priority) master ${world.name(m)}`;
      }
    }
  }
  return null;
}
