/**
 * The lab's database client: inserts numbered rows through the VIP from the client namespace and
 * records which inserts were acknowledged, by which node, under which promotion.
 */
import { join } from 'node:path';
import { APP_PASSWORD, PG_BIN, inNs } from './postgres-pair.js';
import { VIP } from './topology.js';

export interface WriteResult {
  readonly n: number;
  readonly ok: boolean;
  /** When the client got the answer (ms since the writer started). */
  readonly t: number;
  readonly node?: string;
  readonly epoch?: number | null;
  /** The node of the latest promotion the serving node knew when it took the write. */
  readonly holder?: string;
  readonly error?: string;
}

/**
 * Inserts rows 1, 2, 3, ... through the VIP from the client namespace, one at a time, each with a
 * fresh psql connection (connect_timeout 1 s, killed after 3 s), until stop(). A write is
 * acknowledged when psql exits 0 and printed the row back; a failed or killed one is not (it may
 * still have committed: that is allowed, only acknowledged writes must survive).
 */
export class PgWriter {
  readonly results: WriteResult[] = [];
  private running = true;
  private readonly started = performance.now();
  private readonly done: Promise<void>;

  /** `firstN`: the first row number (a second writer on the same table starts past the first). */
  constructor(private readonly clientNs: string, private readonly firstN = 1, private readonly pauseMs = 20) {
    this.done = this.loop();
  }

  nowMs(): number { return Math.round(performance.now() - this.started); }

  get acknowledged(): WriteResult[] { return this.results.filter((r) => r.ok); }

  private async loop(): Promise<void> {
    for (let n = this.firstN; this.running; n++) {
      // The epoch and node of the latest promotion this server knows (haagent.epoch.seq is a
      // replicated sequence, so it orders promotions across nodes; each agent counts its own epochs).
      const latest = "(SELECT coalesce(epoch::text, 'null') || '@' || node FROM haagent.epoch ORDER BY seq DESC LIMIT 1)";
      const sql = `WITH p AS (SELECT ${latest} AS holder) INSERT INTO writes (n, node, epoch) SELECT ${n}, current_setting('cluster_name'), nullif(split_part(holder, '@', 1), 'null')::bigint FROM p `
        + `RETURNING n, node, (SELECT holder FROM p)`;
      const r = await inNs(this.clientNs, join(PG_BIN, 'psql'), [`host=${VIP} port=5432 user=app dbname=app connect_timeout=1`, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], 3000, { PGPASSWORD: APP_PASSWORD });
      const [rn, node, holder] = (r.out.split('\n')[0] ?? '').trim().split('|'); // stdout comes first; a FATAL on stderr may follow
      const ok = r.code === 0 && rn === String(n) && node !== undefined;
      const [epoch, holderNode] = (holder ?? '').split('@');
      this.results.push(ok
        ? { n, ok, t: this.nowMs(), node, epoch: epoch === 'null' || epoch === undefined || epoch === '' ? null : Number(epoch), holder: holderNode ?? '' }
        : { n, ok, t: this.nowMs(), error: r.out.trim().slice(0, 200) });
      await new Promise((res) => setTimeout(res, this.pauseMs));
    }
  }

  /** Resolves once some write after `afterMs` was acknowledged by `node` (bounded by the caller). */
  ackedAfter(afterMs: number, node?: string): WriteResult | undefined {
    return this.results.find((r) => r.ok && r.t > afterMs && (node === undefined || r.node === node));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

