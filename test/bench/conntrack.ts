/**
 * The connection-sync part of `npm run bench`: in one two-host lab (namespaces `habct*`), the
 * scenario of the namespace test (test/helpers/conntrack-lab.ts: 50 long-lived flows through
 * VIP:8080 over echo servers on both hosts, strict firewall) for a planned switchover and a
 * crash (kill -9 + links down), with and without conntrack-sync, N runs each:
 *   - flows that continue after the move (of 50; after a crash only the flows whose real
 *     server is alive can), and the longest echo gap of a continued flow;
 *   - the new master's takeover time, from its "BACKUP -> MASTER" log line to its "VIPs added"
 *     line (agent timestamps), with and without sync: the difference is what the commit costs;
 *   - the commit itself (`conntrackd -c`, from status `lastCommit.durationMs`).
 * `cleanup()` removes everything, also on Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { ip } from '../../src/lab/sh.js';
import { LabTopology } from '../../src/lab/topology.js';
import { FLOATING, FLOWS, runScenario, startEchoServers, strictHost, type Move } from '../helpers/conntrack-lab.js';

export interface CtCase {
  readonly sync: boolean;
  readonly move: Move;
  /** Per run: flows that continued, of those whose server stayed alive. */
  readonly continued: number[];
  readonly alive: number[];
  readonly maxGapMs: number[];
  readonly takeoverMs: number[];
  readonly commitMs: number[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] ?? Number.NaN);
}

/** "BACKUP -> MASTER" to "VIPs added" in the agent's own log (ms), or NaN. */
function takeoverMs(agent: RunningAgent): number {
  const at = (pred: (msg: string) => boolean): number => {
    const l = [...agent.logs].reverse().find((x) => typeof x['msg'] === 'string' && pred(x['msg']));
    return l === undefined ? Number.NaN : Date.parse(String(l['time']));
  };
  return at((m) => m === 'VIPs added') - at((m) => m.includes('-> MASTER'));
}

export class CtBench {
  readonly topo = new LabTopology(`habct${process.pid % 10000}`);
  private echo: ChildProcess[] = [];

  constructor(private readonly runs: number, private readonly say: (l: string) => void) {}

  async run(): Promise<CtCase[]> {
    await this.topo.create();
    for (const h of this.topo.hosts) await strictHost(h);
    this.echo = startEchoServers(this.topo);
    const cases: CtCase[] = [];
    for (const sync of [true, false]) {
      for (const move of ['switchover', 'crash'] as const) {
        const c: CtCase = { sync, move, continued: [], alive: [], maxGapMs: [], takeoverMs: [], commitMs: [] };
        for (let i = 0; i < this.runs; i++) {
          const cluster = new LabCluster(this.topo);
          try {
            const r = await runScenario(cluster, this.topo, { sync, move });
            const alive = move === 'crash' ? r.after.filter((f) => f.server === 'h2') : r.after;
            c.continued.push(alive.filter((f) => r.continued(f)).length);
            c.alive.push(alive.length);
            c.maxGapMs.push(r.maxGapMs);
            c.takeoverMs.push(takeoverMs(r.newAgent));
            const commit = r.newMaster.instances[0]?.conntrackSync?.lastCommit;
            if (commit !== null && commit !== undefined) c.commitMs.push(commit.durationMs);
            this.say(`conntrack: ${move}, sync ${sync ? 'on' : 'off'}, run ${i + 1}: ${c.continued.at(-1)}/${alive.length} continued`);
          } finally {
            await cluster.stopAll();
            for (const h of this.topo.hosts) {
              await this.topo.linksUp(h);
              await ip('-n', h.ns, 'addr', 'del', `${FLOATING}/24`, 'dev', 'int0').catch(() => undefined);
            }
          }
        }
        cases.push(c);
      }
    }
    return cases;
  }

  async cleanup(): Promise<void> {
    for (const e of this.echo) e.kill('SIGKILL');
    await this.topo.destroy();
  }
}

export function printCt(cases: readonly CtCase[], out: (l: string) => void): void {
  out('');
  out(`connection sync (conntrackd FTFW): ${FLOWS} flows through VIP:8080 over echo servers on both hosts, a line every 10 ms each; strict firewall (tcp_loose=0)`);
  out('continued = flows still echoing, no reset, no lost or doubled line (crash: of the flows whose server is alive); takeover = new master\'s "-> MASTER" to "VIPs added"');
  for (const c of cases) {
    const cont = c.continued.map((n, i) => `${n}/${c.alive[i] ?? '?'}`).join(' ');
    const commit = c.commitMs.length === 0 ? '' : `, commit median ${median(c.commitMs)} ms`;
    out(`  ${c.move.padEnd(10)} sync ${c.sync ? 'on ' : 'off'}: continued ${cont}; longest gap median ${median(c.maxGapMs)} ms; takeover median ${median(c.takeoverMs)} ms${commit}`);
  }
  const take = (sync: boolean): number => median(cases.filter((c) => c.sync === sync).flatMap((c) => c.takeoverMs));
  out(`  extra takeover time with sync (median on - off): ${take(true) - take(false)} ms`);
}

export function ctJson(cases: readonly CtCase[]): Record<string, unknown>[] {
  return cases.map((c) => ({
    move: c.move, sync: c.sync, continued: c.continued, alive: c.alive,
    maxGapMsMedian: median(c.maxGapMs), takeoverMsMedian: median(c.takeoverMs), commitMsMedian: c.commitMs.length === 0 ? null : median(c.commitMs),
  }));
}
