/**
 * haagent agents of the etcd lab: one per host, instance `web` on eth0 with the lab VIP, elected
 * on etcd (`vrrp+etcd` or `etcd`), each listing its own etcd member first. Started from the
 * compiled tree (`npm run build` first) with `ip netns exec`; JSON log lines are kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectAgentOutput, type AgentOutput } from './agent-output.js';
import type { AgentStatus } from '../core/control/types.js';
import { requestStatus } from '../daemon/control-server.js';
import { distPath } from './cluster.js';
import { ETCD_LAB_VIP_CIDR, type EtcdLabHost } from './etcd-topology.js';

export interface EtcdAgentOptions {
  readonly election: 'vrrp' | 'vrrp+etcd' | 'etcd';
  readonly priority: number;
  readonly preempt?: boolean;
  readonly endpoints: readonly string[];
  /** etcd lease, e.g. '2s'. */
  readonly lease: string;
  readonly advertInterval: string;
  readonly unreachable?: 'keep' | 'release';
  readonly vrid?: number;
}

export interface EtcdLabAgent extends AgentOutput {
  readonly host: EtcdLabHost;
  readonly socket: string;
  readonly child: ChildProcess;
}

export function etcdAgentYaml(socket: string, o: EtcdAgentOptions): string {
  const etcd = o.election === 'vrrp' ? '' : `etcd:\n  endpoints: [${o.endpoints.join(', ')}]\n  lease: ${o.lease}\n  prefix: /haagent-lab\n`;
  return `socket: ${socket}\n${etcd}instances:
  - name: web
    vrid: ${o.vrid ?? 51}
    interface: eth0
    vips: ["${ETCD_LAB_VIP_CIDR}"]
    advert-interval: ${o.advertInterval}
    priority: ${o.priority}
    preempt: ${String(o.preempt ?? false)}
    election: ${o.election}
` + (o.election === 'vrrp+etcd' ? `    etcd-unreachable: ${o.unreachable ?? 'release'}\n` : '');
}

export class EtcdLabAgents {
  readonly agents = new Map<string, EtcdLabAgent>();

  /** `dir`: where configs, sockets and state directories go (private, removed by the caller). */
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  start(host: EtcdLabHost, o: EtcdAgentOptions): EtcdLabAgent {
    const socket = join(this.dir, `${host.name}.sock`);
    const file = join(this.dir, `${host.name}.yaml`);
    writeFileSync(file, etcdAgentYaml(socket, o), { mode: 0o600 });
    const stateDir = join(this.dir, `${host.name}-state`);
    rmSync(socket, { force: true });
    const child = spawn('ip', ['netns', 'exec', host.ns, process.execPath, distPath('cli', 'main.js'), 'start', '--config', file, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const { logs, exited } = collectAgentOutput(child);
    const a = { host, socket, child, logs, exited };
    this.agents.set(host.name, a);
    return a;
  }

  status(a: EtcdLabAgent): Promise<AgentStatus> {
    return requestStatus(a.socket, 2000);
  }

  async state(a: EtcdLabAgent): Promise<string | undefined> {
    try {
      return (await this.status(a)).instances[0]?.state;
    } catch {
      return undefined;
    }
  }

  /** SIGKILL (a crash: no priority 0, no key freed; the lease runs out). */
  async kill(a: EtcdLabAgent): Promise<void> {
    if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
    await a.exited;
    this.agents.delete(a.host.name);
  }

  async stopAll(graceMs = 1500): Promise<void> {
    await Promise.all([...this.agents.values()].map(async (a) => {
      if (a.child.exitCode === null && a.child.signalCode === null) {
        const t = setTimeout(() => a.child.kill('SIGKILL'), graceMs);
        a.child.kill('SIGTERM');
        await a.exited;
        clearTimeout(t);
      }
    }));
    this.agents.clear();
  }

  /** The last log lines of an agent, for a failed assertion. */
  tail(a: EtcdLabAgent, lines = 25): string {
    return a.logs.slice(-lines).map((l) => JSON.stringify(l)).join('\n');
  }
}
