/**
 * The JSON of etcd's v3 HTTP gateway (etcd 3.4: POST /v3/kv/*, /v3/lease/*): request bodies, and
 * decoders of its replies. Keys and values travel base64-encoded, 64-bit integers as decimal
 * strings, and fields holding their zero value are left out (an empty range has no `kvs`, a
 * failed txn no `succeeded`, an expired lease's keepalive no `TTL`).
 *
 * Decoders never throw: a reply that does not have the expected shape is `{ ok: false, reason,
 * detail }` (the caller names the endpoint). They check shapes and digits only, not meaning
 * (e.g. whether a revision is plausible).
 */

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; detail: string };

const INT64 = /^-?\d{1,20}$/;
/** Longest key or value accepted in a reply, in base64 characters (etcd's own request limit is 1.5 MiB). */
const MAX_B64_CHARS = 2 * 1024 * 1024;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bad<T>(reason: string, detail: string): Decoded<T> {
  return { ok: false, reason, detail: detail.length > 200 ? `${detail.slice(0, 200)}…` : detail };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** UTF-8 text -> base64, as the gateway wants keys and values. */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** The key just after every key starting with `prefix` (etcd's range_end for a prefix scan), base64. */
export function prefixRangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i -= 1) {
    const b = bytes[i] ?? 0;
    if (b < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = b + 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64'); // every byte 0xff: to the end of the keyspace
}

/** A 64-bit integer field: absent = 0 (the gateway omits zeros); a string or a safe number. */
function int64(obj: Record<string, unknown>, field: string): bigint | undefined {
  const v = obj[field];
  if (v === undefined) return 0n;
  if (typeof v === 'string' && INT64.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return undefined;
}

function text(obj: Record<string, unknown>, field: string): string | undefined {
  const v = obj[field];
  if (v === undefined) return '';
  if (typeof v !== 'string' || v.length > MAX_B64_CHARS || v.length % 4 !== 0 || !B64.test(v)) return undefined;
  return Buffer.from(v, 'base64').toString('utf8');
}

function headerRevision(reply: Record<string, unknown>): bigint | undefined {
  const h = reply['header'];
  if (!isObj(h)) return undefined;
  const rev = int64(h, 'revision');
  return rev !== undefined && rev > 0n ? rev : undefined;
}

/** One key-value of a range reply. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: bigint;
  readonly modRevision: bigint;
  /** The lease the key is attached to, "0" when none. */
  readonly leaseId: string;
}

function keyValue(raw: unknown): KeyValue | undefined {
  if (!isObj(raw)) return undefined;
  const key = text(raw, 'key');
  const value = text(raw, 'value');
  const createRevision = int64(raw, 'create_revision');
  const modRevision = int64(raw, 'mod_revision');
  const lease = int64(raw, 'lease');
  if (key === undefined || key === '' || value === undefined || createRevision === undefined || modRevision === undefined || lease === undefined) return undefined;
  return { key, value, createRevision, modRevision, leaseId: lease.toString() };
}

function kvList(reply: Record<string, unknown>): KeyValue[] | undefined {
  const raw = reply['kvs'];
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return undefined;
  const out: KeyValue[] = [];
  for (const r of raw) {
    const kv = keyValue(r);
    if (kv === undefined) return undefined;
    out.push(kv);
  }
  return out;
}

/** Parses the reply text; a non-object is a bad reply. */
export function parseReply(body: string): Decoded<Record<string, unknown>> {
  let v: unknown;
  try { v = JSON.parse(body); } catch { return bad('not JSON', body); }
  return isObj(v) ? { ok: true, value: v } : bad('not a JSON object', body);
}

/**
 * An error reply (HTTP status not 2xx): its gRPC code and message. The gateway sends
 * `{ error, code, message }`; anything else keeps the HTTP status as the only information.
 */
export function decodeError(status: number, body: string): { code: number | undefined; message: string } {
  const r = parseReply(body);
  const obj = r.ok ? r.value : {};
  const inner = isObj(obj['error']) ? obj['error'] : obj;
  const code = typeof inner['code'] === 'number' ? inner['code'] : typeof inner['grpc_code'] === 'number' ? inner['grpc_code'] : undefined;
  const msg = typeof inner['message'] === 'string' ? inner['message'] : typeof obj['error'] === 'string' ? obj['error'] : `HTTP ${status}`;
  return { code, message: msg.slice(0, 200) };
}

/** gRPC codes worth trying another member for: the member cannot serve now (no leader, timeout). */
export function isRetryableCode(code: number | undefined, status: number): boolean {
  if (code === undefined) return status >= 500;
  return code === 1 || code === 2 || code === 4 || code === 14;
}

/** gRPC NOT_FOUND: e.g. "requested lease not found". */
export const GRPC_NOT_FOUND = 5;

export function decodeGrant(reply: Record<string, unknown>): Decoded<{ leaseId: string; ttlS: number }> {
  const id = int64(reply, 'ID');
  const ttl = int64(reply, 'TTL');
  if (typeof reply['error'] === 'string' && reply['error'] !== '') return bad('grant refused', reply['error']);
  if (id === undefined || id === 0n || ttl === undefined || ttl <= 0n || ttl > 1_000_000n) return bad('grant reply without a lease ID and TTL', JSON.stringify(reply));
  return { ok: true, value: { leaseId: id.toString(), ttlS: Number(ttl) } };
}

/** A keepalive reply (`{ result: { ID, TTL } }`); no TTL means the lease is gone: ttlS 0. */
export function decodeKeepAlive(reply: Record<string, unknown>): Decoded<{ ttlS: number }> {
  const result = reply['result'];
  if (!isObj(result)) return bad('keepalive reply without a result', JSON.stringify(reply));
  const ttl = int64(result, 'TTL');
  if (ttl === undefined || ttl < 0n || ttl > 1_000_000n) return bad('keepalive reply with a bad TTL', JSON.stringify(result));
  return { ok: true, value: { ttlS: Number(ttl) } };
}

export function decodeRevision(reply: Record<string, unknown>): Decoded<{ revision: bigint }> {
  const revision = headerRevision(reply);
  return revision === undefined ? bad('reply without a header revision', JSON.stringify(reply)) : { ok: true, value: { revision } };
}

export function decodeRange(reply: Record<string, unknown>): Decoded<KeyValue[]> {
  const kvs = kvList(reply);
  return kvs === undefined ? bad('range reply with malformed kvs', JSON.stringify(reply)) : { ok: true, value: kvs };
}

/** The body of the create-if-absent txn: put with the lease when the key's CREATE revision is 0, else read it. */
export function createIfAbsentBody(key: string, value: string, leaseId: string): unknown {
  const k = b64(key);
  return {
    compare: [{ key: k, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
    success: [{ request_put: { key: k, value: b64(value), lease: leaseId } }],
    failure: [{ request_range: { key: k } }],
  };
}

/** The body of delete-if-owned: delete when the key's CREATE revision is still ours. */
export function deleteIfOwnedBody(key: string, createRevision: bigint): unknown {
  const k = b64(key);
  return {
    compare: [{ key: k, target: 'CREATE', result: 'EQUAL', create_revision: createRevision.toString() }],
    success: [{ request_delete_range: { key: k } }],
  };
}

export interface CreateResult {
  /** True when this call created the key (we hold it). */
  readonly held: boolean;
  /** The key's create revision: ours when held, else the holder's. */
  readonly createRevision: bigint;
  /** The value stored: ours when held, else the holder's. */
  readonly value: string;
  /** The txn's revision (the store's revision after it). */
  readonly revision: bigint;
  /** The lease the key is attached to: ours when held, else the holder's ("0" = none). */
  readonly holderLeaseId: string;
}

/** The reply of createIfAbsentBody's txn. A put in the txn creates the key at the txn's revision. */
export function decodeCreateIfAbsent(reply: Record<string, unknown>, ourValue: string, ourLeaseId: string): Decoded<CreateResult> {
  const revision = headerRevision(reply);
  if (revision === undefined) return bad('txn reply without a header revision', JSON.stringify(reply));
  const succeeded = reply['succeeded'] ?? false;
  if (typeof succeeded !== 'boolean') return bad('txn reply with a non-boolean succeeded', JSON.stringify(reply));
  if (succeeded) return { ok: true, value: { held: true, createRevision: revision, value: ourValue, revision, holderLeaseId: ourLeaseId } };
  const responses = reply['responses'];
  const first: unknown = Array.isArray(responses) ? responses[0] : undefined;
  const range = isObj(first) ? first['response_range'] : undefined;
  const kvs = isObj(range) ? kvList(range) : undefined;
  const holder = kvs?.[0];
  if (holder === undefined) return bad('failed txn reply without the holder\'s key', JSON.stringify(reply));
  return { ok: true, value: { held: false, createRevision: holder.createRevision, value: holder.value, revision, holderLeaseId: holder.leaseId } };
}

/** The reply of deleteIfOwnedBody's txn: true when the key was ours and is now deleted. */
export function decodeDeleteIfOwned(reply: Record<string, unknown>): Decoded<boolean> {
  if (headerRevision(reply) === undefined) return bad('txn reply without a header revision', JSON.stringify(reply));
  const succeeded = reply['succeeded'] ?? false;
  return typeof succeeded === 'boolean' ? { ok: true, value: succeeded } : bad('txn reply with a non-boolean succeeded', JSON.stringify(reply));
}
