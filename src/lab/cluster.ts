/**
 * Processes of a lab: one haagent and one web server per host, a probe in the client namespace.
 * Every child is started from an argument vector with `ip netns exec` (which execs, so the child
 * pid is the program's own pid and `kill -9` hits the agent itself).
 *
 * The programs run from the compiled tree (dist/src/...): `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { collectAgentOutput, type AgentOutput } from './agent-output.js';
import { HaagentError } from '../core/errors.js';
import type { AgentStatus } from '../core/control/types.js';
import { requestStatus } from '../daemon/control-server.js';
import { packageRoot } from '../adapters/package-info.js';
import type { ProbeResult } from './outage.js';
import { run } from './sh.js';
import type { LabHost, LabTopology } from './topology.js';

export function distPath(...parts: string[]): string {
  const p = join(packageRoot(), 'dist', 'src', ...parts);
  if (!existsSync(p)) throw new HaagentError('HA_ERR_LAB', `${p} is missing: run "npm run build" first`);
  return p;
}

/** A lab agent: its host, control socket and process, with what it prints (agent-output.ts). */
export interface RunningAgent extends AgentOutput {
  readonly host: LabHost;
  readonly socket: string;
  readonly child: ChildProcess;
}

export interface LabClusterOptions {
  /**
   * Agents and web servers that outlive this process (`haagent lab --keep`): started in their own
   * session, their output appended to `<dir>/<ns>-<role>.log` instead of piped back (so an agent's
   * `logs` stay empty), and released by `detach()`.
   */
  readonly keepLogDir?: string;
}

export class LabCluster {
  private readonly children = new Set<ChildProcess>();
  readonly probeResults: ProbeResult[] = [];
  private probe: ChildProcess | undefined;

  constructor(readonly topo: LabTopology, private readonly opts: LabClusterOptions = {}) {}

  private spawnIn(ns: string, args: string[], env?: Readonly<Record<string, string>>, keepAs?: string): ChildProcess {
    const envOpt = env === undefined ? {} : { env: { ...process.env, ...env } };
    let child: ChildProcess;
    if (keepAs !== undefined && this.opts.keepLogDir !== undefined) {
      const fd = openSync(join(this.opts.keepLogDir, `${ns}-${keepAs}.log`), 'a', 0o600);
      try {
        child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', fd, fd], detached: true, ...envOpt });
      } finally {
        closeSync(fd);
      }
    } else {
      child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...envOpt });
    }
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Where a kept child's output goes (see LabClusterOptions), or undefined when not kept. */
  logPath(host: LabHost, role: 'agent' | 'web'): string | undefined {
    return this.opts.keepLogDir === undefined ? undefined : join(this.opts.keepLogDir, `${host.ns}-${role}.log`);
  }

  /** Lets the kept children run on after this process exits; returns their pids. */
  detach(): number[] {
    const pids: number[] = [];
    for (const c of this.children) {
      if (c === this.probe || c.pid === undefined) continue;
      pids.push(c.pid);
      c.unref();
    }
    return pids;
  }

  socketPath(host: LabHost): string {
    return `/run/haagent-lab/${host.ns}.sock`;
  }

  /** Where a config file for `host`'s agent goes (the caller writes it and removes it). */
  configPath(host: LabHost): string {
    return `/run/haagent-lab/${host.ns}.yaml`;
  }

  /** Starts haagent on `host` with the given extra `start` arguments (role, vips, ...). */
  startAgent(host: LabHost, args: readonly string[], env?: Readonly<Record<string, string>>): RunningAgent {
    const socket = this.socketPath(host);
    const stateDir = `/run/haagent-lab/${host.ns}-state`;
    const child = this.spawnIn(host.ns, [process.execPath, distPath('cli', 'main.js'), 'start', '--socket', socket, '--state-dir', stateDir, ...args], env, 'agent');
    const { logs, exited } = collectAgentOutput(child);
    return { host, socket, child, logs, exited };
  }

  startWeb(host: LabHost): ChildProcess {
    return this.spawnIn(host.ns, [process.execPath, distPath('lab', 'web-server.js'), host.name], undefined, 'web');
  }

  startProbe(target: string, intervalMs = 10, timeoutMs = 100): void {
    const child = this.spawnIn(this.topo.client, [process.execPath, distPath('lab', 'probe.js'), target, String(intervalMs), String(timeoutMs)]);
    this.probe = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try { this.probeResults.push(JSON.parse(line) as ProbeResult); } catch { /* partial line at exit */ }
    });
  }

  /** `n` sequential GETs from the client to `url`: answers per host name, plus `failed`. */
  async spread(url: string, n: number): Promise<Record<string, number>> {
    const out = await run('ip', ['netns', 'exec', this.topo.client, process.execPath, distPath('lab', 'spread.js'), url, String(n)], 10_000 + n * 1500);
    return JSON.parse(out) as Record<string, number>;
  }

  /** Probe time now (ms since the probe started), from its latest result. */
  probeNowMs(): number {
    return this.probeResults[this.probeResults.length - 1]?.t ?? 0;
  }

  stopProbe(): void {
    this.probe?.kill('SIGTERM');
  }

  async status(agent: RunningAgent): Promise<AgentStatus> {
    return requestStatus(agent.socket, 2000);
  }

  /** Polls until `pred` holds or `timeoutMs` passes; returns whether it held. */
  async waitFor(pred: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      try {
        if (await pred()) return true;
      } catch {
        // not ready yet (agent still starting, socket not there)
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return false;
  }

  async stateOf(agent: RunningAgent, instance = 0): Promise<string | undefined> {
    const s = await this.status(agent);
    return s.instances[instance]?.state;
  }

  /** Kills every child (SIGKILL after a grace period) and waits for them to exit. */
  async stopAll(graceMs = 1500): Promise<void> {
    const waits = [...this.children].map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
      const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
      c.once('exit', () => { clearTimeout(t); resolve(); });
      c.kill('SIGTERM');
    }));
    await Promise.all(waits);
  }
}
