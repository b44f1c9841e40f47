/**
 * `npm run chaos` (root; build first: `npx tsc -p .`): failure injection against a converged
 * haagent pair in the lab topology (namespaces `hachaos-*`), headless.
 *
 * Each scenario starts from a fresh converged pair: h1 priority 150 (preempt), h2 priority 100
 * (no preempt), VRRPv3, advert interval 100 ms (`--interval 1s`), VIP 10.77.0.100/24 on ext0, a
 * web server on both hosts, and a client probe (GET every 10 ms, 30 ms timeout). Scenarios: kill -9
 * of the master (it stays dead), SIGSTOP of the master then SIGCONT, the master's int0 down/up, its
 * ext0 down/up, internal network cut (switch ports h1i+h2i), external network cut (h1e+h2e), full
 * isolation of the master (h1i+h1e), 30 % loss of VRRP (IP protocol 112) between the hosts for 5 s
 * (nftables `numgen random` rule on the switch bridge, table `hachaos`). Link faults hold 3 s (or
 * Master_Down_Interval + 2 s when longer), then heal, then settle (3 s, or more for long intervals
 * and VIP leases).
 *
 * Each scenario runs in two modes: `plain` (VRRP only, VIP without lifetime: what keepalived
 * does) and `resilient` (paths over ext0 to the peer's ext0 address, an icmp witness on the
 * client 10.77.0.50, vip-lifetime auto). The resilient mode runs only when the agent actually
 * implements paths: a config with `paths:` must pass check-config AND the running agent must
 * open its hello socket (udp/peer-port); otherwise it is skipped and the report says why
 * (`--force-resilient` runs it anyway, which then exercises only the VIP lifetime).
 *
 * Recorded per scenario x mode, sampling every 20 ms (both hosts' ext0 through a long-lived
 * `ip -n NS -j -batch -`, both in the same tick; each agent's state from its control socket):
 * time with the VIP on both hosts, time with both agents answering MASTER, the client-visible
 * outage (measureOutage from the fault injection; also split into fault and heal phases), failed
 * requests, whether a VIP was left behind at the end (several holders, or a holder that is not
 * MASTER), and the final master. Target: zero dual-master time except "full isolation without
 * witness" (plain mode), and no VIP ever left behind.
 *
 * Prints a table and a final `CHAOS_JSON {...}` line. Exit 0 whatever the figures; 1 only when the
 * lab itself breaks. Everything (agents, web servers, probe, namespaces, nft table, /tmp and
 * /run/haagent-lab files) is removed at the end, on error and on Ctrl-C.
 *
 * One scenario beyond the list above, `silent`: the master cut off by an nftables drop on its two
 * switch ports, carrier up (an upstream failure the NICs cannot see), the case the witness is for.
 * Overlaps of at most one sampling period (20 ms) are reported as a "handover", counted apart.
 *
 * Options: --interval DUR (100ms | 1s | ...), --only ID,ID (kill9, sigstop, int0, ext0, intcut,
 * extcut, isolate, silent, loss), --modes plain,resilient, --force-resilient.
 *
 * `--set attacks` runs the hostile-input set instead (attacks.ts: forged, replayed and flooded
 * hellos, control-socket abuse, a forged long-interval advert, a full or booby-trapped state
 * directory); `--only` then takes attack ids. `--set etcd` runs the election-on-etcd set
 * (etcd.ts: the failures that split VRRP, with election vrrp and vrrp+etcd, in the etcd lab).
 */
import { ETCD_SCENARIOS, runEtcdChaos } from './etcd.js';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster, distPath, type RunningAgent } from '../../src/lab/cluster.js';
import { measureOutage, type ProbeResult } from '../../src/lab/outage.js';
import { ip, run } from '../../src/lab/sh.js';
import { CLIENT_ADDRESS, LabTopology, VIP, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { cleanAfter, HOSTS, overlaps, sampleRate, Sampler, timeline, type HostName, type StateSample, type VipSample } from './sampler.js';
import { ATTACK_IDS, runAttacks } from './attacks.js';
import { nftDeleteTable, nftDropped, SCENARIOS, type FaultContext, type Scenario } from './scenarios.js';

type Mode = 'plain' | 'resilient';
const MODES: readonly Mode[] = ['plain', 'resilient'];
const PREFIX = 'hachaos';
const LAB_RUN_DIR = '/run/haagent-lab';
const PEER_PORT = 5798;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The lab itself failed (namespaces, links, nft): exit 1. */
class LabBroke extends Error {}

// ---------------------------------------------------------------- options

interface Options {
  /** `faults` (the scenarios above) or `attacks` (hostile input, attacks.ts). */
  readonly set: 'faults' | 'attacks' | 'etcd';
  readonly intervalMs: number;
  readonly only: readonly string[] | undefined;
  readonly modes: readonly Mode[];
  readonly forceResilient: boolean;
}

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (m === null || m[1] === undefined) throw new Error(`--interval: "${text}" is not a duration like 100ms or 1s`);
  const ms = m[2] === 's' ? Number(m[1]) * 1000 : Number(m[1]);
  if (!Number.isInteger(ms) || ms < 10 || ms > 40_950 || ms % 10 !== 0) throw new Error('--interval: 10ms..40.95s, a multiple of 10 ms (VRRPv3 centiseconds)');
  return ms;
}

function parseArgs(argv: readonly string[]): Options {
  let intervalMs = 100;
  let only: string[] | undefined;
  let modes: Mode[] = [...MODES];
  let forceResilient = false;
  let set: Options['set'] = 'faults';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${String(a)} needs a value`);
      return v;
    };
    if (a === '--set') {
      const v = next();
      if (v !== 'faults' && v !== 'attacks' && v !== 'etcd') throw new Error('--set: faults, attacks or etcd');
      set = v;
    } else if (a === '--interval') intervalMs = parseDuration(next());
    else if (a === '--only') only = next().split(',').map((s) => s.trim()).filter((s) => s !== '');
    else if (a === '--modes') {
      const m = next().split(',').map((s) => s.trim());
      if (m.some((x) => !(MODES as readonly string[]).includes(x))) throw new Error('--modes: plain and/or resilient');
      modes = m as Mode[];
    } else if (a === '--force-resilient') forceResilient = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node dist/test/chaos/run.js [--interval 100ms|1s] [--only kill9,sigstop,int0,ext0,intcut,extcut,isolate,silent,loss] [--modes plain,resilient] [--force-resilient]\n'
        + `       node dist/test/chaos/run.js --set attacks [--only ${ATTACK_IDS.join(',')}]\n`
        + `       node dist/test/chaos/run.js --set etcd [--only ${ETCD_SCENARIOS.map((s) => s.id).join(',')}]\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${String(a)}`);
  }
  const ids = set === 'attacks' ? ATTACK_IDS : set === 'etcd' ? ETCD_SCENARIOS.map((s) => s.id) : SCENARIOS.map((s) => s.id);
  const bad = (only ?? []).filter((x) => !ids.includes(x));
  if (bad.length > 0) throw new Error(`--only: unknown scenario(s) ${bad.join(', ')}; known: ${ids.join(', ')}`);
  return { set, intervalMs, only, modes, forceResilient };
}

// ---------------------------------------------------------------- configs

function configYaml(host: LabHost, peer: LabHost, mode: Mode, intervalMs: number): string {
  const master = host.name === 'h1';
  const lines = [
    // Hellos (paths) must be authenticated: the config refuses paths without a peer-key.
    ...(mode === 'plain' ? [] : ['peer-key: chaos-secret']),
    'instances:',
    '  - name: web',
    '    vrid: 51',
    '    interface: int0',
    '    external: ext0',
    `    vips: [${VIP_CIDR}]`,
    `    priority: ${master ? 150 : 100}`,
    `    preempt: ${master ? 'true' : 'false'}`,
    `    advert-interval: ${intervalMs}ms`,
    '    vrrp-version: 3',
  ];
  if (mode === 'plain') lines.push('    vip-lifetime: "off"');
  else {
    lines.push(
      `    paths: [{ interface: ext0, peer: ${peer.extAddress} }]`,
      `    witness: [{ type: icmp, address: ${CLIENT_ADDRESS} }]`,
      '    vip-lifetime: auto',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** VRRPv3 Master_Down_Interval of the backup (priority 100). */
const masterDownMs = (intervalMs: number): number => 3 * intervalMs + ((256 - 100) * intervalMs) / 256;
/** vip-lifetime auto: 3 x interval rounded down to whole seconds, at least 1 s. */
const autoLeaseMs = (intervalMs: number): number => Math.max(1, Math.floor((3 * intervalMs) / 1000)) * 1000;

// ---------------------------------------------------------------- results

interface HostFinal {
  readonly vip: boolean | null;
  readonly lft?: number;
  readonly state: string | null;
}

interface Row {
  readonly scenario: string;
  readonly label: string;
  readonly mode: Mode;
  readonly error?: string;
  readonly holdMs: number;
  readonly settleMs: number;
  readonly dualVipMs: number;
  readonly dualMasterMs: number;
  readonly noVipMs: number;
  readonly baselineDualVipMs: number;
  readonly outageMs: number;
  readonly failedRequests: number;
  readonly faultOutageMs: number;
  readonly faultFailed: number;
  readonly healOutageMs: number;
  readonly healFailed: number;
  readonly leftBehind: boolean;
  readonly noHolder: boolean;
  readonly final: Readonly<Record<HostName, HostFinal>>;
  readonly finalMaster: string;
  /** The probe's last answers (final 300 ms) all succeeded. */
  readonly clientOkAtEnd: boolean;
  /** Which host's MAC the client's ARP entry for the VIP points at, at the end. */
  readonly clientArp: string;
  /** ms after the heal from which the state stayed clean (one MASTER holding the VIP). */
  readonly cleanAfterHealMs: number | null;
  readonly vipCoverage: number;
  readonly samplesPerS: { readonly vip: number; readonly state: number };
  readonly exempt: boolean;
  readonly verdict: string;
  readonly droppedAdverts?: number;
  readonly timeline: readonly string[];
  readonly evidence: readonly string[];
}

/** Sampling period (ms): an overlap this short is at the sampler's resolution. */
const SAMPLE_MS = 20;

const dualMs = (r: { dualVipMs: number; dualMasterMs: number }): number => Math.max(r.dualVipMs, r.dualMasterMs);

/**
 * PASS: no overlap. handover: an overlap of at most one sampling period (both answering MASTER
 * for a few ms while the preempting master's first advert reaches the other), not hidden:
 * counted separately in the target line. exempt: full isolation without witness.
 */
function verdictOf(r: Omit<Row, 'verdict'>): string {
  if (r.error !== undefined) return 'ERROR';
  const miss: string[] = [];
  const dual = dualMs(r);
  if (dual > SAMPLE_MS && !r.exempt) miss.push('dual master');
  if (r.leftBehind) miss.push('VIP left behind');
  if (r.noHolder) miss.push('no VIP holder at the end');
  if (miss.length > 0) return `MISS (${miss.join(', ')})`;
  if (dual > 0 && r.exempt) return 'exempt (no witness)';
  return dual > 0 ? `handover <=${SAMPLE_MS} ms` : 'PASS';
}

// ---------------------------------------------------------------- the lab

class Chaos {
  readonly topo = new LabTopology(PREFIX);
  readonly web = new LabCluster(this.topo);
  readonly tmp = mkdtempSync(`/tmp/${PREFIX}-`);
  private current: { cluster: LabCluster; agents: RunningAgent[]; sampler?: Sampler } | undefined;
  private cleaning: Promise<void> | undefined;

  constructor(readonly opts: Options) {}

  async setup(): Promise<void> {
    await this.topo.create();
    for (const h of this.topo.hosts) this.web.startWeb(h);
  }

  host(name: HostName): LabHost {
    return this.topo.hosts[name === 'h1' ? 0 : 1];
  }

  /** Every link up, no nft table, no VIP on either host, no client ARP entry for it. */
  async resetNetwork(): Promise<void> {
    try {
      for (const p of ['h1i', 'h1e', 'h2i', 'h2e', 'cle']) await ip('-n', this.topo.sw, 'link', 'set', p, 'up');
      for (const h of this.topo.hosts) await this.topo.linksUp(h);
      await nftDeleteTable(this.topo.sw);
      for (const h of this.topo.hosts) {
        if ((await this.topo.extAddresses(h)).includes(VIP_CIDR)) await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0');
      }
      await ip('-n', this.topo.client, 'neigh', 'flush', 'to', VIP).catch(() => '');
    } catch (e) {
      throw new LabBroke(`resetting the lab network: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  writeConfigs(mode: Mode, tag: string): Record<HostName, string> {
    const [h1, h2] = this.topo.hosts;
    const files = { h1: join(this.tmp, `${tag}-h1.yaml`), h2: join(this.tmp, `${tag}-h2.yaml`) };
    writeFileSync(files.h1, configYaml(h1, h2, mode, this.opts.intervalMs));
    writeFileSync(files.h2, configYaml(h2, h1, mode, this.opts.intervalMs));
    return files;
  }

  /** A probe and both agents from clean state; resolves once h1 is the single master answering the probe. */
  async startPair(mode: Mode, tag: string): Promise<{ cluster: LabCluster; agents: Record<HostName, RunningAgent>; error?: string }> {
    await this.resetNetwork();
    const cluster = new LabCluster(this.topo);
    const files = this.writeConfigs(mode, tag);
    cluster.startProbe(VIP, 10, 30);
    const agents = {
      h1: cluster.startAgent(this.host('h1'), ['--config', files.h1]),
      h2: cluster.startAgent(this.host('h2'), ['--config', files.h2]),
    };
    this.current = { cluster, agents: [agents.h1, agents.h2] };
    const started = performance.now();
    const ok = await cluster.waitFor(async () => {
      const [a, b] = await Promise.all([this.topo.extAddresses(this.host('h1')), this.topo.extAddresses(this.host('h2'))]);
      if (!a.includes(VIP_CIDR) || b.includes(VIP_CIDR)) return false;
      if ((await cluster.stateOf(agents.h1)) !== 'MASTER' || (await cluster.stateOf(agents.h2)) !== 'BACKUP') return false;
      const last = cluster.probeResults.slice(-5);
      return last.length === 5 && last.every((r) => r.ok && r.host === 'h1');
    }, 20_000, 50);
    if (ok) return { cluster, agents };
    const tail = HOSTS.map((h) => `${h}: ${agents[h].logs.slice(-5).map((l) => JSON.stringify(l)).join(' | ')}`).join('\n    ');
    return { cluster, agents, error: `no single master (h1) answering the probe ${Math.round((performance.now() - started) / 1000)} s after start\n    ${tail}` };
  }

  async endPair(): Promise<void> {
    const cur = this.current;
    this.current = undefined;
    if (cur === undefined) return;
    cur.sampler?.close();
    for (const a of cur.agents) {
      if (a.child.exitCode === null && a.child.signalCode === null) {
        a.child.kill('SIGCONT');
        a.child.kill('SIGKILL');
      }
    }
    cur.cluster.stopProbe();
    await cur.cluster.stopAll(500);
  }

  /** The client's ARP entry for the VIP, named by host ("h1 (REACHABLE)"), or what it is. */
  async clientArp(): Promise<string> {
    try {
      const out = await ip('-n', this.topo.client, '-j', 'neigh', 'show', VIP);
      const e = (JSON.parse(out) as Array<{ lladdr?: string; state?: string[] }>)[0];
      if (e === undefined) return 'none';
      const macs = await Promise.all(this.topo.hosts.map(async (h) => [h.name, await this.topo.hostMac(h)] as const));
      const who = macs.find(([, m]) => m !== '' && m === e.lladdr)?.[0] ?? e.lladdr ?? '?';
      return `${who}${e.state === undefined ? '' : ` (${e.state.join(',')})`}`;
    } catch {
      return '?';
    }
  }

  attachSampler(s: Sampler): void {
    if (this.current !== undefined) this.current.sampler = s;
  }

  /**
   * Does the agent implement `paths`? check-config must accept it, and a running resilient
   * pair must have its hello socket open (UDP on peer-port in each host's namespace).
   */
  async resilienceSupport(): Promise<{ active: boolean; note: string }> {
    const file = this.writeConfigs('resilient', 'check').h1;
    const r = spawnSync(process.execPath, [distPath('cli', 'main.js'), 'check-config', file], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) {
      return { active: false, note: `the agent rejects paths/witness (check-config: ${`${r.stderr}${r.stdout}`.trim().split('\n').slice(0, 3).join(' ')})` };
    }
    let effective: { instances?: Array<{ paths?: unknown[]; witness?: unknown[] }> } = {};
    try { effective = parseYaml(r.stdout) as typeof effective; } catch { /* printed something else */ }
    const inst = effective.instances?.[0];
    if ((inst?.paths?.length ?? 0) === 0) return { active: false, note: 'check-config accepts the config but drops paths (not in the effective settings)' };
    const pair = await this.startPair('resilient', 'preflight');
    try {
      if (pair.error !== undefined) return { active: false, note: `a resilient pair did not converge: ${pair.error}` };
      await sleep(Math.max(500, 3 * this.opts.intervalMs));
      const sockets: string[] = [];
      for (const h of this.topo.hosts) {
        const udp = await run('ip', ['netns', 'exec', h.ns, 'cat', '/proc/net/udp', '/proc/net/udp6']).catch(() => '');
        const port = `:${PEER_PORT.toString(16).toUpperCase().padStart(4, '0')} `;
        if (udp.split('\n').some((l) => (l.trim().split(/\s+/)[1] ?? '').endsWith(port.trim()))) sockets.push(h.name);
      }
      const st = await pair.cluster.status(pair.agents.h1).catch(() => undefined);
      const keys = Object.keys(st?.instances[0] ?? {}).filter((k) => /path|witness|hello|isolat/i.test(k));
      if (sockets.length === 2) {
        return { active: true, note: `hello sockets on udp/${PEER_PORT} in both hosts; status fields: ${keys.length > 0 ? keys.join(', ') : '(none)'}` };
      }
      return {
        active: false,
        note: `check-config accepts paths/witness, but the running agent ignores them: no hello socket on udp/${PEER_PORT} (${sockets.length === 0 ? 'neither host' : `only ${sockets.join(', ')}`}), status fields about paths/witness: ${keys.length > 0 ? keys.join(', ') : 'none'}`,
      };
    } finally {
      await this.endPair();
    }
  }

  async runScenario(scn: Scenario, mode: Mode): Promise<Row> {
    const intervalMs = this.opts.intervalMs;
    const down = masterDownMs(intervalMs);
    const holdMs = scn.holdMs(intervalMs, down);
    const settleMs = Math.max(3000, Math.round(2 * down + 1000), mode === 'resilient' ? autoLeaseMs(intervalMs) + 2000 : 0);
    const exempt = scn.exemptWithout === 'witness' && mode === 'plain';
    const tag = `${scn.id}-${mode}`;
    const pair = await this.startPair(mode, tag);
    const base = {
      scenario: scn.id, label: scn.label, mode, holdMs, settleMs, exempt,
    };
    if (pair.error !== undefined) {
      await this.endPair();
      const empty: HostFinal = { vip: null, state: null };
      const row: Omit<Row, 'verdict'> = {
        ...base, error: pair.error, dualVipMs: 0, dualMasterMs: 0, noVipMs: 0, baselineDualVipMs: 0, outageMs: 0, failedRequests: 0,
        faultOutageMs: 0, faultFailed: 0, healOutageMs: 0, healFailed: 0, leftBehind: false, noHolder: false,
        final: { h1: empty, h2: empty }, finalMaster: '?', clientOkAtEnd: false, clientArp: '?', cleanAfterHealMs: null, vipCoverage: 0, samplesPerS: { vip: 0, state: 0 },
        timeline: [], evidence: [],
      };
      return { ...row, verdict: verdictOf(row) };
    }
    const { cluster, agents } = pair;
    const ns = { h1: this.host('h1').ns, h2: this.host('h2').ns };
    const sampler = new Sampler(ns, agents, VIP);
    this.attachSampler(sampler);
    const ctx: FaultContext = { topo: this.topo, master: this.host('h1'), backup: this.host('h2'), masterAgent: agents.h1, intervalMs };
    try {
      sampler.start();
      const baseFrom = performance.now();
      await sleep(500 + Math.random() * intervalMs); // baseline, then a random phase of the advert cycle
      const faultWall = Date.now();
      const faultT = performance.now();
      const faultProbe = cluster.probeNowMs();
      try { await scn.inject(ctx); } catch (e) { throw new LabBroke(`${tag}: injecting the fault: ${e instanceof Error ? e.message : String(e)}`); }
      await sleep(holdMs);
      let dropped: number | undefined;
      if (scn.id === 'loss') dropped = await nftDropped(this.topo.sw);
      const healT = performance.now();
      const healProbe = cluster.probeNowMs();
      try { if (scn.heal !== undefined) await scn.heal(ctx); } catch (e) { throw new LabBroke(`${tag}: healing: ${e instanceof Error ? e.message : String(e)}`); }
      await sleep(settleMs);
      await sampler.stop();
      const endT = performance.now();
      // The final word: fresh reads, with a longer status timeout than the sampler's.
      const finalVip: Record<HostName, VipSample> = { h1: await sampler.readVip('h1', 2000), h2: await sampler.readVip('h2', 2000) };
      const finalState: Record<HostName, StateSample> = { h1: await sampler.readState('h1', 1000), h2: await sampler.readState('h2', 1000) };
      const finalStatus = await Promise.all(HOSTS.map((h) => cluster.status(agents[h]).catch(() => undefined)));
      const clientArp = await this.clientArp();
      sampler.close();

      const series = sampler.series;
      const ov = overlaps(series, faultT, endT);
      const baseline = overlaps(series, baseFrom + 100, faultT);
      const results: ProbeResult[] = cluster.probeResults.slice();
      const all = measureOutage(results, faultProbe);
      const faultPhase = measureOutage(results.filter((r) => r.t < healProbe), faultProbe);
      const healPhase = measureOutage(results, healProbe);
      const final: Record<HostName, HostFinal> = {
        h1: { vip: finalVip.h1.vip, ...(finalVip.h1.lft === undefined ? {} : { lft: finalVip.h1.lft }), state: finalState.h1.state },
        h2: { vip: finalVip.h2.vip, ...(finalVip.h2.lft === undefined ? {} : { lft: finalVip.h2.lft }), state: finalState.h2.state },
      };
      const holders = HOSTS.filter((h) => final[h].vip === true);
      const leftBehind = holders.length > 1 || holders.some((h) => final[h].state !== 'MASTER');
      const holder = holders[0];
      const finalMaster = holders.length === 0 ? 'none'
        : holders.length === 1 && holder !== undefined && final[holder].state === 'MASTER' ? holder
          : holders.map((h) => `${h}(${final[h].state ?? 'dead'})`).join('+');

      const evidence: string[] = [];
      finalStatus.forEach((st, i) => {
        const h = HOSTS[i] as HostName;
        if (st === undefined) { evidence.push(`${h}: no status (agent ${agents[h].child.exitCode !== null || agents[h].child.signalCode !== null ? 'dead' : 'not answering'})`); return; }
        for (const tr of st.instances[0]?.transitions ?? []) {
          const rel = Date.parse(tr.at) - faultWall;
          if (rel >= -200) evidence.push(`${h}: ${rel >= 0 ? '+' : ''}${rel} ms ${tr.from} -> ${tr.to} (${tr.reason})`);
        }
      });
      for (const h of HOSTS) {
        // The agent's JSON log lines: `time` is ISO 8601, `level` a name.
        const atMs = (l: Record<string, unknown>): number => (typeof l['time'] === 'string' ? Date.parse(l['time']) : NaN);
        const logs = agents[h].logs.filter((l) => atMs(l) >= faultWall && ['warn', 'error', 'fatal'].includes(String(l['level'])));
        for (const l of logs.slice(0, 4)) evidence.push(`${h} log: +${atMs(l) - faultWall} ms ${String(l['msg'] ?? '')}`);
      }
      for (const h of HOSTS) {
        if (final[h].vip === true) evidence.push(`${h} final: VIP valid_lft ${final[h].lft === 4294967295 ? 'forever' : `${final[h].lft ?? '?'} s`}, state ${final[h].state ?? 'no answer'}`);
      }
      const lastT = results[results.length - 1]?.t ?? 0;
      const tail = results.filter((r) => r.t >= lastT - 300);
      const clientOkAtEnd = tail.length > 0 && tail.every((r) => r.ok);
      if (!clientOkAtEnd) {
        const firstBad = [...results].reverse().find((r) => r.ok)?.t;
        evidence.push(`client: still failing at the end (no answer since +${firstBad === undefined ? '?' : firstBad - faultProbe} ms on the probe clock); its ARP entry for ${VIP} -> ${clientArp}`);
      }
      const clean = cleanAfter(series, healT, endT);
      const row: Omit<Row, 'verdict'> = {
        ...base,
        dualVipMs: ov.dualVipMs,
        dualMasterMs: ov.dualMasterMs,
        noVipMs: ov.noVipMs,
        baselineDualVipMs: baseline.dualVipMs,
        outageMs: all.outageMs,
        failedRequests: all.failedRequests,
        faultOutageMs: faultPhase.outageMs,
        faultFailed: faultPhase.failedRequests,
        healOutageMs: healPhase.outageMs,
        healFailed: healPhase.failedRequests,
        leftBehind,
        noHolder: holders.length === 0,
        final,
        finalMaster,
        clientOkAtEnd,
        clientArp,
        cleanAfterHealMs: clean ?? null,
        vipCoverage: Math.round(ov.vipCoverage * 1000) / 1000,
        samplesPerS: (() => { const r = sampleRate(series, faultT, endT); return { vip: Math.round(r.vip), state: Math.round(r.state) }; })(),
        ...(dropped === undefined ? {} : { droppedAdverts: dropped }),
        timeline: timeline(series, faultT, baseFrom, endT),
        evidence,
      };
      return { ...row, verdict: verdictOf(row) };
    } finally {
      sampler.close();
      await this.endPair();
    }
  }

  /** Idempotent; every caller waits for the same cleanup. */
  cleanup(): Promise<void> {
    this.cleaning ??= this.doCleanup();
    return this.cleaning;
  }

  private async doCleanup(): Promise<void> {
    await this.endPair().catch(() => undefined);
    await this.web.stopAll(500).catch(() => undefined);
    await nftDeleteTable(this.topo.sw).catch(() => false);
    await this.topo.destroy().catch(() => undefined);
    rmSync(this.tmp, { recursive: true, force: true });
    try {
      for (const f of readdirSync(LAB_RUN_DIR)) {
        if (f.startsWith(`${PREFIX}-`)) rmSync(join(LAB_RUN_DIR, f), { recursive: true, force: true });
      }
    } catch { /* no run dir */ }
  }
}

// ---------------------------------------------------------------- report

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function padL(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

function printTable(rows: readonly Row[], out: (l: string) => void): void {
  const head = ['scenario', 'mode', 'dual VIP', 'dual MASTER', 'outage span', 'fault/heal', 'failed', 'clean after heal', 'left behind', 'final', 'client@end', 'verdict'];
  const W = [28, 9, 9, 11, 11, 11, 6, 16, 11, 13, 10, 0];
  const right = new Set([2, 3, 4, 5, 6, 7]);
  const line = (cells: string[]): void => out(cells.map((c, i) => (right.has(i) ? padL(c, W[i] ?? 0) : pad(c, W[i] ?? 0))).join('  ').trimEnd());
  line(head);
  line(W.map((w, i) => '-'.repeat(w === 0 ? (head[i] ?? '').length : w)));
  for (const r of rows) {
    if (r.error !== undefined) {
      line([r.label, r.mode, '-', '-', '-', '-', '-', '-', '-', '-', '-', `ERROR: ${r.error.split('\n')[0] ?? ''}`]);
      continue;
    }
    line([
      r.label, r.mode, `${r.dualVipMs} ms`, `${r.dualMasterMs} ms`, `${r.outageMs} ms`, `${r.faultOutageMs}/${r.healOutageMs}`,
      String(r.failedRequests), r.cleanAfterHealMs === null ? 'never' : `${r.cleanAfterHealMs} ms`,
      r.leftBehind ? 'YES' : 'no', r.finalMaster, r.clientOkAtEnd ? 'ok' : 'FAILING', r.verdict,
    ]);
  }
}

function printDetails(rows: readonly Row[], out: (l: string) => void): void {
  const notable = rows.filter((r) => r.error !== undefined || r.verdict !== 'PASS' || r.dualVipMs > 0 || r.dualMasterMs > 0 || r.baselineDualVipMs > 0 || !r.clientOkAtEnd);
  if (notable.length === 0) return;
  out('');
  out('details (rows with dual-master time, a VIP left behind, a client failing at the end, or an error): sampled timeline from the fault (t=0), agent transitions, warnings');
  for (const r of notable) {
    out(`  ${r.label} / ${r.mode}: ${r.verdict}; hold ${r.holdMs} ms, settle ${r.settleMs} ms${r.droppedAdverts === undefined ? '' : `, ${r.droppedAdverts} adverts dropped`}${r.baselineDualVipMs > 0 ? `, BASELINE dual VIP ${r.baselineDualVipMs} ms` : ''}`);
    if (r.error !== undefined) { out(`    ${r.error}`); continue; }
    const tl = r.timeline;
    const shown = tl.length > 16 ? [...tl.slice(0, 12), `... ${tl.length - 14} more ...`, ...tl.slice(-2)] : tl;
    out(`    timeline: ${shown.join('; ')}`);
    for (const e of r.evidence.slice(0, 12)) out(`    ${e}`);
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const out = (l: string): void => { process.stdout.write(`${l}\n`); };
  const say = (l: string): void => { process.stdout.write(`[chaos] ${l}\n`); };
  if (process.getuid?.() !== 0) {
    out('chaos: needs root (network namespaces, raw sockets, nft)');
    return 1;
  }
  distPath('cli', 'main.js'); // throws with a hint when the build is missing
  if (opts.set === 'attacks') return runAttacks(opts.only, out);
  if (opts.set === 'etcd') {
    await runEtcdChaos(opts.only, out);
    return 0;
  }
  const scenarios = SCENARIOS.filter((s) => opts.only === undefined || opts.only.includes(s.id));
  if (scenarios.some((s) => s.id === 'loss') && spawnSync('nft', ['--version']).error !== undefined) {
    out('chaos: nft is missing (apt-get install -y nftables)');
    return 1;
  }
  const started = performance.now();
  const chaos = new Chaos(opts);
  const onSignal = (sig: string): void => {
    say(`${sig}: cleaning up`);
    void chaos.cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));

  const rows: Row[] = [];
  let modes = [...opts.modes];
  let resilience: { active: boolean; note: string } = { active: false, note: 'not requested (--modes)' };
  try {
    say(`advert interval ${opts.intervalMs} ms (Master_Down_Interval of h2 ${masterDownMs(opts.intervalMs).toFixed(0)} ms); building namespaces ${chaos.topo.namespaces.join(', ')}`);
    await chaos.setup();
    if (modes.includes('resilient')) {
      resilience = await chaos.resilienceSupport();
      say(`resilience features: ${resilience.active ? 'ACTIVE' : 'NOT ACTIVE'}: ${resilience.note}`);
      if (!resilience.active && !opts.forceResilient) {
        modes = modes.filter((m) => m !== 'resilient');
        say('resilient mode skipped: running the plain mode only (--force-resilient runs it anyway; it then tests the VIP lifetime alone)');
      }
    }
    for (const scn of scenarios) {
      for (const mode of modes) {
        const t0 = performance.now();
        const r = await chaos.runScenario(scn, mode);
        rows.push(r);
        say(`${pad(scn.label, 28)} ${pad(mode, 9)} dual VIP ${r.dualVipMs} ms, dual MASTER ${r.dualMasterMs} ms, outage ${r.outageMs} ms (${r.failedRequests} failed), left behind ${r.leftBehind ? 'YES' : 'no'}, final ${r.finalMaster}: ${r.verdict} [${((performance.now() - t0) / 1000).toFixed(1)} s, ${r.samplesPerS.vip}/s VIP samples]`);
      }
    }
  } catch (e) {
    say(`FAILED: ${e instanceof Error ? e.message : String(e)}`);
    await chaos.cleanup();
    return 1;
  }
  await chaos.cleanup();
  const runtimeS = (performance.now() - started) / 1000;

  out('');
  out(`haagent chaos: VRRPv3 VRID 51, h1 prio 150 (preempt) / h2 prio 100, advert interval ${opts.intervalMs} ms, VIP ${VIP_CIDR} on ext0; probe GET every 10 ms, 30 ms timeout`);
  out('modes: plain = VRRP only, VIP without lifetime (keepalived-like); resilient = + paths [ext0 -> peer ext0], witness icmp 10.77.0.50, vip-lifetime auto');
  out(`resilience features: ${resilience.active ? 'active' : 'NOT active'}: ${resilience.note}${modes.includes('resilient') ? '' : ' => plain mode only'}`);
  out('dual VIP = ms with the VIP on both hosts\' ext0 (sampled every 20 ms); dual MASTER = ms with both agents answering MASTER (a frozen/dead agent does not answer);');
  out('outage span = measureOutage from the fault (first failure .. last recovery, so a failover and a failback 3 s apart read as one span);');
  out('fault/heal = measureOutage before the heal / from the heal (the two client-visible gaps); clean after heal = ms after the heal');
  out('until one MASTER alone holds the VIP for good; left behind = at the end, several holders or a holder that is not MASTER;');
  out('client@end = the probe\'s answers over the last 300 ms (FAILING: the client is still cut off after the settle time)');
  out('');
  printTable(rows, out);
  const judged = rows.filter((r) => r.error === undefined);
  const dualMiss = judged.filter((r) => !r.exempt && dualMs(r) > SAMPLE_MS);
  const handovers = judged.filter((r) => !r.exempt && dualMs(r) > 0 && dualMs(r) <= SAMPLE_MS);
  const leftMiss = judged.filter((r) => r.leftBehind);
  out('');
  out(`target: zero dual-master time outside "full isolation without witness" -> ${dualMiss.length === 0 ? 'PASS' : `MISS in ${dualMiss.length} row(s): ${dualMiss.map((r) => `${r.scenario}/${r.mode}`).join(', ')}`}`);
  if (handovers.length > 0) {
    out(`  plus ${handovers.length} row(s) with an overlap of at most one ${SAMPLE_MS} ms sample (the sampler's resolution; see the agents' transition times in the details): ${handovers.map((r) => `${r.scenario}/${r.mode} ${dualMs(r)} ms`).join(', ')}`);
  }
  out(`target: no VIP ever left behind -> ${leftMiss.length === 0 ? 'PASS' : `MISS in ${leftMiss.length} row(s): ${leftMiss.map((r) => `${r.scenario}/${r.mode}`).join(', ')}`}`);
  const errors = rows.filter((r) => r.error !== undefined);
  if (errors.length > 0) out(`errors: ${errors.map((r) => `${r.scenario}/${r.mode}`).join(', ')} (the pair did not converge)`);
  printDetails(rows, out);
  const rate = judged.length === 0 ? 0 : Math.round(judged.reduce((s, r) => s + r.samplesPerS.vip, 0) / judged.length);
  out('');
  out(`runtime ${runtimeS.toFixed(0)} s; sampler ${rate} VIP samples/s per host on average; everything removed`);
  const json = {
    intervalMs: opts.intervalMs,
    modes,
    resilience,
    runtimeS: Math.round(runtimeS),
    targets: {
      zeroDualMasterOutsideIsolationWithoutWitness: dualMiss.length === 0 ? 'PASS' : 'MISS',
      samplingResolutionMs: SAMPLE_MS,
      overlapsWithinResolution: handovers.map((r) => `${r.scenario}/${r.mode}`),
      noVipLeftBehind: leftMiss.length === 0 ? 'PASS' : 'MISS',
    },
    rows: rows.map((r) => ({
      scenario: r.scenario, label: r.label, mode: r.mode, verdict: r.verdict, ...(r.error === undefined ? {} : { error: r.error }),
      holdMs: r.holdMs, settleMs: r.settleMs, dualVipMs: r.dualVipMs, dualMasterMs: r.dualMasterMs, noVipMs: r.noVipMs,
      outageMs: r.outageMs, failedRequests: r.failedRequests, faultOutageMs: r.faultOutageMs, faultFailed: r.faultFailed,
      healOutageMs: r.healOutageMs, healFailed: r.healFailed, leftBehind: r.leftBehind, finalMaster: r.finalMaster, final: r.final,
      clientOkAtEnd: r.clientOkAtEnd, clientArp: r.clientArp,
      cleanAfterHealMs: r.cleanAfterHealMs, exempt: r.exempt, vipCoverage: r.vipCoverage, samplesPerS: r.samplesPerS,
      ...(r.droppedAdverts === undefined ? {} : { droppedAdverts: r.droppedAdverts }),
      timeline: r.timeline, evidence: r.evidence,
    })),
  };
  out(`CHAOS_JSON ${JSON.stringify(json)}`);
  return 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`chaos: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
