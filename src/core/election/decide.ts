/**
 * The decisions of an election on etcd, as pure functions of what was read from etcd and the
 * time. The shell (src/daemon/etcd-election.ts) reads the keys, asks here, and feeds the state
 * machine; etcd's compare-and-put on the leader key is what makes the election safe (one holder
 * at a time), these rules only decide who tries and when.
 *
 * - Who may try for a free key (`election: etcd`): the live candidates ranked by priority, the
 *   higher address first on a tie (as VRRP breaks ties). Rank 0 tries at once; rank r waits
 *   r x stagger after the key was first seen free, at most MAX_STAGGER_RANKS staggers, so a
 *   node never waits unboundedly for a candidate that died without its key expiring yet.
 * - When a holder resigns: a live candidate with a higher priority that asks for preemption.
 * - The fencing epoch of a tenure: the leader key's create revision (etcd's global counter, so
 *   a later tenure always has a greater one).
 */
import { compareAddresses } from '../net/address.js';
import { HELLO_MAX_EPOCH } from '../peer/hello.js';
import type { CandidateValue, LeaderValue } from './keys.js';

/** Rank beyond which a candidate waits no longer (bounded stagger). */
export const MAX_STAGGER_RANKS = 4;

export interface LeaderView extends LeaderValue {
  /** Create revision of the leader key: the epoch of this tenure. */
  readonly createRevision: bigint;
  /** The lease the key lives on (etcd's id, decimal text). */
  readonly leaseId: string;
}

export interface CandidateView extends CandidateValue {
  readonly node: string;
}

/** One read of an instance's keys. */
export interface ElectionView {
  /** undefined: the key is free. */
  readonly leader: LeaderView | undefined;
  /** Live candidates (their lease-backed keys exist), in any order. */
  readonly candidates: readonly CandidateView[];
}

export interface Self {
  readonly node: string;
  /** Effective priority now (0: not eligible). */
  readonly priority: number;
}

export type Gate =
  | { readonly go: true }
  | { readonly go: false; readonly detail: string; /** When trying again may change the answer (free key, waiting its turn). */ readonly retryAtMs?: number };

/**
 * How often a node reads its instance's keys (ms): the lease keepalive interval, clamped to
 * 100..1000 ms. A holder learns that another took the key (or that it should resign) within
 * one poll; in `election: etcd` a free key is seen within one poll.
 */
export function electionPollMs(keepaliveIntervalMs: number): number {
  return Math.min(1000, Math.max(100, Math.round(keepaliveIntervalMs)));
}

/** The wait per rank for a free key: two polls, so the better candidate's claim is visible first. */
export function candidateStaggerMs(pollMs: number): number {
  return 2 * pollMs;
}

/** Candidates ordered best first: higher priority, then the higher address (VRRP's tie-break). */
export function rankCandidates(candidates: readonly CandidateView[]): CandidateView[] {
  return candidates.filter((c) => c.priority > 0).sort((a, b) => (b.priority - a.priority) || compareAddresses(b.node, a.node));
}

/** How many live, eligible candidates rank above `self` (self's own key need not be there yet). */
export function rankOf(candidates: readonly CandidateView[], self: Self): { rank: number; better: CandidateView | undefined } {
  const better = rankCandidates(candidates).filter((c) => c.node !== self.node && (c.priority > self.priority || (c.priority === self.priority && compareAddresses(c.node, self.node) > 0)));
  return { rank: better.length, better: better[0] };
}

/**
 * May `self` try to take the key now? With a holder: only when it is `self` (its key from this
 * lease: the tenure goes on). Free: `ranked` false (`vrrp+etcd`, VRRP already chose who
 * claims) goes at once; otherwise by rank, counted from `freeSinceMs`.
 */
export function claimGate(view: ElectionView, self: Self, opts: { readonly ranked: boolean; readonly freeSinceMs: number; readonly nowMs: number; readonly staggerMs: number }): Gate {
  const l = view.leader;
  if (l !== undefined) {
    if (l.node === self.node) return { go: true };
    return { go: false, detail: `the leader key is held by ${l.address} (priority ${l.priority})` };
  }
  if (self.priority <= 0) return { go: false, detail: 'not eligible (priority 0)' };
  if (!opts.ranked) return { go: true };
  const { rank, better } = rankOf(view.candidates, self);
  if (rank === 0 || better === undefined) return { go: true };
  const untilMs = opts.freeSinceMs + Math.min(rank, MAX_STAGGER_RANKS) * opts.staggerMs;
  if (opts.nowMs >= untilMs) return { go: true };
  return { go: false, detail: `the key is free; ${better.node} (priority ${better.priority}) goes first, waiting ${Math.ceil(untilMs - opts.nowMs)} ms more`, retryAtMs: untilMs };
}

/** The holder `self` should resign for this candidate (higher priority, asks to preempt), or undefined. */
export function resignFor(view: ElectionView, self: Self): CandidateView | undefined {
  return rankCandidates(view.candidates).find((c) => c.node !== self.node && c.preempt && c.priority > self.priority);
}

/** The fencing epoch of a tenure from the key's create revision; undefined when not a usable epoch. */
export function epochOfRevision(createRevision: bigint): number | undefined {
  if (createRevision <= 0n || createRevision > BigInt(HELLO_MAX_EPOCH)) return undefined;
  return Number(createRevision);
}
