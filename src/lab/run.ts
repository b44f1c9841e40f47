/**
 * `haagent lab`: a two-host failover demo on this machine (root). Builds the namespaces, starts
 * a web server and haagent (--role auto) on each host, shows who answers the VIP, then cuts the
 * master's power (agent killed -9, links down) and prints the takeover and the outage the client
 * saw. Everything is removed at the end, also on Ctrl-C or error, unless --keep.
 */
import { HaagentError } from '../core/errors.js';
import { LabCluster, type RunningAgent } from './cluster.js';
import { measureOutage } from './outage.js';
import { LabTopology, VIP, VIP_CIDR } from './topology.js';

export interface LabOptions {
  readonly keep: boolean;
  readonly advertInterval: string;
  readonly prefix?: string;
  readonly out?: (line: string) => void;
}

export async function runLab(opts: LabOptions): Promise<void> {
  if (process.getuid?.() !== 0) throw new HaagentError('HA_ERR_LAB', 'the lab creates network namespaces: run it as root (sudo haagent lab)');
  const say = opts.out ?? ((l: string) => process.stdout.write(`[lab] ${l}\n`));
  const topo = new LabTopology(opts.prefix ?? 'halab');
  const cluster = new LabCluster(topo);
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await cluster.stopAll();
    if (!opts.keep) await topo.destroy();
  };
  const onSignal = (): void => { say('interrupted, cleaning up'); void cleanup().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    say(`building namespaces ${topo.namespaces.join(', ')}`);
    await topo.create();
    const agents: RunningAgent[] = [];
    for (const h of topo.hosts) {
      cluster.startWeb(h);
      agents.push(cluster.startAgent(h, ['--role', 'auto', '--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR,
        '--vrid', '51', '--advert-interval', opts.advertInterval]));
      say(`${h.name}: int0 ${h.intAddress}, ext0 ${h.extAddress}, web server and haagent --role auto started`);
    }
    cluster.startProbe(VIP);

    let master: RunningAgent | undefined;
    const elected = await cluster.waitFor(async () => {
      const states = await Promise.all(agents.map((a) => cluster.stateOf(a)));
      const idx = states.findIndex((s) => s === 'MASTER');
      master = idx >= 0 ? agents[idx] : undefined;
      return states.filter((s) => s === 'MASTER').length === 1 && states.filter((s) => s === 'BACKUP').length === 1;
    }, 15_000);
    if (!elected || master === undefined) throw new HaagentError('HA_ERR_LAB', `no single master after 15 s; agent logs:\n${agents.map((a) => JSON.stringify(a.logs.slice(-5))).join('\n')}`);
    const m = master;
    const backup = agents.find((a) => a !== m) as RunningAgent;
    say(`elected: ${m.host.name} is MASTER of ${VIP}, ${backup.host.name} is BACKUP`);
    await cluster.waitFor(() => cluster.probeResults.some((r) => r.ok && r.host === m.host.name), 5000);
    const answered = cluster.probeResults.filter((r) => r.ok).slice(-1)[0];
    say(`client 10.77.0.50 -> http://${VIP}/ answered by ${answered?.host ?? 'nobody'}`);

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
    if (opts.keep) say(`--keep: namespaces left up (${topo.namespaces.join(' ')}); remove with: ip netns del NAME`);
  } finally {
    cluster.stopProbe();
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    say(opts.keep ? 'done (lab kept)' : 'done, everything removed');
  }
}
