/**
 * Watches who holds the VIP in the etcd lab: every `periodMs` (10 ms by default) all hosts are
 * asked at once, each through a long-lived `ip -n NS -j -force -batch -` (no fork per sample;
 * `stdbuf -oL` makes ip answer line by line). A host that does not answer within the timeout
 * gets its process killed and a fresh one next time; its sample is `null`, never a stale
 * answer. The analysis is pure: overlaps (two holders in one tick) and when service resumed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

class IpLines {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: ((line: string | undefined) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ns: string) {}

  private ensure(): ChildProcessWithoutNullStreams {
    const live = this.child;
    if (live !== undefined && live.exitCode === null && live.signalCode === null) return live;
    const c = spawn('stdbuf', ['-oL', 'ip', '-n', this.ns, '-j', '-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    c.stdin.on('error', () => undefined);
    c.stderr.resume();
    createInterface({ input: c.stdout }).on('line', (line) => { if (c === this.child) this.settle(line); });
    c.once('exit', () => { if (c === this.child) { this.child = undefined; this.settle(undefined); } });
    this.child = c;
    return c;
  }

  private settle(line: string | undefined): void {
    const p = this.pending;
    this.pending = undefined;
    clearTimeout(this.timer);
    p?.(line);
  }

  query(command: string, timeoutMs: number): Promise<string | undefined> {
    if (this.pending !== undefined) return Promise.resolve(undefined);
    const c = this.ensure();
    return new Promise((resolve) => {
      this.pending = resolve;
      this.timer = setTimeout(() => {
        this.pending = undefined;
        const k = this.child;
        this.child = undefined;
        k?.kill('SIGKILL');
        resolve(undefined);
      }, timeoutMs);
      c.stdin.write(`${command}\n`);
    });
  }

  close(): void {
    this.settle(undefined);
    const c = this.child;
    this.child = undefined;
    c?.stdin.end();
    c?.kill('SIGTERM');
  }
}

export interface VipTick {
  /** performance.now() when the tick was asked. */
  readonly t: number;
  /** Per host name: holds the VIP, or null (no answer). */
  readonly held: Readonly<Record<string, boolean | null>>;
}

/** True when `json` (one `ip -j addr show` answer) lists `vip`. */
export function listsVip(json: string, vip: string): boolean {
  const parsed = JSON.parse(json) as Array<{ addr_info?: Array<{ local?: string }> }>;
  return parsed.some((l) => (l.addr_info ?? []).some((a) => a.local === vip));
}

export class VipSampler {
  readonly ticks: VipTick[] = [];
  private readonly lines: Map<string, IpLines>;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(hosts: ReadonlyArray<{ readonly name: string; readonly ns: string }>, private readonly vip: string, private readonly periodMs = 10, private readonly dev = 'eth0') {
    this.lines = new Map(hosts.map((h) => [h.name, new IpLines(h.ns)]));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t = performance.now();
        const answers = await Promise.all([...this.lines].map(async ([name, l]) => {
          const a = await l.query(`addr show dev ${this.dev}`, 500);
          let held: boolean | null = null;
          try { held = a === undefined ? null : listsVip(a, this.vip); } catch { held = null; }
          return [name, held] as const;
        }));
        this.ticks.push({ t, held: Object.fromEntries(answers) });
        const wait = this.periodMs - (performance.now() - t);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const l of this.lines.values()) l.close();
  }

  /** Ticks at or after `fromMs`. */
  since(fromMs: number): VipTick[] {
    return this.ticks.filter((k) => k.t >= fromMs);
  }
}

/** Ticks in which more than one host held the VIP. */
export function overlaps(ticks: readonly VipTick[]): VipTick[] {
  return ticks.filter((k) => Object.values(k.held).filter((h) => h === true).length > 1);
}

/** Holders (names) in a tick. */
export function holders(k: VipTick): string[] {
  return Object.entries(k.held).filter(([, h]) => h === true).map(([n]) => n);
}

/**
 * The first tick at or after `fromMs` from which `host` holds the VIP for good (to the end of
 * the series), or undefined.
 */
export function servesFrom(ticks: readonly VipTick[], host: string, fromMs: number): number | undefined {
  let start: number | undefined;
  for (const k of ticks) {
    if (k.t < fromMs) continue;
    if (k.held[host] === true) start ??= k.t;
    else if (k.held[host] === false) start = undefined;
  }
  return start;
}
