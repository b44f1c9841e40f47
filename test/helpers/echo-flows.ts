/**
 * Long-lived TCP flows for the connection-sync tests, run inside a lab namespace with
 * runTsChild (one JSON object per line on stdout).
 *
 *   echo-flows.ts server NAME PORT        an echo server that first sends "NAME\n"
 *   echo-flows.ts client HOST PORT N MS   N connections; each reads the server's name, then
 *                                         sends "1\n", "2\n", ... every MS ms and checks that
 *                                         the echoes come back in order, none lost or doubled
 *
 * The client prints {type:'ready', servers} once every connection has its greeting, and a
 * {type:'report', flows} line for each {cmd:'report'} line on stdin; it exits when stdin ends.
 */
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface FlowReport {
  readonly server: string | null;
  readonly sent: number;
  readonly echoed: number;
  /** Echoes that were not the next expected line (a lost or doubled line). */
  readonly mismatches: number;
  /** The socket error that ended the flow (ECONNRESET...), or 'closed' for a clean end. */
  readonly error: string | null;
  /** Time since the last echo (or the greeting). */
  readonly silentMs: number;
  /** Longest wait between two echoes since the last report. */
  readonly maxGapMs: number;
}

function out(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function server(name: string, port: number): void {
  createServer((s) => {
    s.on('error', () => s.destroy());
    s.write(`${name}\n`);
    s.pipe(s);
  }).listen(port, '0.0.0.0', () => out({ type: 'listening' }));
}

class Flow {
  server: string | null = null;
  sent = 0;
  echoed = 0;
  mismatches = 0;
  error: string | null = null;
  lastMs = performance.now();
  maxGapMs = 0;
  private buf = '';

  constructor(readonly socket: Socket, private readonly onGreeting: () => void) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.data(d));
    socket.on('error', (e: NodeJS.ErrnoException) => { this.error ??= e.code ?? e.message; });
    socket.on('close', () => { this.error ??= 'closed'; });
  }

  private data(d: string): void {
    this.buf += d;
    let nl = this.buf.indexOf('\n');
    while (nl !== -1) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const now = performance.now();
      this.maxGapMs = Math.max(this.maxGapMs, now - this.lastMs);
      this.lastMs = now;
      if (this.server === null) {
        this.server = line;
        this.onGreeting();
      } else if (line === String(this.echoed + 1)) this.echoed += 1;
      else this.mismatches += 1;
      nl = this.buf.indexOf('\n');
    }
  }

  tick(): void {
    if (this.server === null || this.error !== null) return;
    this.sent += 1;
    this.socket.write(`${this.sent}\n`);
  }

  report(now: number): FlowReport {
    const r = { server: this.server, sent: this.sent, echoed: this.echoed, mismatches: this.mismatches, error: this.error, silentMs: Math.round(now - this.lastMs), maxGapMs: Math.round(this.maxGapMs) };
    this.maxGapMs = 0;
    return r;
  }
}

function client(host: string, port: number, n: number, everyMs: number): void {
  let greeted = 0;
  const flows: Flow[] = [];
  const ready = (): void => {
    greeted += 1;
    if (greeted !== n) return;
    const servers: Record<string, number> = {};
    for (const f of flows) servers[f.server ?? '?'] = (servers[f.server ?? '?'] ?? 0) + 1;
    out({ type: 'ready', servers });
  };
  // One after another, so round-robin alternates the real servers.
  const open = (i: number): void => {
    if (i === n) return;
    const s = connect({ host, port }, () => open(i + 1));
    s.setNoDelay(true);
    flows.push(new Flow(s, ready));
  };
  open(0);
  const timer = setInterval(() => { for (const f of flows) f.tick(); }, everyMs);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if ((JSON.parse(line) as { cmd?: string }).cmd === 'report') {
      const now = performance.now();
      out({ type: 'report', flows: flows.map((f) => f.report(now)) });
    }
  }).on('close', () => {
    clearInterval(timer);
    for (const f of flows) f.socket.destroy();
    process.exit(0);
  });
}

const [mode, a, b, c, d] = process.argv.slice(2);
if (mode === 'server') server(a ?? 'unknown', Number(b));
else if (mode === 'client') client(a ?? '127.0.0.1', Number(b), Number(c), Number(d));
else {
  process.stderr.write('usage: echo-flows.ts server NAME PORT | client HOST PORT N MS\n');
  process.exit(2);
}
