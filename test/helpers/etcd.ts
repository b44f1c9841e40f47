/**
 * Real etcd clusters for the namespace tests (root, Debian's etcd-server/etcd-client 3.4).
 *
 * - createEtcdLan(t, count): a switch namespace with a bridge and `count` hosts (namespaces) on
 *   10.91.0.0/24 (host i has 10.91.0.i), each plugged into its own bridge port, so cutting one
 *   host (its switch port down) leaves the others' links up.
 * - startEtcdCluster(t, { members, tuned }): one etcd member per given host (client URL
 *   http://ADDRESS:2379, peer :2380), data dirs in a fresh temp dir, healthy before it returns.
 *   tuned = --heartbeat-interval=50 --election-timeout=500 (a 1 s lease is granted as 1 s, and a
 *   leader is re-elected in about a second); --pre-vote always (a cut-off member does not
 *   disturb the cluster when it comes back).
 * - EtcdClientChild: a gateway client (src/adapters/etcd) in a host's namespace, driven by JSON
 *   lines (test/helpers/etcd-child.ts); its events carry wall-clock times comparable across
 *   processes of this machine.
 *
 * Everything started is killed (SIGKILL) and removed in t.teardown. Tests call etcdSkipReason()
 * first: not root, or etcd not installed, skips cleanly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EtcdConfig } from '../../src/core/config/types.js';
import { createNamespaces, ip, JsonLineChild, runTsChild, uniqueNamespace, type Teardown } from './netns.js';
import { skipReason } from './root.js';
import { sleep } from './wait.js';

export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';
/** The tuned member flags: about 1 s failover, 1 s leases granted as asked. */
export const TUNED_FLAGS = ['--heartbeat-interval=50', '--election-timeout=500'] as const;

/** Why the etcd tests cannot run here, or undefined. */
export function etcdSkipReason(): string | undefined {
  const root = skipReason();
  if (root !== undefined) return root;
  if (!existsSync(ETCD_BIN) || !existsSync(ETCDCTL_BIN)) return 'etcd is not installed (apt-get install --no-install-recommends etcd-server etcd-client)';
  return undefined;
}

export interface LanHost {
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  /** This host's port on the switch bridge. */
  readonly port: string;
}

export interface EtcdLan {
  readonly sw: string;
  readonly hosts: readonly LanHost[];
  /** Takes the host's switch port down: it keeps its own address but reaches no other host. */
  cut(h: LanHost): void;
  heal(h: LanHost): void;
}

export function createEtcdLan(t: Teardown, count: number, prefix = 'hae'): EtcdLan {
  const base = uniqueNamespace(prefix);
  const sw = `${base}-sw`;
  const hosts: LanHost[] = Array.from({ length: count }, (_, i) => ({ name: `h${i + 1}`, ns: `${base}-h${i + 1}`, address: `10.91.0.${i + 1}`, port: `p${i + 1}` }));
  createNamespaces(t, [sw, ...hosts.map((h) => h.ns)], { loopbackUp: true });
  ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', sw, 'link', 'set', 'br0', 'up');
  for (const h of hosts) {
    ip('link', 'add', h.port, 'netns', sw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns);
    ip('-n', sw, 'link', 'set', h.port, 'master', 'br0');
    ip('-n', sw, 'link', 'set', h.port, 'up');
    ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
    ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
  }
  return {
    sw, hosts,
    cut: (h) => { ip('-n', sw, 'link', 'set', h.port, 'down'); },
    heal: (h) => { ip('-n', sw, 'link', 'set', h.port, 'up'); },
  };
}

export interface EtcdMember {
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  readonly endpoint: string;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  readonly endpoints: readonly string[];
  /** SIGKILLs the member (a crash or power loss of it; the others keep running). */
  stop(m: EtcdMember): Promise<void>;
  /** Starts a stopped member again on its data dir. */
  start(m: EtcdMember): void;
  /** The member that is raft leader now (asked with etcdctl from `from`'s namespace), or undefined. */
  leader(from?: EtcdMember): EtcdMember | undefined;
  /** The member's log (for failure messages). */
  log(m: EtcdMember): string;
}

/** A config for the gateway with these endpoints (a short request timeout, a fast keepalive). */
export function etcdConfig(endpoints: readonly string[], over: Partial<EtcdConfig> = {}): EtcdConfig {
  return { endpoints, leaseTtlS: 2, prefix: '/haagent-test', requestTimeoutMs: 300, keepaliveIntervalMs: 250, ...over };
}

function etcdctl(ns: string, endpoints: readonly string[], ...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, ETCDCTL_BIN, `--endpoints=${endpoints.join(',')}`, '--dial-timeout=1s', '--command-timeout=1s', ...args], { encoding: 'utf8', timeout: 5000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

export async function startEtcdCluster(t: Teardown, opts: { members: readonly { ns: string; address: string }[]; tuned?: boolean }): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-etcd-'));
  const token = `haagent-${process.pid}-${Date.now()}`;
  const members: EtcdMember[] = opts.members.map((m, i) => ({ name: `e${i + 1}`, ns: m.ns, address: m.address, endpoint: `http://${m.address}:2379` }));
  const initial = members.map((m) => `${m.name}=http://${m.address}:2380`).join(',');
  const procs = new Map<string, ChildProcess>();
  const exited = new Map<string, Promise<void>>();
  t.teardown(async () => {
    for (const p of procs.values()) p.kill('SIGKILL');
    await Promise.all(exited.values());
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (m: EtcdMember, state: 'new' | 'existing'): void => {
    const log = openSync(join(dir, `${m.name}.log`), 'a');
    const args = [
      'netns', 'exec', m.ns, ETCD_BIN, '--name', m.name, '--data-dir', join(dir, m.name),
      '--listen-peer-urls', `http://${m.address}:2380`, '--initial-advertise-peer-urls', `http://${m.address}:2380`,
      '--listen-client-urls', `http://${m.address}:2379`, '--advertise-client-urls', m.endpoint,
      '--initial-cluster', initial, '--initial-cluster-token', token, '--initial-cluster-state', state,
      '--pre-vote', '--log-level', 'warn', ...(opts.tuned === false ? [] : TUNED_FLAGS),
    ];
    // `ip netns exec` execs etcd: the child's pid is etcd's.
    const p = spawn('ip', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    procs.set(m.name, p);
    exited.set(m.name, new Promise((res) => p.once('exit', () => res())));
  };
  for (const m of members) start(m, 'new');
  const all = members.map((m) => m.endpoint);
  const first = members[0];
  if (first === undefined) throw new Error('startEtcdCluster: no members');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (etcdctl(first.ns, all, 'endpoint', 'health').ok) break;
    if (Date.now() > deadline) throw new Error(`etcd cluster not healthy within 30 s: ${readFileSync(join(dir, 'e1.log'), 'utf8').slice(-2000)}`);
    await sleep(100);
  }
  return {
    members, endpoints: all,
    async stop(m) {
      procs.get(m.name)?.kill('SIGKILL');
      await exited.get(m.name);
      procs.delete(m.name);
    },
    start(m) { start(m, 'existing'); },
    leader(from = first) {
      const r = etcdctl(from.ns, all, 'endpoint', 'status', '-w', 'json');
      let rows: Array<{ Endpoint?: string; Status?: { header?: { member_id?: number | string }; leader?: number | string } }> = [];
      try { rows = JSON.parse(r.out.slice(r.out.indexOf('['), r.out.lastIndexOf(']') + 1)) as typeof rows; } catch { return undefined; }
      const leaderId = rows.find((x) => x.Status?.leader !== undefined)?.Status?.leader;
      const row = rows.find((x) => x.Status?.header?.member_id !== undefined && String(x.Status.header.member_id) === String(leaderId));
      return members.find((m) => m.endpoint === row?.Endpoint);
    },
    log: (m) => { try { return readFileSync(join(dir, `${m.name}.log`), 'utf8').slice(-3000); } catch { return ''; } },
  };
}

/** One line from the client child: an event with its wall-clock time (ms since the epoch, fractional). */
export interface ClientLine {
  ev: string;
  at: number;
  n?: number;
  id?: string;
  leaseId?: string;
  value?: unknown;
  error?: string;
  code?: string;
  held?: boolean;
  createRevision?: string;
}

/** A gateway client in `ns` (test/helpers/etcd-child.ts); killed in t.teardown. */
export class EtcdClientChild extends JsonLineChild<ClientLine> {
  private n = 0;

  static start(t: Teardown, ns: string, name: string): EtcdClientChild {
    const script = fileURLToPath(new URL('./etcd-child.ts', import.meta.url));
    const child = runTsChild(ns, [script]);
    t.teardown(() => { child.kill('SIGKILL'); });
    return new EtcdClientChild(child, name);
  }

  /** Creates a gateway and a LeaseKeeper with `cfg` and starts it; resolves with the first line 'started'. */
  async keeper(cfg: EtcdConfig): Promise<ClientLine> {
    this.command({ cmd: 'keeper', cfg });
    return this.firstLine((l) => l.ev === 'started', this.name);
  }

  /** One gateway call (method and JSON arguments; bigints as strings); resolves with its result line. */
  async call(method: string, ...args: unknown[]): Promise<ClientLine> {
    const n = ++this.n;
    this.command({ cmd: 'call', n, method, args });
    return this.waitFor((l) => l.ev === 'result' && l.n === n, 30_000);
  }

  /** Tries createIfAbsent(key, value, keeper's lease) every `everyMs` until it holds the key (line 'held'). */
  createUntilHeld(key: string, value: string, everyMs: number): void {
    this.command({ cmd: 'createUntilHeld', key, value, everyMs });
  }

  events(ev: string): ClientLine[] {
    return this.lines.filter((l) => l.ev === ev);
  }
}
