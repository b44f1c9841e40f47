/**
 * Pure election comparisons (RFC 9568 §6.4.2, §6.4.3).
 *
 * Routers are ranked by (priority, primary address): higher priority wins; at equal priority
 * the higher primary address wins ("the primary IPvX address of the sender is greater than the
 * local primary IPvX address (based on an unsigned integer comparison of the IPvX addresses in
 * network byte order)", §6.4.3; RFC 9568 added the parenthesis, which compareAddresses does). A master uses this order to decide whether to step
 * down (master.ts). A backup deciding whether to accept a master compares priorities only, as
 * §6.4.2 says ("greater than or equal to the local Priority", backup.ts).
 */
import { compareAddresses } from '../net/address.js';
import type { InstanceState } from './types.js';

export interface Rank {
  readonly priority: number;
  readonly address: string;
}

/** > 0 when `a` outranks `b`, < 0 when `b` outranks `a`, 0 for the same router. */
export function compareRank(a: Rank, b: Rank): number {
  if (a.priority !== b.priority) return a.priority > b.priority ? 1 : -1;
  return compareAddresses(a.address, b.address);
}

/** Does an advertisement (priority, source address) beat the local router? */
export function advertBeatsLocal(advert: Rank, local: Rank): boolean {
  return compareRank(advert, local) > 0;
}

/** The local router's rank: effective priority and primary address. */
export function localRank(state: InstanceState): Rank {
  return { priority: state.effectivePriority, address: state.settings.primaryAddress };
}

/** Priority 255 means "owns the addresses"; an owner whose effective priority dropped is not. */
export function isOwner(state: InstanceState): boolean {
  return state.effectivePriority === 255;
}

/**
 * Preempt_Mode as applied: the configured flag, except that the router owning the addresses
 * always preempts, whatever the flag says (RFC 9568 §6.1, unchanged from RFC 5798). A router
 * that handed over by switchover does not preempt until it is master again.
 */
export function preemptMode(state: InstanceState): boolean {
  return (state.settings.preempt || isOwner(state)) && !state.yielding;
}

/**
 * Does this router discard advertisements as an address owner? Only with `ownerIgnoresAdverts`,
 * only while MASTER with effective priority 255 (RFC 9568 §7.1 as published: "the local router
 * is not the IPvX address owner"). An owner held in BACKUP (maintenance, a handover) still
 * listens, so it knows who serves.
 */
export function ignoresAsOwner(state: InstanceState): boolean {
  return state.settings.ownerIgnoresAdverts === true && state.state === 'MASTER' && isOwner(state);
}

/** Is this advertisement one of our own (looped back by the network)? */
export function isOwnAdvert(state: InstanceState, from: string): boolean {
  return compareAddresses(from, state.settings.primaryAddress) === 0;
}
