/**
 * What we hear from haagent peers, per node and per path: pure, immutable bookkeeping. The shell
 * calls `notePeer` for every hello that decoded (and that it has checked is for this instance
 * and not from this node); the state machine asks `anyPeerHeardSince(table, now - masterDownMs)`
 * before declaring the peer gone — the peer is gone only when every path has been silent.
 *
 * Rules:
 * - Hearing any hello on a path refreshes that path's and the node's last-seen time, even a
 *   stale (reordered) one: it proves the peer was alive and the path works.
 * - The reported state, priority, epoch, fingerprint and address come from the newest hello by
 *   `seq` (serial-number order, RFC 1982, mod 2^32). The same hello arrives once per path and the
 *   paths reorder; a hello whose seq is behind the newest by at most REORDER_WINDOW is stale and
 *   does not roll the fields back. One further behind is taken as the peer having restarted
 *   (its seq began again) and is accepted.
 * - Times never go backwards: a `nowMs` older than what is recorded leaves the record alone.
 * - `maxEpochSeen` is the largest epoch in any hello ever noted, stale ones included.
 * - Nodes are never forgotten (two or a handful per instance); a silent node simply stops
 *   matching `peersHeardSince`.
 */
import type { VrrpState } from '../fsm/types.js';
import type { Hello } from './hello.js';

/** How far behind the newest seq a hello may be and still count as reordered, not a restart. */
export const REORDER_WINDOW = 64;

export interface PeerEntry {
  readonly node: string;
  readonly state: VrrpState;
  readonly priority: number;
  readonly epoch: number;
  readonly fingerprint: string;
  readonly vrrpAddress: string;
  /** seq of the hello the fields above come from. */
  readonly seq: number;
  /** Latest time any hello from this node was heard, on any path. */
  readonly lastSeenMs: number;
  /** Path (interface name) -> latest time a hello from this node was heard on it. */
  readonly paths: Readonly<Record<string, number>>;
}

export interface PeerTable {
  readonly peers: Readonly<Record<string, PeerEntry>>;
  readonly maxEpoch: number;
}

export interface PeerHeard {
  readonly node: string;
  /** Interface name the hello arrived on. */
  readonly path: string;
  readonly hello: Hello;
  readonly nowMs: number;
}

export const EMPTY_PEER_TABLE: PeerTable = Object.freeze({ peers: Object.freeze({}), maxEpoch: 0 });

export function emptyPeerTable(): PeerTable {
  return EMPTY_PEER_TABLE;
}

/** True when `seq` is older than `newest` by 1..REORDER_WINDOW (mod 2^32). */
export function isStaleSeq(seq: number, newest: number): boolean {
  const behind = (newest - seq) >>> 0;
  return behind !== 0 && behind <= REORDER_WINDOW;
}

function ownEntry(peers: Readonly<Record<string, PeerEntry>>, node: string): PeerEntry | undefined {
  return Object.prototype.hasOwnProperty.call(peers, node) ? peers[node] : undefined;
}

function ownTime(paths: Readonly<Record<string, number>>, path: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(paths, path) ? paths[path] : undefined;
}

function withKey<V>(rec: Readonly<Record<string, V>>, key: string, value: V): Readonly<Record<string, V>> {
  const out: Record<string, V> = Object.create(null) as Record<string, V>;
  for (const k of Object.keys(rec)) out[k] = rec[k] as V;
  out[key] = value;
  return Object.freeze(out);
}

/** The table with `heard` recorded (see the module rules). Does not modify `table`. */
export function notePeer(table: PeerTable, heard: PeerHeard): PeerTable {
  const { node, path, hello, nowMs } = heard;
  const prev = ownEntry(table.peers, node);
  const maxEpoch = Math.max(table.maxEpoch, hello.epoch);

  const pathSeen = Math.max(ownTime(prev?.paths ?? {}, path) ?? nowMs, nowMs);
  const paths = withKey(prev?.paths ?? {}, path, pathSeen);
  const lastSeenMs = Math.max(prev?.lastSeenMs ?? nowMs, nowMs);

  const stale = prev !== undefined && isStaleSeq(hello.seq, prev.seq);
  const fields = stale
    ? prev
    : {
        state: hello.state,
        priority: hello.priority,
        epoch: hello.epoch,
        fingerprint: hello.fingerprint,
        vrrpAddress: hello.vrrpAddress,
        seq: hello.seq,
      };
  const entry: PeerEntry = Object.freeze({
    node,
    state: fields.state,
    priority: fields.priority,
    epoch: fields.epoch,
    fingerprint: fields.fingerprint,
    vrrpAddress: fields.vrrpAddress,
    seq: fields.seq,
    lastSeenMs,
    paths,
  });
  return Object.freeze({ peers: withKey(table.peers, node, entry), maxEpoch });
}

function allEntries(table: PeerTable): PeerEntry[] {
  return Object.keys(table.peers)
    .sort()
    .map((k) => table.peers[k])
    .filter((e): e is PeerEntry => e !== undefined);
}

/** Peers heard on any path at or after `sinceMs`, by node name. */
export function peersHeardSince(table: PeerTable, sinceMs: number): PeerEntry[] {
  return allEntries(table).filter((e) => e.lastSeenMs >= sinceMs);
}

/** Whether any peer was heard on any path at or after `sinceMs`. */
export function anyPeerHeardSince(table: PeerTable, sinceMs: number): boolean {
  return allEntries(table).some((e) => e.lastSeenMs >= sinceMs);
}

/** Paths on which `node` was heard at or after `sinceMs`, sorted (for status and metrics). */
export function pathsHeardSince(table: PeerTable, node: string, sinceMs: number): string[] {
  const entry = ownEntry(table.peers, node);
  if (entry === undefined) return [];
  return Object.keys(entry.paths)
    .filter((p) => (entry.paths[p] ?? -Infinity) >= sinceMs)
    .sort();
}

/** Largest fencing epoch seen in any hello; 0 when none was heard. */
export function maxEpochSeen(table: PeerTable): number {
  return table.maxEpoch;
}

/**
 * Peers whose latest fingerprint differs from `ours`, however long ago they were heard (filter
 * with `peersHeardSince` for current ones).
 */
export function fingerprintMismatches(table: PeerTable, ours: string): PeerEntry[] {
  return allEntries(table).filter((e) => e.fingerprint !== ours);
}
