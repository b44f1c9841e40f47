/**
 * Where an instance's election lives in etcd and what its values say. Pure.
 *
 *   PREFIX/INSTANCE/leader            {"node","address","priority"}   lease-backed; its create
 *                                      revision is the fencing epoch of the holder's tenure
 *   PREFIX/INSTANCE/candidates/NODE   {"priority","preempt"}           lease-backed: who is alive
 *                                      and eligible, with what priority
 *
 * NODE is the node's primary address on the instance's heartbeat interface (unique per node,
 * already known to every peer, no new config key). Values are read back from etcd, which anyone
 * with access could write: the decoders never throw, bound the text and return
 * `{ ok: false, reason, detail }` for anything else.
 */

/** Longest value we accept from etcd (a leader or candidate value is well under 200 bytes). */
export const MAX_ELECTION_VALUE_BYTES = 1024;

export interface LeaderValue {
  /** The holder's node id (its primary address). */
  readonly node: string;
  /** The address its peers know it by (the same primary address today). */
  readonly address: string;
  /** Its effective priority when it took the key. */
  readonly priority: number;
}

export interface CandidateValue {
  readonly priority: number;
  readonly preempt: boolean;
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly detail: string };

/** The directory of one instance's keys, always ending in '/'. */
export function instanceDir(prefix: string, instance: string): string {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return `${p}${instance}/`;
}

export function leaderKey(prefix: string, instance: string): string {
  return `${instanceDir(prefix, instance)}leader`;
}

export function candidatesDir(prefix: string, instance: string): string {
  return `${instanceDir(prefix, instance)}candidates/`;
}

export function candidateKey(prefix: string, instance: string, node: string): string {
  return `${candidatesDir(prefix, instance)}${node}`;
}

export function encodeLeader(v: LeaderValue): string {
  return JSON.stringify({ node: v.node, address: v.address, priority: v.priority });
}

export function encodeCandidate(v: CandidateValue): string {
  return JSON.stringify({ priority: v.priority, preempt: v.preempt });
}

function parseObject(text: string): Decoded<Record<string, unknown>> {
  if (text.length > MAX_ELECTION_VALUE_BYTES) return { ok: false, reason: 'too-long', detail: `${text.length} characters, at most ${MAX_ELECTION_VALUE_BYTES}` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not-json', detail: 'the value is not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'not-object', detail: 'the value is not a JSON object' };
  return { ok: true, value: raw as Record<string, unknown> };
}

function isPriority(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 255;
}

function isShortText(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= 255;
}

export function decodeLeader(text: string): Decoded<LeaderValue> {
  const o = parseObject(text);
  if (!o.ok) return o;
  const { node, address, priority } = o.value;
  if (!isShortText(node)) return { ok: false, reason: 'bad-node', detail: 'node must be a non-empty string of at most 255 characters' };
  if (!isShortText(address)) return { ok: false, reason: 'bad-address', detail: 'address must be a non-empty string of at most 255 characters' };
  if (!isPriority(priority)) return { ok: false, reason: 'bad-priority', detail: 'priority must be an integer 0..255' };
  return { ok: true, value: { node, address, priority } };
}

export function decodeCandidate(text: string): Decoded<CandidateValue> {
  const o = parseObject(text);
  if (!o.ok) return o;
  const { priority, preempt } = o.value;
  if (!isPriority(priority)) return { ok: false, reason: 'bad-priority', detail: 'priority must be an integer 0..255' };
  if (typeof preempt !== 'boolean') return { ok: false, reason: 'bad-preempt', detail: 'preempt must be true or false' };
  return { ok: true, value: { priority, preempt } };
}
