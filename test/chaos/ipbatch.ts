/**
 * A long-lived `ip -n NS -j -force -batch -` per namespace, fed one command at a time: the same
 * dump as `ip -n NS -j addr show dev ext0`, without a fork/exec per sample (the chaos sampler
 * asks 50 times a second per host). `stdbuf -oL` makes ip flush each answer (one JSON line per
 * command). One question in flight at a time; a question without an answer within the timeout
 * kills the process (the next question starts a fresh one), so answers never get out of step.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

interface Pending {
  readonly resolve: (line: string | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

export class IpBatch {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: Pending | undefined;
  private closed = false;
  /** Processes started (1 in a healthy run; more means answers timed out). */
  starts = 0;

  constructor(readonly ns: string) {}

  private ensure(): ChildProcessWithoutNullStreams {
    const live = this.child;
    if (live !== undefined && live.exitCode === null && live.signalCode === null) return live;
    const c = spawn('stdbuf', ['-oL', 'ip', '-n', this.ns, '-j', '-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.starts++;
    c.stdin.on('error', () => undefined); // EPIPE when it died; the timeout answers
    c.stderr.resume();
    createInterface({ input: c.stdout }).on('line', (line) => {
      if (c !== this.child) return;
      this.settle(line);
    });
    c.once('exit', () => {
      if (c !== this.child) return;
      this.child = undefined;
      this.settle(undefined);
    });
    this.child = c;
    return c;
  }

  private settle(line: string | undefined): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(line);
  }

  private kill(): void {
    const c = this.child;
    this.child = undefined;
    c?.kill('SIGKILL');
  }

  /** One command (e.g. `addr show dev ext0`) -> its JSON line, or undefined (busy, timeout, closed). */
  query(command: string, timeoutMs = 500): Promise<string | undefined> {
    if (this.closed || this.pending !== undefined) return Promise.resolve(undefined);
    const c = this.ensure();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.kill();
        resolve(undefined);
      }, timeoutMs);
      this.pending = { resolve, timer };
      c.stdin.write(`${command}\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.settle(undefined);
    const c = this.child;
    this.child = undefined;
    if (c !== undefined) {
      c.stdin.end();
      c.kill('SIGTERM');
    }
  }
}
