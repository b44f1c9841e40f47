/**
 * Who answers ARP for the VIP, as a client on the external network sees it: a requester in the
 * client namespace broadcasts "who-has VIP" every ~20 ms (arp-requester.ts) and tcpdump in the
 * same namespace records requests and replies with kernel timestamps (one clock, epoch ms).
 * The analysis is pure and works on the parsed capture: which MACs answered, and whether an
 * old master still answered after the new one had started to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { distPath } from '../../src/lab/cluster.js';
import { packageRoot } from '../../src/adapters/package-info.js';
import { join } from 'node:path';

export interface ArpEvent {
  /** Kernel timestamp, epoch ms. */
  readonly t: number;
  readonly kind: 'request' | 'reply';
  /** reply: the MAC it claims for the VIP; request: the sender's MAC. */
  readonly mac: string;
  /** Ethernet destination (a reply to us, or broadcast for a gratuitous one). */
  readonly dst: string;
}

const LINE = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype ARP \(0x0806\), length \d+: (Request who-has (\S+) tell (\S+)|Reply (\S+) is-at ([0-9a-f:]{17}))/;

/** One `tcpdump -n -e -tt` line about `vip`, or undefined (other lines, other addresses). */
export function parseArpLine(line: string, vip: string): ArpEvent | undefined {
  const m = LINE.exec(line);
  if (m === null) return undefined;
  const t = Number(m[1]) * 1000;
  if (m[5] !== undefined) return m[5] === vip ? { t, kind: 'request', mac: m[2] ?? '', dst: m[3] ?? '' } : undefined;
  return m[7] === vip ? { t, kind: 'reply', mac: m[8] ?? '', dst: m[3] ?? '' } : undefined;
}

export interface ArpHandover {
  /** First reply from `newMac` at or after `fromT` (epoch ms), if any. */
  readonly firstNewT?: number;
  /** Last reply from `oldMac` at or after `fromT`, if any. */
  readonly lastOldT?: number;
  /** Replies from the old MAC after the new MAC first answered. */
  readonly oldAfterNew: number;
  /** ms from the new MAC's first reply to the old MAC's last one (0 when none came after). */
  readonly dualMs: number;
  /** Request periods answered by both MACs. */
  readonly dualPeriods: number;
  /** ms from the old MAC's last reply before the new MAC's first reply to that first reply: nobody answered. */
  readonly darkMs?: number;
  /** Requests sent from fromT on (sampler health). */
  readonly requests: number;
}

/** Replies (to our requests: dst = the requester) grouped by the request period they fall in. */
export function arpHandover(events: readonly ArpEvent[], oldMac: string, newMac: string, fromT: number): ArpHandover {
  const evs = events.filter((e) => e.t >= fromT);
  const requests = evs.filter((e) => e.kind === 'request');
  const me = requests[0]?.mac;
  const replies = evs.filter((e) => e.kind === 'reply' && (me === undefined || e.dst === me));
  const firstNewT = replies.find((e) => e.mac === newMac)?.t;
  const old = replies.filter((e) => e.mac === oldMac);
  const lastOldT = old[old.length - 1]?.t;
  const after = firstNewT === undefined ? [] : old.filter((e) => e.t > firstNewT);
  let dualPeriods = 0;
  for (let i = 0; i < requests.length; i++) {
    const from = (requests[i] as ArpEvent).t;
    const to = requests[i + 1]?.t ?? Infinity;
    const macs = new Set(replies.filter((e) => e.t >= from && e.t < to).map((e) => e.mac));
    if (macs.has(oldMac) && macs.has(newMac)) dualPeriods++;
  }
  const lastOldBefore = firstNewT === undefined ? undefined : old.filter((e) => e.t < firstNewT).pop()?.t;
  return {
    ...(firstNewT === undefined ? {} : { firstNewT }),
    ...(lastOldT === undefined ? {} : { lastOldT }),
    oldAfterNew: after.length,
    dualMs: firstNewT !== undefined && lastOldT !== undefined ? Math.max(0, lastOldT - firstNewT) : 0,
    dualPeriods,
    ...(firstNewT !== undefined && lastOldBefore !== undefined ? { darkMs: firstNewT - lastOldBefore } : {}),
    requests: requests.length,
  };
}

function requesterPath(): string {
  return join(packageRoot(), 'dist', 'test', 'chaos', 'arp-requester.js');
}

/** tcpdump + requester in namespace `ns` on `ifname`; `stop()` returns the capture. */
export class ArpWatch {
  readonly events: ArpEvent[] = [];
  private dump: ChildProcess | undefined;
  private requester: ChildProcess | undefined;
  private closed: Promise<void> = Promise.resolve();

  constructor(private readonly ns: string, private readonly ifname: string, private readonly sender: string, private readonly vip: string, private readonly periodMs = 20) {}

  /** Resolves once tcpdump listens and the requester's first request has been captured. */
  async start(): Promise<void> {
    distPath('cli', 'main.js'); // the compiled tree must exist
    const dump = spawn('ip', ['netns', 'exec', this.ns, 'tcpdump', '-l', '-n', '-e', '-tt', '--immediate-mode', '-i', this.ifname, 'arp'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.dump = dump;
    const rl = createInterface({ input: dump.stdout });
    rl.on('line', (line) => {
      const ev = parseArpLine(line, this.vip);
      if (ev !== undefined) this.events.push(ev);
    });
    this.closed = new Promise((res) => rl.once('close', res));
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
      dump.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        if (err.includes('listening on')) { clearTimeout(timer); resolve(); }
      });
      dump.once('exit', (code) => { clearTimeout(timer); reject(new Error(`tcpdump exited ${String(code)}: ${err}`)); });
    });
    this.requester = spawn('ip', ['netns', 'exec', this.ns, process.execPath, requesterPath(), this.ifname, this.sender, this.vip, String(this.periodMs)], { stdio: ['ignore', 'ignore', 'inherit'] });
    const deadline = performance.now() + 15_000;
    while (!this.events.some((e) => e.kind === 'request')) {
      if (performance.now() > deadline || this.requester.exitCode !== null) throw new Error('the ARP requester sent nothing');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<ArpEvent[]> {
    const r = this.requester;
    if (r !== undefined && r.exitCode === null) {
      const gone = new Promise((res) => r.once('exit', res));
      r.kill('SIGTERM');
      await gone;
    }
    const d = this.dump;
    if (d !== undefined && d.exitCode === null) {
      await new Promise((res) => setTimeout(res, 100)); // the last replies
      const gone = new Promise((res) => d.once('exit', res));
      d.kill('SIGINT');
      await gone;
    }
    await this.closed;
    return this.events;
  }
}
