/**
 * A 3-member etcd cluster in the etcd lab's namespaces (h1, h2, witness), tuned for fast
 * elections (heartbeat 50 ms, election timeout 500 ms: a 1 s lease is granted as asked) with
 * pre-vote (a cut-off member cannot disrupt the cluster when it comes back). Data in `dir`.
 * Members are killed with SIGKILL (a SIGTERM on a leader first tries a leadership transfer for
 * seconds); `kill` and `start` take one member down and up again on its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { HaagentError } from '../core/errors.js';
import type { EtcdLabHost } from './etcd-topology.js';
import { run } from './sh.js';

export const ETCD_CLIENT_PORT = 2379;

export function clientUrl(h: EtcdLabHost): string {
  return `http://${h.address}:${ETCD_CLIENT_PORT}`;
}

export class EtcdMembers {
  private readonly procs = new Map<string, ChildProcess>();
  private started = false;

  constructor(readonly members: readonly EtcdLabHost[], readonly dir: string, readonly token: string) {}

  get endpoints(): string[] {
    return this.members.map(clientUrl);
  }

  /** This host's member first, then the others: an agent prefers its own member. */
  endpointsFor(h: EtcdLabHost): string[] {
    return [...this.members.filter((m) => m.name === h.name), ...this.members.filter((m) => m.name !== h.name)].map(clientUrl);
  }

  private launch(m: EtcdLabHost): void {
    const peers = this.members.map((x) => `${x.name}=http://${x.address}:2380`).join(',');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const log = openSync(join(this.dir, `${m.name}.log`), 'a', 0o600);
    try {
      const child = spawn('ip', ['netns', 'exec', m.ns, 'etcd', '--name', m.name, '--data-dir', join(this.dir, m.name),
        '--listen-peer-urls', `http://${m.address}:2380`, '--initial-advertise-peer-urls', `http://${m.address}:2380`,
        '--listen-client-urls', clientUrl(m), '--advertise-client-urls', clientUrl(m),
        '--initial-cluster', peers, '--initial-cluster-token', this.token, '--initial-cluster-state', this.started ? 'existing' : 'new',
        '--heartbeat-interval', '50', '--election-timeout', '500', '--pre-vote', '--log-level', 'warn'], { stdio: ['ignore', log, log] });
      this.procs.set(m.name, child);
    } finally {
      closeSync(log);
    }
  }

  /** Starts all three and waits until each answers healthy (bounded by `timeoutMs`). */
  async start(timeoutMs = 30_000): Promise<void> {
    for (const m of this.members) this.launch(m);
    this.started = true;
    const end = performance.now() + timeoutMs;
    for (const m of this.members) {
      while (!(await this.healthy(m))) {
        if (performance.now() > end) throw new HaagentError('HA_ERR_LAB', `etcd member ${m.name} not healthy within ${timeoutMs} ms (log: ${join(this.dir, `${m.name}.log`)})`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async healthy(m: EtcdLabHost): Promise<boolean> {
    try {
      await run('ip', ['netns', 'exec', m.ns, 'etcdctl', '--endpoints', clientUrl(m), '--command-timeout=2s', 'endpoint', 'health'], 5000);
      return true;
    } catch {
      return false;
    }
  }

  /** Each member's raft id (hex) and whether it leads, as `etcdctl endpoint status` says. */
  async statuses(): Promise<Array<{ name: string; id: string; leader: boolean }>> {
    const out: Array<{ name: string; id: string; leader: boolean }> = [];
    for (const m of this.members) {
      const line = await run('ip', ['netns', 'exec', m.ns, 'etcdctl', '--endpoints', clientUrl(m), '--command-timeout=2s', '-w', 'simple', 'endpoint', 'status'], 5000);
      const f = line.split(',').map((x) => x.trim());
      if (f[1] !== undefined) out.push({ name: m.name, id: f[1], leader: f[4] === 'true' });
    }
    return out;
  }

  /** Makes `m` etcd's raft leader (`etcdctl move-leader`, asked of the current leader). */
  async makeLeader(m: EtcdLabHost): Promise<void> {
    const st = await this.statuses();
    const target = st.find((s) => s.name === m.name);
    const leader = st.find((s) => s.leader);
    if (target === undefined || leader === undefined) throw new HaagentError('HA_ERR_LAB', 'etcd has no leader or no such member');
    if (leader.name === m.name) return;
    const lh = this.members.find((x) => x.name === leader.name);
    if (lh === undefined) throw new HaagentError('HA_ERR_LAB', `no member ${leader.name}`);
    await run('ip', ['netns', 'exec', lh.ns, 'etcdctl', '--endpoints', clientUrl(lh), '--command-timeout=5s', 'move-leader', target.id], 10_000);
  }

  /** The member's process gets SIGKILL; resolves once it exited. */
  async kill(m: EtcdLabHost): Promise<void> {
    const p = this.procs.get(m.name);
    this.procs.delete(m.name);
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  /** Starts a killed member again on its data. */
  restart(m: EtcdLabHost): void {
    if (!this.procs.has(m.name)) this.launch(m);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m)));
  }
}
