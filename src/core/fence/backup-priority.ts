/**
 * `self-fence-backup-priority: auto` learned from haagent's own peer channel: the highest
 * effective priority the instance's backups report in their hellos (paths), so the master's
 * fence can expire just before THAT backup's Master_Down_Interval (fenceTimeoutMs) instead of
 * before the fastest possible one's (254).
 *
 * The answer is a number only while it is known for every peer ever heard: each node that ever
 * sent a hello must have sent one within `freshMs`, and every fresh peer in BACKUP state must
 * report a priority in 1..254. Otherwise (a peer whose hellos stopped, whatever the reason: it
 * may still be a backup with any priority; a bad report; more nodes than `maxNodes`) it is
 * undefined and the caller falls back to 254, the safe default. A peer that is fresh but not
 * BACKUP (MASTER, INIT) is no backup now and does not count; none at all in BACKUP: undefined.
 *
 * Deliberately not covered: backups that send no hellos (another VRRP implementation, a node
 * without paths) are invisible here; with such backups the key must be set by hand (254). And
 * a backup whose priority rises is seen only at its next hello (one advert interval), plus the
 * time to re-apply the fence.
 *
 * Pure: `known` is mutated in place (nodes ever heard); no clock, no I/O.
 */
import type { VrrpState } from '../fsm/types.js';

/**
 * A peer's report is fresh for this many advert intervals (peers hello once per interval): a
 * hello or two late under load does not flip the fence back and forth (each flip is an nft run).
 */
export const BACKUP_REPORT_FRESH_INTERVALS = 3;

/** What one peer's latest hello said, and when it was heard (monotonic ms). */
export interface PeerReport {
  readonly node: string;
  readonly state: VrrpState;
  readonly priority: number;
  readonly lastSeenMs: number;
}

/** Nodes ever heard (bounded); `overflow`: more nodes than the bound were seen, nothing is known any more. */
export interface KnownPeers {
  readonly nodes: Set<string>;
  overflow: boolean;
}

export function newKnownPeers(): KnownPeers {
  return { nodes: new Set(), overflow: false };
}

/**
 * The highest priority of a fresh BACKUP peer, or undefined when it is not known for every
 * peer ever heard (see the module comment). Records `peers` in `known` first.
 */
export function learnedBackupPriority(known: KnownPeers, peers: readonly PeerReport[], nowMs: number, freshMs: number, maxNodes: number): number | undefined {
  for (const p of peers) {
    if (known.nodes.has(p.node)) continue;
    if (known.nodes.size >= maxNodes) known.overflow = true;
    else known.nodes.add(p.node);
  }
  if (known.overflow) return undefined;
  const byNode = new Map(peers.map((p) => [p.node, p]));
  let best: number | undefined;
  for (const node of known.nodes) {
    const p = byNode.get(node);
    if (p === undefined || nowMs - p.lastSeenMs > freshMs) return undefined;
    if (p.state !== 'BACKUP') continue;
    if (!Number.isInteger(p.priority) || p.priority < 1 || p.priority > 254) return undefined;
    best = Math.max(best ?? 0, p.priority);
  }
  return best;
}
