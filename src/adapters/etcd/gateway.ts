/**
 * The agent's etcd client: etcd's v3 JSON gateway over HTTP (one POST per call, no stream, no
 * npm dependency). One per agent, shared by its instances.
 *
 * Every call tries the endpoints in order starting with the one that answered last (sticky),
 * each attempt bounded by `request-timeout`, so a call takes at most endpoints x request-timeout.
 * The next endpoint is tried when one does not answer, answers with something that is not a
 * gateway reply, or answers "cannot serve now" (no leader, timeout: gRPC UNAVAILABLE and the
 * like). Any other error answer is etcd's verdict and is not retried elsewhere (rejects at once
 * with EtcdServerError). When every endpoint failed the call rejects with HA_ERR_ETCD naming each
 * endpoint and its last problem.
 *
 * Events: 'reachable' / 'unreachable' when that changes: a call that got any etcd answer makes
 * etcd reachable, a call where no endpoint answered makes it unreachable (none before the first
 * call). Values never appear in logs (they may hold addresses only, but keys are enough).
 *
 * A write retried on another endpoint after a timeout may have been applied by the first one:
 * createIfAbsent recognises its own key by the lease it is attached to; deleteIfOwned may then
 * report false for a key this very call deleted.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { HaagentError } from '../../core/errors.js';
import type { EtcdConfig } from '../../core/config/types.js';
import {
  b64, createIfAbsentBody, decodeCreateIfAbsent, decodeDeleteIfOwned, decodeError, decodeGrant, decodeKeepAlive,
  decodeRange, decodeRevision, deleteIfOwnedBody, GRPC_NOT_FOUND, isRetryableCode, parseReply, prefixRangeEnd,
  type CreateResult, type Decoded, type KeyValue,
} from '../../core/etcd/gateway-wire.js';
import { createTransport, type Transport } from './transport.js';

export type GatewayLog = Pick<Logger, 'warn' | 'info' | 'debug'>;

/** etcd answered with an error that another member would answer the same way (e.g. lease not found). */
export class EtcdServerError extends HaagentError {
  constructor(readonly endpoint: string, readonly grpcCode: number | undefined, message: string) {
    super('HA_ERR_ETCD', `etcd ${endpoint} refused: ${message}${grpcCode === undefined ? '' : ` (code ${grpcCode})`}`);
    this.name = 'EtcdServerError';
  }
}

export class EtcdGateway extends EventEmitter {
  private preferred = 0;
  private state: boolean | undefined;
  private readonly transport: Transport;

  /** Reads the TLS files now: throws HA_ERR_CONFIG naming the key when one cannot be read. */
  constructor(private readonly cfg: EtcdConfig, private readonly log?: GatewayLog, transport?: Transport) {
    super();
    this.transport = transport ?? createTransport(cfg);
  }

  /** Whether the latest call got an answer from etcd; undefined before the first call. */
  get reachable(): boolean | undefined {
    return this.state;
  }

  /** The endpoint tried first by the next call. */
  get preferredEndpoint(): string {
    return this.cfg.endpoints[this.preferred] ?? '';
  }

  /** Frees pooled connections. Calls after this still work (they open new ones). */
  close(): void {
    this.transport.close();
  }

  private setState(up: boolean): void {
    if (this.state === up) return;
    this.state = up;
    if (up) this.log?.info({ endpoint: this.preferredEndpoint }, 'etcd reachable');
    else this.log?.warn({ endpoints: this.cfg.endpoints }, 'etcd unreachable: no endpoint answered');
    this.emit(up ? 'reachable' : 'unreachable');
  }

  /** POSTs `body` to `path`, failing over between endpoints, and decodes the reply. */
  private async call<T>(path: string, body: unknown, decode: (reply: Record<string, unknown>) => Decoded<T>): Promise<T> {
    const text = JSON.stringify(body);
    const n = this.cfg.endpoints.length;
    const problems: string[] = [];
    for (let k = 0; k < n; k += 1) {
      const idx = (this.preferred + k) % n;
      const endpoint = this.cfg.endpoints[idx] ?? '';
      const r = await this.transport.post(`${endpoint}${path}`, text, this.cfg.requestTimeoutMs);
      if (!r.ok) {
        problems.push(`${endpoint}: ${r.reason}`);
        continue;
      }
      if (r.status < 200 || r.status > 299) {
        const e = decodeError(r.status, r.body);
        if (isRetryableCode(e.code, r.status)) {
          problems.push(`${endpoint}: ${e.message}`);
          continue;
        }
        this.preferred = idx;
        this.setState(true);
        throw new EtcdServerError(endpoint, e.code, e.message);
      }
      const parsed = parseReply(r.body);
      const decoded = parsed.ok ? decode(parsed.value) : parsed;
      if (!decoded.ok) {
        problems.push(`${endpoint}: bad reply to ${path}: ${decoded.reason} (${decoded.detail})`);
        continue;
      }
      if (problems.length > 0) this.log?.debug({ path, problems, endpoint }, 'etcd call failed over');
      this.preferred = idx;
      this.setState(true);
      return decoded.value;
    }
    this.setState(false);
    throw new HaagentError('HA_ERR_ETCD', `no etcd endpoint answered ${path}: ${problems.join('; ')}`);
  }

  /** A new lease; etcd may grant a longer TTL than asked (never a shorter one). */
  grant(ttlS: number): Promise<{ leaseId: string; ttlS: number }> {
    return this.call('/v3/lease/grant', { TTL: ttlS }, decodeGrant);
  }

  /** Renews the lease; ttlS 0 = the lease is gone (expired or revoked). */
  async keepAlive(leaseId: string): Promise<{ ttlS: number }> {
    try {
      return await this.call('/v3/lease/keepalive', { ID: leaseId }, decodeKeepAlive);
    } catch (err) {
      if (err instanceof EtcdServerError && err.grpcCode === GRPC_NOT_FOUND) return { ttlS: 0 };
      throw err;
    }
  }

  /** Revokes the lease (its keys are deleted); a lease already gone counts as revoked. */
  async revoke(leaseId: string): Promise<void> {
    try {
      await this.call('/v3/lease/revoke', { ID: leaseId }, decodeRevision);
    } catch (err) {
      if (err instanceof EtcdServerError && err.grpcCode === GRPC_NOT_FOUND) return;
      throw err;
    }
  }

  /**
   * One txn: when `key` does not exist, put it with `value` attached to the lease. held=true
   * with our createRevision, or held=false with the holder's value and createRevision. A key
   * found attached to our own lease (an earlier attempt of this call that timed out but was
   * applied) counts as held.
   */
  async createIfAbsent(key: string, value: string, leaseId: string): Promise<CreateResult> {
    const r = await this.call('/v3/kv/txn', createIfAbsentBody(key, value, leaseId), (reply) => decodeCreateIfAbsent(reply, value, leaseId));
    return !r.held && r.holderLeaseId === leaseId ? { ...r, held: true } : r;
  }

  /** The key, or undefined when it does not exist (a linearizable read). */
  async get(key: string): Promise<{ value: string; createRevision: bigint; modRevision: bigint; leaseId: string } | undefined> {
    const kvs = await this.call('/v3/kv/range', { key: b64(key) }, decodeRange);
    const kv = kvs.find((x) => x.key === key);
    return kv === undefined ? undefined : { value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision, leaseId: kv.leaseId };
  }

  /** Every key starting with `prefix`, in key order (a linearizable read). */
  async range(prefix: string): Promise<Array<{ key: string; value: string; createRevision: bigint; leaseId: string }>> {
    const kvs: KeyValue[] = await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixRangeEnd(prefix) }, decodeRange);
    return kvs.map((kv) => ({ key: kv.key, value: kv.value, createRevision: kv.createRevision, leaseId: kv.leaseId }));
  }

  /** Puts the key (attached to the lease when given); the store's revision after it. */
  put(key: string, value: string, leaseId?: string): Promise<{ revision: bigint }> {
    return this.call('/v3/kv/put', { key: b64(key), value: b64(value), ...(leaseId === undefined ? {} : { lease: leaseId }) }, decodeRevision);
  }

  /** Deletes the key only when its create revision is still `createRevision` (still ours); true when deleted. */
  deleteIfOwned(key: string, createRevision: bigint): Promise<boolean> {
    return this.call('/v3/kv/txn', deleteIfOwnedBody(key, createRevision), decodeDeleteIfOwned);
  }
}
