/**
 * Fencing epochs, persisted: one small JSON file per instance under the state directory,
 * `{ "epoch": N, "maxSeen": M }`. Each time the node becomes master it takes an epoch greater than
 * any it has held or seen from a peer, and writes it durably (temp file, fsync, rename, fsync
 * of the directory) before the VIPs are added, so an application can refuse a stale master.
 *
 * Contract: `bump()` never returns a value it returned before, across restarts, as long as the
 * state directory survives. An unreadable file is an error at start (never silently 0).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HaagentError } from '../core/errors.js';

export interface EpochPort {
  /** The epoch this node holds (0 = never master). */
  current(): number;
  /** The highest epoch seen from any peer. */
  maxSeen(): number;
  /** Becoming master: max(current, maxSeen) + 1, persisted before it is returned. */
  bump(): number;
  /** A peer reported this epoch. */
  observe(epoch: number): void;
}

export class FileEpochStore implements EpochPort {
  private epoch = 0;
  private seen = 0;

  constructor(private readonly dir: string, private readonly instance: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let text: string | undefined;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new HaagentError('HA_ERR_CONFIG', `cannot read the epoch file ${this.path}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (text !== undefined) {
      let v: unknown;
      try { v = JSON.parse(text); } catch { v = undefined; }
      const o = v as { epoch?: unknown; maxSeen?: unknown } | undefined;
      if (o === undefined || !Number.isSafeInteger(o.epoch) || !Number.isSafeInteger(o.maxSeen) || (o.epoch as number) < 0 || (o.maxSeen as number) < 0) {
        throw new HaagentError('HA_ERR_CONFIG', `the epoch file ${this.path} is corrupt (expected {"epoch":N,"maxSeen":M}); fix or remove it`);
      }
      this.epoch = o.epoch as number;
      this.seen = o.maxSeen as number;
    }
  }

  private get path(): string {
    return join(this.dir, `${this.instance.replace(/[^A-Za-z0-9_.-]/g, '_')}.epoch.json`);
  }

  current(): number {
    return this.epoch;
  }

  maxSeen(): number {
    return this.seen;
  }

  bump(): number {
    const next = Math.max(this.epoch, this.seen) + 1;
    this.write(next, this.seen);
    this.epoch = next;
    return next;
  }

  observe(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch <= this.seen) return;
    this.seen = epoch;
    this.write(this.epoch, epoch);
  }

  private write(epoch: number, maxSeen: number): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ epoch, maxSeen })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dfd = openSync(this.dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  }
}

/** An in-memory store (tests, and `--state-dir` not writable is an error instead). */
export class MemoryEpochStore implements EpochPort {
  private epoch = 0;
  private seen = 0;
  current(): number { return this.epoch; }
  maxSeen(): number { return this.seen; }
  bump(): number { this.epoch = Math.max(this.epoch, this.seen) + 1; return this.epoch; }
  observe(epoch: number): void { if (epoch > this.seen) this.seen = epoch; }
}
