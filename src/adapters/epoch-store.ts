/**
 * Fencing epochs, persisted: one small JSON file per instance under the state directory,
 * `{ "epoch": N, "maxSeen": M }`. Each time the node becomes master it takes an epoch greater than
 * any it has held or seen from a peer, and writes it durably (temp file, fsync, rename, fsync
 * of the directory) before the VIPs are added, so an application can refuse a stale master.
 *
 * Contract of FileEpochStore:
 * - `bump()` returns max(current, maxSeen) + 1 and never more than MAX_EPOCH: at the bound it
 *   throws HaagentError('HA_ERR_LIMIT') instead (the caller must not become master). Below it,
 *   bump() never throws: the write is synchronous and, when it works, durable before bump()
 *   returns; when it fails (ENOSPC, EROFS, EIO...) the new epoch is held in memory, `health()`
 *   reports `persisted: false` with the file and errno, listeners are told, and the write is
 *   retried with a bounded backoff (doubling up to `retryMaxMs`) until it succeeds.
 *   Policy, availability first: a backup whose disk is full still takes over (the VIP must not
 *   stay unheld). The price: if the node crashes and restarts before a retry succeeds, it may
 *   take the same epoch again. Peers mitigate it: every peer keeps the highest epoch it heard
 *   (maxSeen, in its hellos), so the other node's next takeover is above it, and this node learns
 *   it back from the peers' hellos.
 * - `observe(epoch)` updates maxSeen in memory at once; the file follows at most once per
 *   `observeWriteIntervalMs` with the latest value (peers reporting rising epochs must not cost
 *   one fsync each on the event loop). A bump folds any pending observed value into its write.
 *   Epochs outside 0..MAX_EPOCH or not integers are ignored.
 * - A missing file is a fresh node (epoch 0). A corrupt or unreadable file never stops the start:
 *   it is moved aside to `<name>.corrupt-<ms since 1970>` (never deleted), `health()` reports it
 *   for the life of the process, and what this node held is treated as unknown: maxSeen is
 *   raised to a floor, the wall clock in milliseconds, and written at once. The next epoch is
 *   then above the floor. This is sound as long as the wall clock is not behind the one of
 *   earlier runs and the cluster took fewer than one epoch per millisecond on average (a
 *   takeover needs at least a Master_Down_Interval, 30 ms or more), so nothing this node could
 *   have held is at or above the floor. Epochs stay far below MAX_EPOCH this way (about 1.8e12
 *   in 2026; 2^48 is about 2.8e14).
 * - Files: the temp file is created with O_CREAT|O_EXCL|O_NOFOLLOW (a stale temp, or a link
 *   planted at its name, is unlinked first, never followed), mode 0600; the epoch file is read
 *   with O_NOFOLLOW; the directory is opened with O_DIRECTORY|O_NOFOLLOW for its fsync. The
 *   state directory must be private (ensurePrivateDir): an insecure one throws HA_ERR_INSECURE
 *   from the constructor, which is the only thing it throws.
 * Deliberately not done: locking against a second agent on the same directory (the control
 * socket already refuses a second agent), and any attempt to guess a lost epoch from peers at
 * start (they are heard within one advert interval anyway).
 */
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HaagentError } from '../core/errors.js';
import { HELLO_MAX_EPOCH } from '../core/peer/hello.js';
import { ensurePrivateDir } from './secure-dir.js';

/** Upper bound of a fencing epoch: well inside the integers a double holds exactly. */
export const MAX_EPOCH = HELLO_MAX_EPOCH;

/** Longest epoch file we read; anything longer is corrupt. */
const MAX_FILE_BYTES = 4096;

/** The store's persistence state, for status, logs and events. */
export interface EpochHealth {
  /** The epoch currently held is on disk (false while its write is failing). */
  readonly persisted: boolean;
  /** The failing write: file, errno and what is held in memory; absent once a write worked. */
  readonly writeError?: string;
  /** The corrupt or unreadable file found at start and where it went (kept for the process's life). */
  readonly recovered?: string;
}

export interface EpochPort {
  /** The epoch this node holds (0 = never master). */
  current(): number;
  /** The highest epoch seen from any peer (or the recovery floor after a corrupt file). */
  maxSeen(): number;
  /**
   * Becoming master: max(current, maxSeen) + 1, persisted before it is returned when the disk
   * allows (see the store's policy). Throws HA_ERR_LIMIT at MAX_EPOCH, nothing else.
   */
  bump(): number;
  /** A peer reported this epoch. Never throws. */
  observe(epoch: number): void;
  /** Persistence state (memory-only stores always report persisted). */
  health(): EpochHealth;
  /** `listener` is called when a write starts failing (or fails differently) and when one works again. */
  onHealth(listener: (h: EpochHealth) => void): void;
  /** Stops the retry and flush timers after one last best-effort write. Idempotent. */
  close(): void;
}

/** Writes `text` as `dir/name` durably; throws the system error on failure. */
export type DurableWriter = (dir: string, name: string, text: string) => void;

export interface FileEpochStoreOptions {
  /** At most one write per this interval for observed epochs (ms); default 1000. */
  readonly observeWriteIntervalMs?: number;
  /** First retry after a failed write (ms), doubled each time up to retryMaxMs; default 250. */
  readonly retryMinMs?: number;
  /** Longest wait between two retries (ms); default 10 000. */
  readonly retryMaxMs?: number;
  /** Wall clock in ms since 1970 (the recovery floor, the corrupt file's suffix); default Date.now. */
  readonly wallClockMs?: () => number;
  /** The file writer; default writeFileDurably. Tests inject failures and count writes. */
  readonly writer?: DurableWriter;
}

const errnoOf = (err: unknown): string => (err as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';

/**
 * Temp file (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), fsync, rename over `name`, fsync of `dir`.
 * A temp of the same name left by a crash (or a link planted there) is unlinked first; unlink
 * removes a link itself, never its target. On failure the temp is removed and the error thrown.
 */
export const writeFileDurably: DurableWriter = (dir, name, text) => {
  const tmp = join(dir, `${name}.tmp`);
  try { unlinkSync(tmp); } catch (err) { if (errnoOf(err) !== 'ENOENT') throw err; }
  const fd = openSync(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_WRONLY, 0o600);
  try {
    try {
      const buf = Buffer.from(text);
      for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, name));
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  const dfd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
};

type ReadResult = { kind: 'missing' } | { kind: 'ok'; epoch: number; maxSeen: number } | { kind: 'bad'; why: string };

/** Reads and validates the epoch file without following a link; never throws. */
function readEpochFile(path: string): ReadResult {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', why: `cannot open it (${errnoOf(err)}${errnoOf(err) === 'ELOOP' ? ': it is a symbolic link' : ''})` };
  }
  let text: string;
  try {
    if (!fstatSync(fd).isFile()) return { kind: 'bad', why: 'it is not a regular file' };
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let len = 0;
    for (let n = -1; n !== 0 && len < buf.length;) { n = readSync(fd, buf, len, buf.length - len, null); len += n; }
    if (len > MAX_FILE_BYTES) return { kind: 'bad', why: `it is longer than ${MAX_FILE_BYTES} bytes` };
    text = buf.subarray(0, len).toString('utf8');
  } catch (err) {
    return { kind: 'bad', why: `cannot read it (${errnoOf(err)})` };
  } finally {
    closeSync(fd);
  }
  let v: unknown;
  try { v = JSON.parse(text); } catch { v = undefined; }
  const o = typeof v === 'object' && v !== null ? v as { epoch?: unknown; maxSeen?: unknown } : {};
  const valid = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= MAX_EPOCH;
  if (!valid(o.epoch) || !valid(o.maxSeen)) return { kind: 'bad', why: `its content is not {"epoch":N,"maxSeen":M} with 0 <= N, M <= ${MAX_EPOCH}` };
  return { kind: 'ok', epoch: o.epoch, maxSeen: o.maxSeen };
}

export class FileEpochStore implements EpochPort {
  private epoch = 0;
  private seen = 0;
  /** What the file holds (as far as we know): compared with memory to know what to write. */
  private diskEpoch = 0;
  private diskSeen = 0;
  private writeError: string | undefined;
  private readonly recovered: string | undefined;
  private retryMs: number;
  private lastWriteAtMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly listeners: Array<(h: EpochHealth) => void> = [];
  private readonly name: string;
  private readonly writer: DurableWriter;
  private readonly observeWriteIntervalMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;

  /** Throws HA_ERR_INSECURE / HA_ERR_STATE when the directory is not private or cannot be made; nothing else. */
  constructor(private readonly dir: string, private readonly instance: string, opts: FileEpochStoreOptions = {}) {
    this.writer = opts.writer ?? writeFileDurably;
    this.observeWriteIntervalMs = opts.observeWriteIntervalMs ?? 1000;
    this.retryMinMs = opts.retryMinMs ?? 250;
    this.retryMaxMs = Math.max(this.retryMinMs, opts.retryMaxMs ?? 10_000);
    this.retryMs = this.retryMinMs;
    this.name = `${instance.replace(/[^A-Za-z0-9_.-]/g, '_')}.epoch.json`;
    ensurePrivateDir(dir, 'state directory');
    const r = readEpochFile(this.path);
    if (r.kind === 'ok') {
      this.epoch = this.diskEpoch = r.epoch;
      this.seen = this.diskSeen = r.maxSeen;
    } else if (r.kind === 'bad') {
      const nowMs = Math.floor((opts.wallClockMs ?? Date.now)());
      const aside = `${this.path}.corrupt-${nowMs}`;
      let where: string;
      try {
        renameSync(this.path, aside);
        where = `moved aside to ${aside}`;
      } catch (err) {
        where = `could not be moved aside (${errnoOf(err)}); it will be replaced`;
      }
      // What this node held is unknown: take the wall clock as a floor (see the module comment).
      this.seen = Math.min(MAX_EPOCH - 1, Math.max(0, nowMs));
      this.diskSeen = -1; // the floor is not on disk yet
      this.recovered = `the epoch file ${this.path} was unusable (${r.why}) and ${where}; the next epoch will be above the wall-clock floor ${this.seen}`;
      this.persist();
    }
  }

  /** The epoch file's path. */
  get path(): string {
    return join(this.dir, this.name);
  }

  current(): number {
    return this.epoch;
  }

  maxSeen(): number {
    return this.seen;
  }

  health(): EpochHealth {
    return {
      persisted: this.diskEpoch === this.epoch,
      ...(this.writeError === undefined ? {} : { writeError: this.writeError }),
      ...(this.recovered === undefined ? {} : { recovered: this.recovered }),
    };
  }

  onHealth(listener: (h: EpochHealth) => void): void {
    this.listeners.push(listener);
  }

  bump(): number {
    const base = Math.max(this.epoch, this.seen);
    if (base >= MAX_EPOCH) {
      throw new HaagentError('HA_ERR_LIMIT', `instance ${this.instance}: the fencing epoch has reached its bound ${MAX_EPOCH} (held ${this.epoch}, highest seen ${this.seen}); refusing to become master with a reused epoch`);
    }
    this.epoch = base + 1;
    this.persist();
    return this.epoch;
  }

  observe(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch <= this.seen || epoch > MAX_EPOCH) return;
    this.seen = epoch;
    this.schedule(Math.max(0, this.lastWriteAtMs + this.observeWriteIntervalMs - performance.now()));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirty()) this.persist();
  }

  private dirty(): boolean {
    return this.diskEpoch !== this.epoch || this.diskSeen !== this.seen;
  }

  /** One timer for both the coalesced observe write and the retry: a pending one is kept. */
  private schedule(waitMs: number): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.dirty()) this.persist();
    }, waitMs);
    this.timer.unref();
  }

  /** Writes what memory holds now; never throws. A failure is recorded and retried. */
  private persist(): void {
    const epoch = this.epoch;
    const seen = this.seen;
    this.lastWriteAtMs = performance.now();
    try {
      this.writer(this.dir, this.name, `${JSON.stringify({ epoch, maxSeen: seen })}\n`);
    } catch (err) {
      const wait = this.retryMs;
      this.retryMs = Math.min(this.retryMaxMs, this.retryMs * 2);
      const was = this.writeError;
      this.writeError = `writing ${this.path} failed (${errnoOf(err)}: ${(err as Error).message}); epoch ${epoch} and highest seen ${seen} held in memory only, retrying (at most ${this.retryMaxMs} ms apart)`;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.schedule(wait);
      // Listeners hear of a new problem, not of each failed retry of the same one.
      if (this.writeError !== was) this.tell();
      return;
    }
    this.diskEpoch = epoch;
    this.diskSeen = seen;
    this.retryMs = this.retryMinMs;
    if (this.writeError !== undefined) {
      this.writeError = undefined;
      this.tell();
    }
  }

  private tell(): void {
    const h = this.health();
    for (const l of this.listeners) {
      try { l(h); } catch { /* a listener must not break the store */ }
    }
  }
}

/** An in-memory store (tests, simulations): always "persisted", bounded like the file store. */
export class MemoryEpochStore implements EpochPort {
  private epoch = 0;
  private seen = 0;
  current(): number { return this.epoch; }
  maxSeen(): number { return this.seen; }
  bump(): number {
    const base = Math.max(this.epoch, this.seen);
    if (base >= MAX_EPOCH) throw new HaagentError('HA_ERR_LIMIT', `the fencing epoch has reached its bound ${MAX_EPOCH}`);
    this.epoch = base + 1;
    return this.epoch;
  }
  observe(epoch: number): void { if (Number.isSafeInteger(epoch) && epoch > this.seen && epoch <= MAX_EPOCH) this.seen = epoch; }
  health(): EpochHealth { return { persisted: true }; }
  onHealth(): void { /* never changes */ }
  close(): void { /* nothing to stop */ }
}
