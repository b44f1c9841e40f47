/**
 * The connection-sync scenario, shared by the namespace test and the benchmark: in the
 * two-host lab, each host runs an echo server (real server, port 9000) and a strict firewall
 * (nf_conntrack_tcp_loose=0; a forward chain that accepts only established flows and new SYNs,
 * so a connection the new master has no state for is not picked up mid-stream); the agents
 * balance VIP:8080 round-robin over both echo servers, with or without `conntrack-sync`; a
 * client keeps FLOWS connections through the VIP, each sending a line every 10 ms and checking
 * its echo. Then the master goes away (planned switchover, or crash: kill -9 and links down)
 * and every flow is reported again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LabCluster, RunningAgent } from '../../src/lab/cluster.js';
import { distPath } from '../../src/lab/cluster.js';
import { run } from '../../src/lab/sh.js';
import { VIP, VIP_CIDR, type LabHost, type LabTopology } from '../../src/lab/topology.js';
import type { AgentStatus } from '../../src/core/control/types.js';
import { JsonLineChild } from './netns.js';
import { packageRoot } from '../../src/adapters/package-info.js';
import type { FlowReport } from './echo-flows.js';

export const FLOWS = 50;
export const SERVICE_PORT = 8080;
export const ECHO_PORT = 9000;
export const FLOATING = '10.66.0.100';
const LINE_EVERY_MS = 10;

export type Move = 'switchover' | 'crash';

export interface ScenarioOptions {
  readonly sync: boolean;
  readonly move: Move;
  /** The agents' advert interval (default 100ms; a loaded machine needs a longer one). */
  readonly advertInterval?: string;
}

export interface ScenarioResult {
  /** Flows per real server (host name). */
  readonly servers: Record<string, number>;
  /** Every flow just before the move (all healthy) and a few seconds after it. */
  readonly before: readonly FlowReport[];
  readonly after: readonly FlowReport[];
  /** Flows that carried on: no error, no lost or doubled line, echoes still arriving. */
  readonly continued: (f: FlowReport) => boolean;
  /** The new master's status after the move. */
  readonly newMaster: AgentStatus;
  /** The old master's agent (to read its logs on a failure). */
  readonly oldAgent: RunningAgent;
  readonly newAgent: RunningAgent;
  /** Longest echo gap of a continued flow across the move (ms). */
  readonly maxGapMs: number;
}

/** The compiled echo-flows helper (from the test's TypeScript and from the compiled benchmark alike). */
const echoFlows = (): string => resolve(packageRoot(), 'dist', 'test', 'helpers', 'echo-flows.js');

/** The strict firewall and sysctls on a host (see the module comment). */
export async function strictHost(host: LabHost): Promise<void> {
  await run('ip', ['netns', 'exec', host.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.netfilter.nf_conntrack_tcp_loose=0']);
  const dir = mkdtempSync(join(tmpdir(), 'hact-nft-'));
  try {
    const file = join(dir, 'strict.nft');
    writeFileSync(file, [
      'table inet ctstrict {',
      '  chain forward {',
      '    type filter hook forward priority 0; policy drop;',
      '    ct state established,related accept',
      '    ct state new tcp flags & (syn | ack) == syn accept',
      '  }',
      '}',
      '',
    ].join('\n'));
    await run('ip', ['netns', 'exec', host.ns, 'nft', '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The agent config of `host`: VIP:8080 over both echo servers, and conntrack-sync when `sync`. */
export function agentYaml(topo: LabTopology, host: LabHost, socket: string, priority: number, sync: boolean, advertInterval = '100ms'): string {
  const other = topo.hosts.find((h) => h !== host) ?? host;
  const servers = topo.hosts.map((h) => `          - { address: "${h.intAddress}", port: ${ECHO_PORT}, check: { type: tcp, interval: 200ms, timeout: 100ms, rise: 1, fall: 2 } }\n`).join('');
  return `socket: ${socket}
instances:
  - name: web
    vrid: 57
    interface: int0
    external: ext0
    vips: ["${VIP_CIDR}"]
    advert-interval: ${advertInterval}
    priority: ${priority}
    preempt: false
    virtual-services:
      - port: ${SERVICE_PORT}
        real-servers:
${servers}`
    + (sync ? `    conntrack-sync: { interface: int0, local: "${host.intAddress}", peer: "${other.intAddress}", snat-address: "${FLOATING}/24" }\n` : '');
}

/** Starts an echo server on every host; the caller kills them (returned). */
export function startEchoServers(topo: LabTopology): ChildProcess[] {
  return topo.hosts.map((h) => spawn('ip', ['netns', 'exec', h.ns, process.execPath, echoFlows(), 'server', h.name, String(ECHO_PORT)], { stdio: 'ignore' }));
}

type ClientLine = { type: 'ready'; servers: Record<string, number> } | { type: 'report'; flows: FlowReport[] };

export class FlowClient extends JsonLineChild<ClientLine> {
  static start(topo: LabTopology): FlowClient {
    const child = spawn('ip', ['netns', 'exec', topo.client, process.execPath, echoFlows(), 'client', VIP, String(SERVICE_PORT), String(FLOWS), String(LINE_EVERY_MS)], { stdio: 'pipe' });
    return new FlowClient(child, 'flow client');
  }

  async report(): Promise<FlowReport[]> {
    const seen = this.lines.length;
    this.command({ cmd: 'report' });
    const line = await this.waitFor((l) => l.type === 'report' && this.lines.indexOf(l) >= seen, 10_000);
    return line.type === 'report' ? line.flows : [];
  }
}

/**
 * Runs the scenario in `c` (a fresh cluster of `topo`); the caller removes the cluster.
 * Throws (with the agents' last logs) when the lab does not get ready.
 */
export async function runScenario(c: LabCluster, topo: LabTopology, opts: ScenarioOptions): Promise<ScenarioResult> {
  const files: string[] = [];
  const conf = (host: LabHost, priority: number): string => {
    const file = `/run/haagent-lab/${host.ns}-ct.yaml`;
    writeFileSync(file, agentYaml(topo, host, c.socketPath(host), priority, opts.sync, opts.advertInterval));
    files.push(file);
    return file;
  };
  try {
    return await scenario(c, topo, opts, conf);
  } finally {
    for (const f of files) rmSync(f, { force: true });
  }
}

async function scenario(c: LabCluster, topo: LabTopology, opts: ScenarioOptions, conf: (host: LabHost, priority: number) => string): Promise<ScenarioResult> {
  const [h1, h2] = topo.hosts;
  const cli = (...args: string[]): Promise<string> => run(process.execPath, [distPath('cli', 'main.js'), ...args], 20_000);
  const fail = (what: string, agents: RunningAgent[]): never => {
    throw new Error(`${what}; logs: ${agents.map((a) => a.logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')).join('\n---\n')}`);
  };
  const a = c.startAgent(h1, ['--config', conf(h1, 150)]);
  if (!(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 15_000))) fail('h1 did not become MASTER', [a]);
  const b = c.startAgent(h2, ['--config', conf(h2, 100)]);
  if (!(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 15_000))) fail('h2 did not become BACKUP', [b]);
  const ready = async (agent: RunningAgent): Promise<boolean> => {
    const i = (await c.status(agent)).instances[0];
    const up = (i?.services?.[0]?.realServers ?? []).every((r) => r.up);
    return up && (!opts.sync || i?.conntrackSync?.peerReachable === true);
  };
  if (!(await c.waitFor(async () => (await ready(a)) && (await ready(b)), 15_000))) fail('real servers not up or sync peers not reachable', [a, b]);

  const client = FlowClient.start(topo);
  // The conntrackd a killed agent leaves behind (this scenario started it): stopped at the end.
  let orphan: number | undefined;
  try {
    const r = await client.firstLine((l) => l.type === 'ready', 'flow client');
    const servers = r.type === 'ready' ? r.servers : {};
    await new Promise((res) => setTimeout(res, 1000));
    // The backup has every flow in its external cache before the move.
    if (opts.sync && !(await c.waitFor(async () => ((await c.status(b)).instances[0]?.conntrackSync?.externalEntries ?? 0) >= FLOWS, 10_000))) {
      fail(`h2's external cache never reached ${FLOWS} entries`, [a, b]);
    }
    const before = await client.report();
    if (opts.move === 'switchover') await cli('switchover', '--socket', a.socket);
    else {
      orphan = await conntrackdPid(c, a);
      a.child.kill('SIGKILL');
      await topo.linksDown(h1);
    }
    if (!(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', 15_000))) fail('h2 did not take over', [a, b]);
    // Time for retransmissions to go through the new master; then a window the verdict is read over.
    await new Promise((res) => setTimeout(res, 3000));
    const mid = await client.report();
    await new Promise((res) => setTimeout(res, 2000));
    const after = await client.report();
    const continued = (f: FlowReport): boolean => {
      const m = mid[after.indexOf(f)];
      return f.error === null && f.mismatches === 0 && f.silentMs < 1000 && m !== undefined && f.echoed > m.echoed;
    };
    const maxGapMs = Math.max(0, ...mid.filter((_, i) => continued(after[i] as FlowReport)).map((f) => f.maxGapMs));
    return { servers, before, after, continued, newMaster: await c.status(b), oldAgent: a, newAgent: b, maxGapMs };
  } finally {
    await client.stop();
    if (orphan !== undefined) {
      try { process.kill(orphan, 'SIGTERM'); } catch { /* already gone */ }
    }
  }
}

/** The pid of conntrackd under `agent` (to stop the one a killed agent leaves), if known. */
export async function conntrackdPid(c: LabCluster, agent: RunningAgent): Promise<number | undefined> {
  try {
    return (await c.status(agent)).instances[0]?.conntrackSync?.pid ?? undefined;
  } catch {
    return undefined;
  }
}
