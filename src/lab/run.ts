/**
 * `haagent lab`: a two-host failover demo on this machine (root). Builds the namespaces, starts
 * a web server and haagent (role auto) on each host, shows who answers the VIP, shows the load
 * balancer on VIP:8080 spreading requests over both web servers, then cuts the master's power
 * (agent killed -9, links down) and prints the takeover, the outage the client saw, and the
 * balancing after it. Everything is removed at the end, also on Ctrl-C or error.
 *
 * `--keep`: after the demo the power comes back (links up, the agent restarted) and the whole lab
 * stays up: agents, web servers and links, their output in /run/haagent-lab/*.log, so an operator
 * can try `status`, `maintenance` and `switchover` on it; `haagent lab --down` removes it (a new
 * `haagent lab` does too). A demo that fails removes everything, --keep or not.
 *
 * The balancer uses nftables when `nft` is installed, else the agent's TCP proxy mode.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HaagentError } from '../core/errors.js';
import { LabCluster, type RunningAgent } from './cluster.js';
import { measureOutage } from './outage.js';
import { runPostgresLab } from './postgres-lab.js';
import { ip } from './sh.js';
import { labAgentYaml } from './agent-config.js';
import { LabTopology, VIP, type LabHost } from './topology.js';

/** The port of the lab's virtual service on the VIP (port 80 stays the failover probe's). */
export const LAB_LB_PORT = 8080;

function hasNft(): boolean {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The lab agent's config: one instance on the VIP with a virtual service over both web servers. */
function labConfig(file: string, socket: string, hosts: readonly LabHost[], advertInterval: string, mode: 'nftables' | 'proxy'): void {
  const check = '{ type: tcp, interval: 500ms, timeout: 300ms, rise: 1, fall: 2 }';
  writeFileSync(file, labAgentYaml({
    comment: 'written by haagent lab', socket, vrid: 51, advertInterval,
    services: [{ port: LAB_LB_PORT, mode, scheduler: 'round-robin', servers: hosts.map((h) => ({ address: h.intAddress, port: 80, check })) }],
  }));
}

function split(s: Record<string, number>): string {
  return Object.entries(s).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(', ');
}

const LAB_DIR = '/run/haagent-lab';
/** The --postgres lab's clusters: outside LAB_DIR (mode 0700), which the postgres user cannot enter. */
const PG_LAB_DIR = '/run/haagent-lab-pg';
const DEFAULT_PREFIX = 'halab';

/** Pids of the processes inside the lab's namespaces (`ip netns pids`), none when it is not there. */
async function labPids(topo: LabTopology): Promise<number[]> {
  const existing = (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]);
  const pids: number[] = [];
  for (const ns of topo.namespaces) {
    if (!existing.includes(ns)) continue;
    const out = await ip('netns', 'pids', ns).catch(() => '');
    for (const p of out.split('\n')) if (/^\d+$/.test(p.trim())) pids.push(Number(p.trim()));
  }
  return pids;
}

const isAlive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

/**
 * Removes a lab left up by --keep: its processes get SIGTERM (agents hand over and remove their
 * VIPs), then SIGKILL after 2 s; then the namespaces and the lab's files. Returns how many
 * processes were stopped; safe when there is no lab.
 */
export async function labDown(prefix = DEFAULT_PREFIX): Promise<{ processes: number; namespaces: number }> {
  if (process.getuid?.() !== 0) throw new HaagentError('HA_ERR_LAB', 'the lab lives in network namespaces: run it as root (sudo haagent lab --down)');
  const topo = new LabTopology(prefix);
  const pids = await labPids(topo);
  for (const pid of pids) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  const until = performance.now() + 2000;
  while (pids.some(isAlive) && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(isAlive)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  const existing = (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]);
  const namespaces = topo.namespaces.filter((ns) => existing.includes(ns)).length;
  await topo.destroy();
  let files: string[] = [];
  try { files = readdirSync(LAB_DIR); } catch { /* no lab dir */ }
  for (const f of files) if (f.startsWith(`${prefix}-`)) rmSync(join(LAB_DIR, f), { recursive: true, force: true });
  rmSync(join(PG_LAB_DIR, prefix), { recursive: true, force: true });
  return { processes: pids.length, namespaces };
}

export interface LabOptions {
  readonly keep: boolean;
  readonly advertInterval: string;
  /** The balancer of the service on VIP:8080; auto (default) = nftables if nft is installed, else proxy. */
  readonly lbMode?: 'auto' | 'nftables' | 'proxy';
  readonly prefix?: string;
  readonly out?: (line: string) => void;
  /** The PostgreSQL demo (postgres-lab.ts) instead of the web one. */
  readonly postgres?: boolean;
}

export async function runLab(opts: LabOptions): Promise<void> {
  if (process.getuid?.() !== 0) throw new HaagentError('HA_ERR_LAB', 'the lab creates network namespaces: run it as root (sudo haagent lab)');
  const say = opts.out ?? ((l: string) => process.stdout.write(`[lab] ${l}\n`));
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const topo = new LabTopology(prefix);
  mkdirSync(LAB_DIR, { recursive: true, mode: 0o700 });
  if ((await labPids(topo)).length > 0) {
    say('a lab is already up (kept earlier): removing it first');
    await labDown(prefix);
  }
  const cluster = new LabCluster(topo, opts.keep ? { keepLogDir: LAB_DIR } : {});
  let cleaned = false;
  let kept = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    cluster.stopProbe();
    if (kept) return;
    if (opts.postgres === true) { await labDown(prefix); return; } // also ends the servers in the namespaces
    await cluster.stopAll();
    await topo.destroy();
    for (const h of topo.hosts) rmSync(cluster.configPath(h), { force: true });
  };
  const onSignal = (): void => { say('interrupted, cleaning up'); void cleanup().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    say(`building namespaces ${topo.namespaces.join(', ')}`);
    await topo.create();
    if (opts.postgres === true) {
      await runPostgresLab(topo, cluster, { keep: opts.keep, dir: join(PG_LAB_DIR, prefix), say });
      kept = opts.keep;
      return;
    }
    const agents: RunningAgent[] = [];
    const mode = opts.lbMode === undefined || opts.lbMode === 'auto' ? (hasNft() ? 'nftables' : 'proxy') : opts.lbMode;
    for (const h of topo.hosts) {
      cluster.startWeb(h);
      await ip('netns', 'exec', h.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'); // DNAT to the other host
      const file = cluster.configPath(h);
      labConfig(file, cluster.socketPath(h), topo.hosts, opts.advertInterval, mode);
      agents.push(cluster.startAgent(h, ['--role', 'auto', '--config', file]));
      say(`${h.name}: int0 ${h.intAddress}, ext0 ${h.extAddress}, web server and haagent --role auto started (${file})`);
    }
    cluster.startProbe(VIP);

    let master: RunningAgent | undefined;
    const elected = await cluster.waitFor(async () => {
      const states = await Promise.all(agents.map((a) => cluster.stateOf(a)));
      const idx = states.findIndex((s) => s === 'MASTER');
      master = idx >= 0 ? agents[idx] : undefined;
      return states.filter((s) => s === 'MASTER').length === 1 && states.filter((s) => s === 'BACKUP').length === 1;
    }, 15_000);
    if (!elected || master === undefined) throw new HaagentError('HA_ERR_LAB', `no single master after 15 s; agent logs:\n${agents.map((a) => cluster.logPath(a.host, 'agent') ?? JSON.stringify(a.logs.slice(-5))).join('\n')}`);
    const m = master;
    const backup = agents.find((a) => a !== m) as RunningAgent;
    say(`elected: ${m.host.name} is MASTER of ${VIP}, ${backup.host.name} is BACKUP`);
    await cluster.waitFor(() => cluster.probeResults.some((r) => r.ok && r.host === m.host.name), 5000);
    const answered = cluster.probeResults.filter((r) => r.ok).slice(-1)[0];
    say(`client 10.77.0.50 -> http://${VIP}/ answered by ${answered?.host ?? 'nobody'}`);
    const lbUrl = `http://${VIP}:${LAB_LB_PORT}/`;
    const bothUp = await cluster.waitFor(async () => {
      const svc = (await cluster.status(m)).instances[0]?.services?.[0];
      return svc?.realServers.every((r) => r.up) === true;
    }, 10_000);
    if (!bothUp) throw new HaagentError('HA_ERR_LAB', `the web servers' checks did not pass within 10 s; agent logs:\n${JSON.stringify(m.logs.slice(-5))}`);
    say(`load balancer on ${VIP}:${LAB_LB_PORT} (${mode}, round-robin over both web servers): 100 requests -> ${split(await cluster.spread(lbUrl, 100))}`);

    const killAt = cluster.probeNowMs();
    m.child.kill('SIGKILL');
    await topo.linksDown(m.host);
    say(`power loss on ${m.host.name}: haagent killed -9, int0 and ext0 down`);
    const t0 = performance.now();
    const tookOver = await cluster.waitFor(async () => (await cluster.stateOf(backup)) === 'MASTER', 15_000, 10);
    const takeoverMs = Math.round(performance.now() - t0);
    if (!tookOver) throw new HaagentError('HA_ERR_LAB', `${backup.host.name} did not take over within 15 s`);
    say(`${backup.host.name} became MASTER ~${takeoverMs} ms after the power loss`);
    await cluster.waitFor(() => cluster.probeResults.some((r) => r.t > killAt && r.ok && r.host === backup.host.name), 5000);
    await new Promise((r) => setTimeout(r, 300));
    const o = measureOutage(cluster.probeResults, killAt);
    const after = cluster.probeResults.filter((r) => r.ok).slice(-1)[0];
    say(`client -> http://${VIP}/ now answered by ${after?.host ?? 'nobody'}`);
    say(`client-visible outage: ${o.outageMs} ms (${o.failedRequests} failed requests, probe every 10 ms with 100 ms timeout)`);
    const st = await cluster.status(backup);
    const inst = st.instances[0];
    if (inst !== undefined) say(`haagent status on ${backup.host.name}: ${inst.state}, priority ${inst.effectivePriority}, VIPs ${inst.vips.join(',')}, last transition: ${inst.transitions.slice(-1)[0]?.reason ?? '-'}`);
    // The dead host's web server leaves the rotation once its check fails (fall 2 x 500 ms).
    const deadOut = await cluster.waitFor(async () => (await cluster.status(backup)).instances[0]?.services?.[0]?.realServers.some((r) => !r.up) === true, 5000);
    if (!deadOut) say(`warning: ${m.host.name}'s web server is still in the rotation 5 s after the power loss (its check has not failed)`);
    const down = (await cluster.status(backup)).instances[0]?.services?.[0]?.realServers.filter((r) => !r.up).map((r) => r.address) ?? [];
    say(`load balancer on ${VIP}:${LAB_LB_PORT} now on ${backup.host.name}: 20 requests -> ${split(await cluster.spread(lbUrl, 20))}`
      + ` (out of rotation: ${down.length === 0 ? 'none' : down.join(', ')})`);
    if (opts.keep) {
      await keepUp(cluster, m, backup, opts.advertInterval, say);
      kept = true;
    }
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    say(kept ? 'done (lab kept running)' : 'done, everything removed');
  }
}

/**
 * --keep: the power comes back on the dead host (links up, its agent started again), the pair
 * settles (one MASTER, one BACKUP), and the children are released to run on after this process.
 */
async function keepUp(cluster: LabCluster, dead: RunningAgent, survivor: RunningAgent, advertInterval: string, say: (l: string) => void): Promise<void> {
  const topo = cluster.topo;
  await topo.linksUp(dead.host);
  const back = cluster.startAgent(dead.host, ['--role', 'auto', '--config', cluster.configPath(dead.host)]);
  say(`power back on ${dead.host.name}: links up, haagent started again`);
  const settled = await cluster.waitFor(async () => {
    const states = await Promise.all([cluster.stateOf(back), cluster.stateOf(survivor)]);
    return states.includes('MASTER') && states.includes('BACKUP');
  }, 15_000);
  if (!settled) throw new HaagentError('HA_ERR_LAB', `the pair did not settle after the power came back; see ${cluster.logPath(dead.host, 'agent') ?? 'the agent log'}`);
  cluster.detach();
  const states = await Promise.all(topo.hosts.map(async (h) => `${h.name} ${String(await cluster.stateOf(h === survivor.host ? survivor : back))}`));
  say(`kept running: ${states.join(', ')} (advert interval ${advertInterval}); namespaces ${topo.namespaces.join(' ')}`);
  const main = process.argv[1] ?? 'haagent';
  const cli = main.endsWith('main.js') ? `node ${main}` : 'haagent';
  for (const h of topo.hosts) {
    say(`  ${h.name}: int0 ${h.intAddress}, ext0 ${h.extAddress}; ${cli} status --socket ${cluster.socketPath(h)}; log ${cluster.logPath(h, 'agent') ?? '-'}`);
  }
  say(`  try: ${cli} switchover --socket ${cluster.socketPath(survivor.host)}   (the master hands over)`);
  say(`       ${cli} maintenance on --socket ${cluster.socketPath(survivor.host)}`);
  say(`       ip netns exec ${topo.client} curl -s http://${VIP}/   (the client, 10.77.0.50)`);
  say(`       ip netns exec ${survivor.host.ns} bash   (a shell on ${survivor.host.name})`);
  say(`  remove it all: ${cli} lab --down`);
}
