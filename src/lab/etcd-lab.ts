/**
 * `haagent lab --etcd`: two hosts elected with `vrrp+etcd` on a 3-member etcd (h1, h2 and a
 * witness namespace), the VIP sampled every 10 ms on both hosts, and the two partitions that
 * split a pair of keepalived:
 *   1. h1 and h2 cannot reach each other but both reach the witness: VRRP alone would make both
 *      MASTER; here h1 keeps the VIP and h2 is held back by etcd (it cannot win the key);
 *   2. the master h1 cut off from everyone: it releases the VIP when its lease's fence deadline
 *      passes, and h2 (with the etcd majority) serves once the lease has expired in etcd.
 * Prints the figures (release, takeover, gap, samples with two holders: must be 0). Everything
 * is removed at the end, also on error or Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { HaagentError } from '../core/errors.js';
import { EtcdLabAgents, type EtcdLabAgent } from './etcd-agents.js';
import { EtcdMembers } from './etcd-members.js';
import { ETCD_LAB_VIP, EtcdTopology } from './etcd-topology.js';
import { overlaps, servesFrom, VipSampler } from './etcd-vip-sampler.js';

export interface EtcdLabOptions {
  readonly say: (line: string) => void;
  /** etcd lease in whole seconds (1 works with the tuned members; 2 is kinder to a loaded machine). */
  readonly leaseS?: number;
  readonly advertInterval?: string;
  /** Namespace prefix (default haetcd) and working directory (default /run/haagent-lab-etcd): tests use their own. */
  readonly prefix?: string;
  readonly dir?: string;
}

const DEFAULT_DIR = '/run/haagent-lab-etcd';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function need(cmd: string): void {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
  } catch {
    throw new HaagentError('HA_ERR_LAB', `${cmd} is not installed (Debian: apt-get install etcd-server etcd-client nftables coreutils)`);
  }
}

/** Polls `cond` every 50 ms until it holds (true) or `timeoutMs` passed (false); a rejection counts as not yet. */
export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (await cond().catch(() => false)) return true;
    await sleep(50);
  }
  return false;
}

export async function runEtcdLab(o: EtcdLabOptions): Promise<void> {
  if (process.getuid?.() !== 0) throw new HaagentError('HA_ERR_LAB', 'the lab lives in network namespaces: run it as root (sudo haagent lab --etcd)');
  for (const c of ['etcd', 'etcdctl', 'nft', 'stdbuf']) need(c);
  const say = o.say;
  const leaseS = o.leaseS ?? 2;
  const advert = o.advertInterval ?? '200ms';
  const DIR = o.dir ?? DEFAULT_DIR;
  const topo = new EtcdTopology(o.prefix ?? 'haetcd');
  const members = new EtcdMembers(topo.members, `${DIR}/etcd`, 'haagent-lab');
  rmSync(DIR, { recursive: true, force: true });
  const agents = new EtcdLabAgents(`${DIR}/agents`);
  const h1 = topo.host('h1');
  const h2 = topo.host('h2');
  let sampler: VipSampler | undefined;
  const onSignal = (): void => { void cleanup().then(() => process.exit(130)); };
  async function cleanup(): Promise<void> {
    await sampler?.stop();
    await agents.stopAll();
    await members.stopAll();
    await topo.destroy();
    rmSync(DIR, { recursive: true, force: true });
  }
  process.once('SIGINT', onSignal);
  try {
    await topo.create();
    say(`namespaces: ${topo.namespaces.join(', ')} (one switch; h1 ${h1.address}, h2 ${h2.address}, witness ${topo.witness.address})`);
    await members.start();
    say(`etcd: 3 members on h1, h2 and the witness (heartbeat 50 ms, election timeout 500 ms, pre-vote); lease ${leaseS} s`);
    const start = (h: typeof h1, priority: number): EtcdLabAgent => agents.start(h, {
      election: 'vrrp+etcd', priority, endpoints: members.endpointsFor(h), lease: `${leaseS}s`, advertInterval: advert,
    });
    const a1 = start(h1, 150);
    if (!(await waitFor(async () => (await agents.state(a1)) === 'MASTER', 30_000))) throw new HaagentError('HA_ERR_LAB', `h1 did not become MASTER:\n${agents.tail(a1)}`);
    const a2 = start(h2, 100);
    if (!(await waitFor(async () => (await agents.state(a2)) === 'BACKUP', 30_000))) throw new HaagentError('HA_ERR_LAB', `h2 did not start:\n${agents.tail(a2)}`);
    const epoch1 = (await agents.status(a1)).instances[0]?.epoch;
    say(`haagent (election: vrrp+etcd, advert interval ${advert}): h1 MASTER with the leader key (epoch ${String(epoch1)}), h2 BACKUP; VIP ${ETCD_LAB_VIP} sampled every 10 ms on both`);
    sampler = new VipSampler(topo.hosts, ETCD_LAB_VIP, 10);
    sampler.start();
    await sleep(1000);

    say('');
    say('1. h1 and h2 cut from each other, both still reach the witness (two keepalived would both be MASTER now)');
    const cut1 = performance.now();
    await topo.cutBetween(h1, h2);
    const holdMs = leaseS * 1000 + 3000;
    await sleep(holdMs);
    const during = sampler.since(cut1);
    const st2 = (await agents.status(a2)).instances[0];
    say(`   over ${holdMs} ms: h1 held the VIP in ${during.filter((k) => k.held.h1 === true).length}/${during.length} samples, h2 in ${during.filter((k) => k.held.h2 === true).length}`);
    say(`   h2 is ${st2?.state ?? '?'}, takeover held back: ${st2?.takeover?.reason ?? 'no'} (${st2?.takeover?.detail ?? ''})`);
    await topo.heal();
    await sleep(1500);

    say('');
    say('2. h1 (the master) cut off from h2 and the witness');
    const cut2 = performance.now();
    await topo.isolate(h1);
    const served = await waitFor(async () => servesFrom(sampler?.ticks ?? [], 'h2', cut2) !== undefined, leaseS * 1000 + 15_000);
    await sleep(1000);
    const after = sampler.since(cut2);
    const released = after.find((k) => k.held.h1 === false);
    const servesAt = servesFrom(sampler.ticks, 'h2', cut2);
    const epoch2 = (await agents.status(a2)).instances[0]?.epoch;
    say(`   h1 released the VIP at +${released === undefined ? '?' : Math.round(released.t - cut2)} ms (its lease fence deadline: it cannot renew the lease)`);
    say(served && servesAt !== undefined
      ? `   h2 serves from +${Math.round(servesAt - cut2)} ms (the lease expired in etcd, h2 won the key: epoch ${String(epoch2)})`
      : '   h2 did not take over in time');
    if (released !== undefined && servesAt !== undefined) say(`   gap with no holder: ${Math.round(servesAt - released.t)} ms`);
    await topo.heal();
    await sleep(1000);
    await sampler.stop();
    const both = overlaps(sampler.ticks);
    say('');
    say(`samples with two holders: ${both.length} of ${sampler.ticks.length}`);
    if (both.length > 0 || !served) throw new HaagentError('HA_ERR_LAB', 'the etcd lab did not show what it should (see above)');
  } finally {
    process.off('SIGINT', onSignal);
    await cleanup();
  }
}
