/**
 * `npm run chaos -- --set attacks` (root; build first): hostile input against a converged haagent
 * pair in the lab topology (namespaces `hachaos-*`), one attack per fresh pair. The attacker is
 * the client namespace (10.77.0.50, on the same LAN as the hosts' ext0, not a configured peer), or
 * the dead master's own namespace for a replay (an on-path attacker that can use its address).
 *
 * The pair: VRRPv3 VRID 51 on ext0 every 100 ms, h1 priority 150 (preempt), h2 100, VIP
 * 10.77.0.100/24, hellos on ext0 and int0 with a peer key. Each attack prints what it did and what
 * the agents did: alive or not, states, takeover times, RSS before and during (VmRSS of the agent
 * process), CPU used, and a verdict against the bound named in the row. A table, then one
 * `CHAOS_ATTACKS_JSON {...}` line. Exit 0 whatever the verdicts; 1 only when the lab breaks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LabCluster, distPath, type RunningAgent } from '../../src/lab/cluster.js';
import { ip } from '../../src/lab/sh.js';
import { CLIENT_ADDRESS, LabTopology, VIP, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { request } from '../../src/daemon/control-server.js';

const PREFIX = 'hachaos';
const LAB_DIR = '/run/haagent-lab';
const PEER_PORT = 5798;
const INTERVAL_MS = 100;
/** VRRPv3 Master_Down_Interval of h2 (priority 100) at 100 ms. */
const MASTER_DOWN_MS = 3 * INTERVAL_MS + ((256 - 100) * INTERVAL_MS) / 256;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface AttackRow {
  readonly id: string;
  readonly attack: string;
  readonly bound: string;
  readonly result: string;
  readonly pass: boolean;
  readonly figures: Readonly<Record<string, unknown>>;
}

function configYaml(self: LabHost, peer: LabHost): string {
  const master = self.name === 'h1';
  return `peer-key: "chaos-attacks-key-${'k'.repeat(24)}"
instances:
  - name: web
    vrid: 51
    interface: ext0
    external: ext0
    vips: ["${VIP_CIDR}"]
    priority: ${master ? 150 : 100}
    preempt: ${master}
    advert-interval: ${INTERVAL_MS}ms
    vrrp-version: 3
    paths: [{ interface: ext0, peer: "${peer.extAddress}" }, { interface: int0, peer: "${peer.intAddress}" }]
`;
}

function rssKb(pid: number | undefined): number {
  if (pid === undefined) return -1;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? -1 : Number(m[1]);
  } catch {
    return -1;
  }
}

/** utime + stime of `pid` in seconds. */
function cpuS(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

const alive = (a: RunningAgent): boolean => a.child.exitCode === null && a.child.signalCode === null;
const mb = (kb: number): string => (kb < 0 ? '?' : `${(kb / 1024).toFixed(0)} MB`);

class AttackLab {
  readonly topo = new LabTopology(PREFIX);
  private cluster: LabCluster | undefined;
  private extra: ChildProcess[] = [];
  private mounts: string[] = [];

  host(i: 0 | 1): LabHost { return this.topo.hosts[i]; }
  stateDir(h: LabHost): string { return `${LAB_DIR}/${h.ns}-state`; }

  /** Runs the attacker in `ns` (undefined: this namespace) and resolves with its JSON lines. */
  attacker(ns: string | undefined, args: readonly string[], onLine?: (o: Record<string, unknown>) => void): Promise<Array<Record<string, unknown>>> {
    const cmd = [process.execPath, join(distPath('..'), 'test', 'chaos', 'attacker.js'), ...args];
    const child = ns === undefined ? spawn(cmd[0] as string, cmd.slice(1)) : spawn('ip', ['netns', 'exec', ns, ...cmd]);
    this.extra.push(child);
    const lines: Array<Record<string, unknown>> = [];
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        const o = JSON.parse(l) as Record<string, unknown>;
        lines.push(o);
        onLine?.(o);
      } catch { /* not ours */ }
    });
    return new Promise((resolve, reject) => child.once('close', (code) => {
      if (code === 0) resolve(lines);
      else reject(new Error(`attacker ${args[0] ?? ''} failed (${String(code)}): ${stderr.trim().slice(0, 300)}`));
    }));
  }

  async startPair(prepare?: (h: LabHost) => void): Promise<{ cluster: LabCluster; h1: RunningAgent; h2: RunningAgent }> {
    await this.endPair();
    for (const h of this.topo.hosts) {
      if ((await this.topo.extAddresses(h)).includes(VIP_CIDR)) await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0');
      rmSync(this.stateDir(h), { recursive: true, force: true });
      mkdirSync(this.stateDir(h), { recursive: true, mode: 0o700 });
      prepare?.(h);
    }
    const cluster = new LabCluster(this.topo);
    this.cluster = cluster;
    const [a, b] = this.topo.hosts;
    writeFileSync(cluster.configPath(a), configYaml(a, b), { mode: 0o600 });
    writeFileSync(cluster.configPath(b), configYaml(b, a), { mode: 0o600 });
    const h1 = cluster.startAgent(a, ['--config', cluster.configPath(a)]);
    const h2 = cluster.startAgent(b, ['--config', cluster.configPath(b)]);
    const ok = await cluster.waitFor(async () => (await cluster.stateOf(h1)) === 'MASTER' && (await cluster.stateOf(h2)) === 'BACKUP'
      && (await this.topo.extAddresses(a)).includes(VIP_CIDR), 20_000, 50);
    if (!ok) throw new Error(`the pair did not converge: h1 ${JSON.stringify(h1.logs.slice(-3))} h2 ${JSON.stringify(h2.logs.slice(-3))}`);
    await sleep(500); // hellos exchanged, epochs known
    return { cluster, h1, h2 };
  }

  async endPair(): Promise<void> {
    for (const c of this.extra) if (c.exitCode === null) c.kill('SIGKILL');
    this.extra = [];
    await this.cluster?.stopAll(500);
    this.cluster = undefined;
    for (const m of this.mounts.splice(0)) spawnSync('umount', ['-l', m]);
  }

  mountTmpfs(dir: string, sizeKb: number): void {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
    if (r.status !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr.toString()}`);
    this.mounts.push(dir);
  }

  async setup(): Promise<void> {
    await this.topo.create();
    mkdirSync(LAB_DIR, { recursive: true, mode: 0o700 });
    chmodSync(LAB_DIR, 0o700);
  }

  async teardown(): Promise<void> {
    await this.endPair();
    for (const h of this.topo.hosts) rmSync(this.stateDir(h), { recursive: true, force: true });
    await this.topo.destroy();
  }
}

/** Polls `pred` every 20 ms up to `capMs`; the ms it took, or undefined. */
async function timeUntil(pred: () => Promise<boolean>, capMs: number): Promise<number | undefined> {
  const start = performance.now();
  while (performance.now() - start < capMs) {
    try { if (await pred()) return Math.round(performance.now() - start); } catch { /* agent busy or gone */ }
    await sleep(20);
  }
  return undefined;
}

type Attack = (lab: AttackLab) => Promise<AttackRow>;

const ATTACKS: ReadonlyArray<readonly [string, Attack]> = [
  ['forged-hello', async (lab) => {
    const { cluster, h1, h2 } = await lab.startPair();
    const before = (await cluster.status(h1)).instances[0]?.transitionsTotal ?? 0;
    for (const h of lab.topo.hosts) await lab.attacker(lab.topo.client, ['hello-forge', CLIENT_ADDRESS, h.extAddress, String(PEER_PORT), '5']);
    await sleep(500);
    const s1 = await cluster.status(h1);
    const demoted = (s1.instances[0]?.transitionsTotal ?? 0) !== before || s1.instances[0]?.state !== 'MASTER';
    await request(h1.socket, { command: 'switchover' }, { timeoutMs: 3000 }).catch(() => undefined);
    const tookOver = await timeUntil(async () => (await cluster.stateOf(h2)) === 'MASTER', 3000);
    await sleep(300);
    const pass = alive(h1) && alive(h2) && !demoted && tookOver !== undefined;
    return { id: 'forged-hello', attack: '10 forged hellos per host from a non-peer (MASTER, priority 255, epoch 2^53-1, TTL 2, unkeyed and bad MAC), then a switchover', bound: 'no demotion, both agents alive after the switchover',
      result: `${alive(h1) && alive(h2) ? 'both alive' : `DEAD: ${alive(h1) ? '' : 'h1 '}${alive(h2) ? '' : 'h2'}`}; forgery ${demoted ? 'DEMOTED the master' : 'ignored'}; switchover ${tookOver === undefined ? 'did not complete' : `h2 MASTER in ${tookOver} ms`}`,
      pass, figures: { demoted, switchoverMs: tookOver ?? null, h1Alive: alive(h1), h2Alive: alive(h2) } };
  }],
  ['replayed-hello', async (lab) => {
    const { cluster, h1, h2 } = await lab.startPair();
    const [a, b] = lab.topo.hosts;
    const pcap = `/tmp/${PREFIX}-hellos.pcap`;
    const dump = spawn('ip', ['netns', 'exec', b.ns, 'tcpdump', '-i', 'ext0', '-U', '-w', pcap, `udp port ${PEER_PORT} and src host ${a.extAddress}`], { stdio: 'ignore' });
    await sleep(2000);
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));
    h1.child.kill('SIGKILL');
    const replay = lab.attacker(a.ns, ['hello-replay', `${a.extAddress}:${PEER_PORT}`, b.extAddress, String(PEER_PORT), pcap, '5000']);
    const ms = await timeUntil(async () => (await cluster.stateOf(h2)) === 'MASTER', 6000);
    const out = await replay.catch((e: unknown) => [{ error: String(e) }]);
    rmSync(pcap, { force: true });
    const bound = Math.round(MASTER_DOWN_MS + 1000);
    return { id: 'replayed-hello', attack: "genuine MASTER hellos captured for 2 s, replayed from the dead master's own address and port for 5 s after kill -9", bound: `backup MASTER within ${bound} ms (Master_Down_Interval ${Math.round(MASTER_DOWN_MS)} ms + 1 s)`,
      result: `${ms === undefined ? 'backup still not MASTER after 6 s' : `backup MASTER ${ms} ms after the kill`} (${JSON.stringify(out[0] ?? {})})`, pass: ms !== undefined && ms <= bound && alive(h2), figures: { takeoverMs: ms ?? null, replay: out[0] ?? null } };
  }],
  ['hello-flood', async (lab) => {
    const { cluster, h1, h2 } = await lab.startPair();
    const [a, b] = lab.topo.hosts;
    const rss0 = rssKb(h2.child.pid);
    const cpu0 = cpuS(h2.child.pid);
    const t0 = (await cluster.status(h2)).instances[0]?.transitionsTotal ?? 0;
    const started = performance.now();
    await Promise.all([
      lab.attacker(lab.topo.client, ['hello-flood', CLIENT_ADDRESS, b.extAddress, String(PEER_PORT), '10000']),
      lab.attacker(a.ns, ['hello-flood', a.extAddress, b.extAddress, String(PEER_PORT), '10000']),
    ]);
    const floodS = (performance.now() - started) / 1000;
    await sleep(1000);
    const rss1 = rssKb(h2.child.pid);
    const cpu = cpuS(h2.child.pid) - cpu0;
    const s2 = await cluster.status(h2);
    const transitions = (s2.instances[0]?.transitionsTotal ?? 0) - t0;
    const stable = transitions === 0 && (await cluster.stateOf(h1)) === 'MASTER' && s2.instances[0]?.state === 'BACKUP';
    const grownKb = rss1 - rss0;
    return { id: 'hello-flood', attack: '20,000 hellos in a burst to the backup: 10,000 random node names from a non-peer, 10,000 bad MACs from the peer\'s address', bound: 'no transition, RSS growth < 40 MB, both alive',
      result: `backup RSS ${mb(rss0)} -> ${mb(rss1)}, ${cpu.toFixed(2)} s CPU over a ${floodS.toFixed(1)} s flood (+1 s), ${transitions} transition(s), ${stable ? 'master and backup unchanged' : 'STATES CHANGED'}`,
      pass: alive(h1) && alive(h2) && stable && grownKb < 40 * 1024, figures: { rssBeforeKb: rss0, rssAfterKb: rss1, cpuS: cpu, floodS, transitions } };
  }],
  ['ctl-nested', async (lab) => {
    const { cluster, h1 } = await lab.startPair();
    const out = await lab.attacker(undefined, ['ctl-nested', h1.socket, '8000']);
    await sleep(200);
    const ok = alive(h1) && (await cluster.stateOf(h1).catch(() => undefined)) === 'MASTER';
    const reply = String(out[0]?.['reply'] ?? '');
    return { id: 'ctl-nested', attack: 'one control request whose command is 8,000 nested lists (16 KB)', bound: 'an error reply, the agent alive and answering',
      result: `${ok ? 'agent alive, status answers' : 'AGENT DEAD OR MUTE'}; reply: ${reply.slice(0, 120)}`, pass: ok && /"ok":false/.test(reply), figures: { reply } };
  }],
  ['ctl-partial', async (lab) => {
    const { cluster, h1 } = await lab.startPair();
    const rss0 = rssKb(h1.child.pid);
    let rssHold = -1;
    let statusDuring = 'not asked';
    const out = await lab.attacker(undefined, ['ctl-partial', h1.socket, '5000', '4000'], (o) => {
      if (o['phase'] !== 'holding') return;
      void sleep(1000).then(async () => {
        rssHold = rssKb(h1.child.pid);
        statusDuring = await cluster.stateOf(h1).then((s) => `answered (${String(s)})`, (e: unknown) => `no answer (${e instanceof Error ? e.message : String(e)})`);
      });
    });
    await sleep(500);
    const after = await cluster.stateOf(h1).catch(() => undefined);
    const last = out[out.length - 1] ?? {};
    const grownKb = rssHold - rss0;
    return { id: 'ctl-partial', attack: '5,000 control connections, each sending half a request, held 4 s', bound: 'RSS growth < 60 MB while held, the agent answers status after',
      result: `agent RSS ${mb(rss0)} -> ${mb(rssHold)} while held; status during the hold: ${statusDuring}; ${JSON.stringify(last)}; after: ${String(after)}`,
      pass: alive(h1) && after === 'MASTER' && rssHold > 0 && grownKb < 60 * 1024, figures: { rssBeforeKb: rss0, rssHeldKb: rssHold, statusDuring, attacker: last } };
  }],
  ['events-slow', async (lab) => {
    const { cluster, h1 } = await lab.startPair();
    const rss0 = rssKb(h1.child.pid);
    let rssMax = rss0;
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssKb(h1.child.pid)); }, 500);
    const slow = lab.attacker(undefined, ['ctl-slow', h1.socket, '16000']);
    await sleep(300);
    const flood = await lab.attacker(lab.topo.client, ['vrrp-flood', 'eth0', CLIENT_ADDRESS, '99', '15000']);
    const out = await slow;
    clearInterval(sampler);
    const after = await cluster.stateOf(h1).catch(() => undefined);
    const grownKb = rssMax - rss0;
    const cut = out[0]?.['cutOffByAgent'] === true;
    const why = String(out[0]?.['lastLine'] ?? '');
    return { id: 'events-slow', attack: 'an events subscriber (every type, per packet too) that never reads, during 15 s of VRRP flood (unknown VRID: one drop event each)', bound: 'the subscriber cut off, RSS growth < 60 MB, the agent alive',
      result: `agent RSS ${mb(rss0)} -> max ${mb(rssMax)}; ${Number(flood[0]?.['sent'] ?? 0)} adverts sent; subscriber ${cut ? `cut off by the agent (${/too slow/.test(why) ? 'told: too slow' : 'no reason seen'})` : 'never cut off'}; after: ${String(after)}`,
      pass: alive(h1) && after === 'MASTER' && grownKb < 60 * 1024 && cut, figures: { rssBeforeKb: rss0, rssMaxKb: rssMax, sent: flood[0]?.['sent'] ?? null, cutOff: cut, lastLine: why } };
  }],
  ['long-interval', async (lab) => {
    const { cluster, h1, h2 } = await lab.startPair();
    const [a, b] = lab.topo.hosts;
    await lab.attacker(lab.topo.client, ['vrrp-forge', 'eth0', CLIENT_ADDRESS, '51', '200', '4095', VIP]);
    const holder = async (): Promise<boolean> => (await lab.topo.extAddresses(a)).includes(VIP_CIDR) || (await lab.topo.extAddresses(b)).includes(VIP_CIDR);
    const lost = await timeUntil(async () => !(await holder()), 1000);
    const back = lost === undefined ? 0 : await timeUntil(holder, 20_000);
    const states = `${String(await cluster.stateOf(h1).catch(() => '?'))}/${String(await cluster.stateOf(h2).catch(() => '?'))}`;
    const gapMs = lost === undefined ? 0 : back;
    return { id: 'long-interval', attack: 'ONE forged VRRPv3 advert from a non-peer: priority 200, Max Advert Interval 40.95 s (an unauthenticated preemption the RFC allows)', bound: 'a VIP holder again within 5 s',
      result: lost === undefined ? 'the VIP never went away' : `${back === undefined ? 'NO VIP HOLDER for 20 s (cap)' : `no VIP holder for ${back} ms`}; states after h1/h2 ${states}`,
      pass: alive(h1) && alive(h2) && gapMs !== undefined && gapMs <= 5000, figures: { noHolderMs: gapMs ?? null } };
  }],
  ['epoch-enospc', async (lab) => {
    const b = lab.host(1);
    const { cluster, h1, h2 } = await lab.startPair((h) => { if (h === b) lab.mountTmpfs(lab.stateDir(h), 64); });
    spawnSync('dd', ['if=/dev/zero', `of=${join(lab.stateDir(b), 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
    h1.child.kill('SIGKILL');
    const ms = await timeUntil(async () => (await cluster.stateOf(h2)) === 'MASTER', 5000);
    await sleep(300);
    const inst = alive(h2) ? (await cluster.status(h2)).instances[0] : undefined;
    const noted = inst === undefined ? '' : JSON.stringify(Object.fromEntries(Object.entries(inst).filter(([k]) => /epoch|state(Error|Problem)/i.test(k))));
    return { id: 'epoch-enospc', attack: "the backup's state directory full (ENOSPC), then kill -9 of the master", bound: `backup alive and MASTER within ${Math.round(MASTER_DOWN_MS + 1000)} ms`,
      result: `${alive(h2) ? 'backup alive' : `BACKUP DIED (exit ${String(h2.child.exitCode)})`}; ${ms === undefined ? 'not MASTER after 5 s' : `MASTER in ${ms} ms`}; status ${noted}`,
      pass: alive(h2) && ms !== undefined && ms <= MASTER_DOWN_MS + 1000, figures: { takeoverMs: ms ?? null, status: noted } };
  }],
  ['planted-symlink', async (lab) => {
    const b = lab.host(1);
    const victim = `/tmp/${PREFIX}-victim`;
    writeFileSync(victim, 'victim\n');
    const { cluster, h1, h2 } = await lab.startPair((h) => {
      if (h !== b) return;
      for (const name of ['web.epoch.json.tmp', 'web.epoch.json']) symlinkSync(victim, join(lab.stateDir(h), name));
    });
    h1.child.kill('SIGKILL');
    const ms = await timeUntil(async () => (await cluster.stateOf(h2)) === 'MASTER', 5000);
    const text = readFileSync(victim, 'utf8');
    rmSync(victim, { force: true });
    return { id: 'planted-symlink', attack: "symlinks to a victim file planted at the epoch file's and its temp file's names, then a takeover that writes the epoch", bound: 'the victim unchanged, the backup takes over',
      result: `victim ${text === 'victim\n' ? 'unchanged' : 'OVERWRITTEN'}; backup ${alive(h2) ? 'alive' : 'DEAD'}, ${ms === undefined ? 'not MASTER' : `MASTER in ${ms} ms`}`,
      pass: text === 'victim\n' && alive(h2) && ms !== undefined, figures: { victimUnchanged: text === 'victim\n', takeoverMs: ms ?? null } };
  }],
  ['insecure-dir', async (lab) => {
    await lab.endPair();
    const a = lab.host(0);
    for (const h of lab.topo.hosts) {
      if ((await lab.topo.extAddresses(h)).includes(VIP_CIDR)) await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0');
    }
    const dir = lab.stateDir(a);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    const cluster = new LabCluster(lab.topo);
    writeFileSync(cluster.configPath(a), configYaml(a, lab.host(1)), { mode: 0o600 });
    const agent = cluster.startAgent(a, ['--config', cluster.configPath(a)]);
    const code = await Promise.race([agent.exited, sleep(5000).then(() => 'running' as const)]);
    const vip = (await lab.topo.extAddresses(a)).includes(VIP_CIDR);
    await cluster.stopAll(300);
    const msg = agent.logs.map((l) => String(l['msg'] ?? l['stderr'] ?? '')).find((m) => /state directory/.test(m)) ?? '';
    return { id: 'insecure-dir', attack: 'the state directory world-writable (mode 0777) at start', bound: 'start refused with a message naming the directory, no VIP added',
      result: `${code === 'running' ? 'STARTED ANYWAY' : `exit ${String(code)}`}; VIP ${vip ? 'ADDED' : 'not added'}; "${msg.trim().slice(0, 160)}"`,
      pass: code !== 'running' && code !== 0 && !vip && msg !== '', figures: { exit: code, message: msg } };
  }],
];

export const ATTACK_IDS = ATTACKS.map(([id]) => id);

/** Runs the attacks (all, or `only`), prints the table and the JSON line; resolves to the exit code. */
export async function runAttacks(only: readonly string[] | undefined, out: (line: string) => void): Promise<number> {
  const lab = new AttackLab();
  const rows: AttackRow[] = [];
  const onSignal = (): void => { void lab.teardown().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  const started = performance.now();
  try {
    await lab.setup();
    for (const [id, attack] of ATTACKS) {
      if (only !== undefined && !only.includes(id)) continue;
      try {
        rows.push(await attack(lab));
      } catch (e) {
        rows.push({ id, attack: id, bound: '', result: `ERROR: ${e instanceof Error ? e.message : String(e)}`, pass: false, figures: {} });
      }
      out(`${rows[rows.length - 1]?.pass === true ? 'PASS' : 'FAIL'}  ${id}: ${rows[rows.length - 1]?.result ?? ''}`);
      await lab.endPair();
    }
  } finally {
    await lab.teardown();
    process.off('SIGINT', onSignal);
  }
  out('');
  out('haagent chaos attacks: VRRPv3 VRID 51 on ext0 at 100 ms, h1 150 (preempt) / h2 100, hellos on ext0+int0 with a peer key; attacker = client 10.77.0.50 unless said');
  for (const r of rows) out(`| ${r.id} | ${r.attack} | ${r.bound} | ${r.pass ? 'PASS' : 'FAIL'}: ${r.result} |`);
  out(`${rows.filter((r) => r.pass).length} of ${rows.length} attacks withstood; runtime ${((performance.now() - started) / 1000).toFixed(0)} s`);
  out(`CHAOS_ATTACKS_JSON ${JSON.stringify(rows)}`);
  return 0;
}
