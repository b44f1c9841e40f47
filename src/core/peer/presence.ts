/**
 * What we hear from haagent peers, per node and per path, with replay protection: pure
 * bookkeeping (no I/O, no clock: the caller passes `nowMs`). The shell calls `notePeer` for
 * every hello that decoded and authenticated (and that it has checked is for this instance, from
 * the path's configured peer address and not from this node), acts on the verdict, and asks
 * `anyPeerHeardSince(table, now - masterDownMs)` before declaring the peer gone — the peer is
 * gone only when every path has been silent.
 *
 * The table is updated in place (one map lookup and a few fields per hello, never a copy of the
 * table) and is bounded: at most `maxNodes` nodes (PEER_TABLE_MAX_NODES), at most
 * PEER_MAX_PATHS paths per node, RETIRED_BOOTS_MAX retired boot nonces; a node silent for
 * `expiryMs` (peerExpiryMs: PEER_EXPIRY_INTERVALS advert intervals) is forgotten.
 *
 * Replay rule (every hello carries `boot`, random per sender incarnation, `bootMs`, the
 * sender's wall clock when that incarnation began, and `seq`, counting 1, 2, 3... within the
 * boot; with the key required, only a peer can mint a valid hello):
 * - Per node we hold its current boot and a sliding window of the REPLAY_WINDOW (64) newest seqs
 *   seen in it (as IPsec's anti-replay window). Per path the same window again: the same hello
 *   legitimately arrives once per path.
 * - Same boot: a seq already seen on this path, or older than the path's window, is a replay:
 *   rejected. A seq not yet seen from the node is `fresh` (acted on); one the node already
 *   delivered on another path only refreshes this path's time (`fresh: false`).
 * - Another boot: a boot we retired (a previous incarnation of any node of this table) is a
 *   replay: rejected. A boot that began later (`bootMs` greater) than the current one is the
 *   node having restarted: the current boot is retired, the new one takes its place, windows
 *   reset. A boot that began earlier or at the same time is stale (a delayed or replayed hello
 *   of an earlier incarnation): rejected, and not retired (should the peer's clock have stepped
 *   back across a restart, its new boot is taken once the old entry expires).
 * - A node seen for the first time (or again after expiry) is taken on first use, unless its
 *   boot is retired. Retired boots are kept per table (not per node entry), so they outlive the
 *   expiry of the node: a captured sequence of a dead peer's hellos stays refused after its
 *   entry is gone.
 * So a captured hello is accepted at most once (per path), and hellos of an earlier boot never
 * once a later one was seen, in whatever order they arrive. Not covered: a receiver that
 * itself restarted has no memory and takes the first boot it hears (trust on first use); an
 * attacker who recorded a peer's hellos could replay that recording, each hello once, to a
 * freshly restarted receiver while the real peer is silent (a live peer's next hello, of a later
 * boot, ends it). Retiring more than RETIRED_BOOTS_MAX boots forgets the oldest.
 *
 * Fields and times:
 * - The reported state, priority, epoch, fingerprint and address come from the newest hello
 *   (highest seq of the current boot); a fresh but older one (reordered) does not roll them back.
 * - Times never go backwards: a `nowMs` older than what is recorded leaves the time alone.
 * - `maxEpochSeen` is the largest epoch in any accepted fresh hello (the caller bounds epochs
 *   before noting, see rules.ts acceptPeerEpoch).
 */
import { csToMs } from '../fsm/timers.js';
import type { VrrpState } from '../fsm/types.js';
import type { Hello } from './hello.js';

/** Seqs remembered per node and per path (the anti-replay window). */
export const REPLAY_WINDOW = 64;
/** Nodes per instance table; more is an attack or a misconfiguration. */
export const PEER_TABLE_MAX_NODES = 16;
/** Paths remembered per node (paths are configured; this only bounds the bookkeeping). */
export const PEER_MAX_PATHS = 16;
/** Boot nonces remembered after their node restarted or expired. */
export const RETIRED_BOOTS_MAX = 64;
/** A node silent for this many advert intervals is forgotten. */
export const PEER_EXPIRY_INTERVALS = 20;

/** Silence (ms) after which a node is forgotten: PEER_EXPIRY_INTERVALS advert intervals. */
export function peerExpiryMs(advertIntervalCs: number): number {
  return PEER_EXPIRY_INTERVALS * csToMs(advertIntervalCs);
}

/** Sliding window: `top` is the highest seq seen; bit i of `mask` set = seq `top - i` seen. */
export interface SeqWindow {
  readonly top: number;
  readonly mask: bigint;
}

export type SeqClass = 'newest' | 'in-window' | 'seen' | 'too-old';

const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n;

/** Where `seq` falls in `w`: above the top, unseen inside the window, seen, or below it. */
export function classifySeq(w: SeqWindow, seq: number): SeqClass {
  if (seq > w.top) return 'newest';
  const behind = w.top - seq;
  if (behind >= REPLAY_WINDOW) return 'too-old';
  return ((w.mask >> BigInt(behind)) & 1n) === 1n ? 'seen' : 'in-window';
}

/** `w` with `seq` marked seen (a seq at or below the window's bottom leaves it unchanged). */
export function markSeq(w: SeqWindow, seq: number): SeqWindow {
  if (seq > w.top) {
    const shift = seq - w.top;
    const mask = shift >= REPLAY_WINDOW ? 1n : ((w.mask << BigInt(shift)) | 1n) & WINDOW_MASK;
    return { top: seq, mask };
  }
  const behind = w.top - seq;
  if (behind >= REPLAY_WINDOW) return w;
  return { top: w.top, mask: w.mask | (1n << BigInt(behind)) };
}

const windowOf = (seq: number): SeqWindow => ({ top: seq, mask: 1n });

/** A snapshot of one node, for status and the simulation. */
export interface PeerEntry {
  readonly node: string;
  readonly state: VrrpState;
  readonly priority: number;
  readonly epoch: number;
  readonly fingerprint: string;
  readonly vrrpAddress: string;
  /** Current boot nonce of the node, and when (its wall clock, ms) that boot began. */
  readonly boot: string;
  readonly bootMs: number;
  /** seq of the hello the fields above come from. */
  readonly seq: number;
  /** Latest time a fresh hello from this node was heard, on any path. */
  readonly lastSeenMs: number;
  /** Path (interface name) -> latest time a hello from this node was heard on it. */
  readonly paths: Readonly<Record<string, number>>;
}

/** @internal */
export interface PathRecord {
  lastSeenMs: number;
  window: SeqWindow;
}

/** @internal */
export interface NodeRecord {
  readonly node: string;
  boot: string;
  bootMs: number;
  window: SeqWindow;
  state: VrrpState;
  priority: number;
  epoch: number;
  fingerprint: string;
  vrrpAddress: string;
  seq: number;
  lastSeenMs: number;
  readonly paths: Map<string, PathRecord>;
}

/** Opaque: read it through the functions below. Mutated in place by notePeer and expirePeers. */
export interface PeerTable {
  readonly expiryMs: number;
  readonly maxNodes: number;
  /** @internal */
  readonly nodes: Map<string, NodeRecord>;
  /** @internal insertion-ordered, at most RETIRED_BOOTS_MAX */
  readonly retired: Set<string>;
  /** @internal */
  maxEpoch: number;
}

export interface PeerHeard {
  readonly node: string;
  /** Interface name the hello arrived on. */
  readonly path: string;
  readonly hello: Hello;
  readonly nowMs: number;
}

export type NoteRejectReason = 'replay' | 'table-full';

/**
 * accepted + fresh: first copy of this hello from the node: act on it (state, epoch, advert).
 * accepted, not fresh: a copy already delivered on another path: only this path's time moved.
 * newest: the node's fields now come from this hello.
 */
export type NoteVerdict =
  | { readonly accepted: true; readonly fresh: boolean; readonly newest: boolean }
  | { readonly accepted: false; readonly reason: NoteRejectReason; readonly detail: string };

/** A new, empty table. `expiryMs`: see peerExpiryMs. */
export function emptyPeerTable(opts: { readonly expiryMs: number; readonly maxNodes?: number }): PeerTable {
  return { expiryMs: opts.expiryMs, maxNodes: opts.maxNodes ?? PEER_TABLE_MAX_NODES, nodes: new Map(), retired: new Set(), maxEpoch: 0 };
}

function retire(table: PeerTable, boot: string): void {
  table.retired.delete(boot);
  table.retired.add(boot);
  while (table.retired.size > RETIRED_BOOTS_MAX) {
    const oldest = table.retired.values().next();
    if (oldest.done === true) break;
    table.retired.delete(oldest.value);
  }
}

/** Forgets nodes silent for longer than the table's expiryMs (their boots are retired). */
export function expirePeers(table: PeerTable, nowMs: number): void {
  for (const [node, rec] of table.nodes) {
    if (nowMs - rec.lastSeenMs > table.expiryMs) {
      retire(table, rec.boot);
      table.nodes.delete(node);
    }
  }
}

function newRecord(node: string, hello: Hello, path: string, nowMs: number): NodeRecord {
  return {
    node, boot: hello.boot, bootMs: hello.bootMs, window: windowOf(hello.seq),
    state: hello.state, priority: hello.priority, epoch: hello.epoch, fingerprint: hello.fingerprint,
    vrrpAddress: hello.vrrpAddress, seq: hello.seq, lastSeenMs: nowMs,
    paths: new Map([[path, { lastSeenMs: nowMs, window: windowOf(hello.seq) }]]),
  };
}

const ACCEPT_NEWEST: NoteVerdict = Object.freeze({ accepted: true, fresh: true, newest: true });
const ACCEPT_OLDER: NoteVerdict = Object.freeze({ accepted: true, fresh: true, newest: false });
const ACCEPT_COPY: NoteVerdict = Object.freeze({ accepted: true, fresh: false, newest: false });

const replay = (detail: string): NoteVerdict => ({ accepted: false, reason: 'replay', detail });

/** Records `heard` in `table` (in place) and says what to do with it; see the module rules. */
export function notePeer(table: PeerTable, heard: PeerHeard): NoteVerdict {
  const { node, path, hello, nowMs } = heard;
  const rec = table.nodes.get(node);
  if (rec === undefined || rec.boot !== hello.boot) {
    if (table.retired.has(hello.boot)) return replay(`boot ${hello.boot} of ${node} is a previous incarnation`);
    if (rec !== undefined && hello.bootMs <= rec.bootMs) {
      return replay(`boot ${hello.boot} of ${node} began before the current one (${hello.bootMs} <= ${rec.bootMs} ms)`);
    }
    if (rec === undefined) {
      if (table.nodes.size >= table.maxNodes) expirePeers(table, nowMs);
      if (table.nodes.size >= table.maxNodes) {
        return { accepted: false, reason: 'table-full', detail: `already ${table.maxNodes} peer nodes for this instance` };
      }
    } else {
      retire(table, rec.boot); // the node restarted
    }
    table.nodes.set(node, newRecord(node, hello, path, Math.max(nowMs, rec?.lastSeenMs ?? nowMs)));
    table.maxEpoch = Math.max(table.maxEpoch, hello.epoch);
    return ACCEPT_NEWEST;
  }

  const p = rec.paths.get(path);
  if (p !== undefined) {
    const pc = classifySeq(p.window, hello.seq);
    if (pc === 'seen') return replay(`seq ${hello.seq} of ${node} already heard on ${path}`);
    if (pc === 'too-old') return replay(`seq ${hello.seq} of ${node} is older than the last ${REPLAY_WINDOW} on ${path}`);
    p.window = markSeq(p.window, hello.seq);
    p.lastSeenMs = Math.max(p.lastSeenMs, nowMs);
  } else {
    if (rec.paths.size >= PEER_MAX_PATHS) return { accepted: false, reason: 'table-full', detail: `already ${PEER_MAX_PATHS} paths for ${node}` };
    // A path first heard now: what the node already delivered elsewhere is older than this window.
    if (classifySeq(rec.window, hello.seq) === 'too-old') return replay(`seq ${hello.seq} of ${node} is older than the last ${REPLAY_WINDOW}`);
    rec.paths.set(path, { lastSeenMs: nowMs, window: windowOf(hello.seq) });
  }

  const nc = classifySeq(rec.window, hello.seq);
  if (nc === 'seen') return ACCEPT_COPY;
  if (nc === 'too-old') return replay(`seq ${hello.seq} of ${node} is older than the last ${REPLAY_WINDOW}`);
  rec.window = markSeq(rec.window, hello.seq);
  rec.lastSeenMs = Math.max(rec.lastSeenMs, nowMs);
  table.maxEpoch = Math.max(table.maxEpoch, hello.epoch);
  if (nc === 'in-window') return ACCEPT_OLDER;
  rec.state = hello.state;
  rec.priority = hello.priority;
  rec.epoch = hello.epoch;
  rec.fingerprint = hello.fingerprint;
  rec.vrrpAddress = hello.vrrpAddress;
  rec.seq = hello.seq;
  return ACCEPT_NEWEST;
}

function snapshot(rec: NodeRecord): PeerEntry {
  const paths: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [k, v] of rec.paths) paths[k] = v.lastSeenMs;
  return Object.freeze({
    node: rec.node, state: rec.state, priority: rec.priority, epoch: rec.epoch, fingerprint: rec.fingerprint,
    vrrpAddress: rec.vrrpAddress, boot: rec.boot, bootMs: rec.bootMs, seq: rec.seq, lastSeenMs: rec.lastSeenMs, paths: Object.freeze(paths),
  });
}

function sortedRecords(table: PeerTable): NodeRecord[] {
  return [...table.nodes.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** Peers heard on any path at or after `sinceMs`, sorted by node name (snapshots). */
export function peersHeardSince(table: PeerTable, sinceMs: number): PeerEntry[] {
  return sortedRecords(table).filter((e) => e.lastSeenMs >= sinceMs).map(snapshot);
}

/** Whether any peer was heard on any path at or after `sinceMs`. No allocation per node. */
export function anyPeerHeardSince(table: PeerTable, sinceMs: number): boolean {
  for (const rec of table.nodes.values()) if (rec.lastSeenMs >= sinceMs) return true;
  return false;
}

/** Paths on which `node` was heard at or after `sinceMs`, sorted (for status and metrics). */
export function pathsHeardSince(table: PeerTable, node: string, sinceMs: number): string[] {
  const rec = table.nodes.get(node);
  if (rec === undefined) return [];
  return [...rec.paths].filter(([, p]) => p.lastSeenMs >= sinceMs).map(([k]) => k).sort();
}

/** Largest fencing epoch seen in any accepted fresh hello; 0 when none was heard. */
export function maxEpochSeen(table: PeerTable): number {
  return table.maxEpoch;
}

/** Number of nodes currently in the table. */
export function peerCount(table: PeerTable): number {
  return table.nodes.size;
}

/**
 * Peers whose latest fingerprint differs from `ours`, however long ago they were heard (filter
 * with `peersHeardSince` for current ones).
 */
export function fingerprintMismatches(table: PeerTable, ours: string): PeerEntry[] {
  return sortedRecords(table).filter((e) => e.fingerprint !== ours).map(snapshot);
}
