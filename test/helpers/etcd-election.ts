/**
 * Scaffolding of the election-on-etcd namespace tests: the etcd lab (src/lab/etcd-*.ts) with a
 * 3-member etcd on h1, h2 and the witness, built once per test file and removed at teardown
 * (namespaces, processes, temp dir); agents are started per case and stopped after it, with the
 * cuts healed and the VIP removed whatever the case did.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { EtcdLabAgents, type EtcdAgentOptions, type EtcdLabAgent } from '../../src/lab/etcd-agents.js';
import { EtcdMembers } from '../../src/lab/etcd-members.js';
import { ETCD_LAB_VIP, ETCD_LAB_VIP_CIDR, EtcdTopology, type EtcdLabHost } from '../../src/lab/etcd-topology.js';
import { VipSampler } from '../../src/lab/etcd-vip-sampler.js';
import { ip } from '../../src/lab/sh.js';

export const LEASE_S = 2;
export const ADVERT = '200ms';

export interface EtcdSuite {
  readonly topo: EtcdTopology;
  readonly members: EtcdMembers;
  withAgents(fn: (c: CaseContext) => Promise<void>): Promise<void>;
}

export interface CaseContext {
  readonly agents: EtcdLabAgents;
  start(host: EtcdLabHost, o: Partial<EtcdAgentOptions> & { priority: number }): EtcdLabAgent;
  sampler(): VipSampler;
  waitState(a: EtcdLabAgent, state: string, timeoutMs: number): Promise<boolean>;
  /** A condition polled every 50 ms until true or the timeout. */
  waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean>;
}

export function etcdSuite(t: Test, prefix: string, hostCount = 2): EtcdSuite {
  const topo = new EtcdTopology(`${prefix}${process.pid % 100000}`, hostCount);
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const members = new EtcdMembers(topo.members, join(dir, 'etcd'), `${prefix}-${process.pid}`);
  t.before(async () => {
    await topo.create();
    await members.start();
  });
  t.teardown(async () => {
    await members.stopAll();
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  let n = 0;
  async function withAgents(fn: (c: CaseContext) => Promise<void>): Promise<void> {
    const agents = new EtcdLabAgents(join(dir, `agents-${++n}`));
    const samplers: VipSampler[] = [];
    const waitFor = async (cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> => {
      const end = performance.now() + timeoutMs;
      while (performance.now() < end) {
        try { if (await cond()) return true; } catch { /* not ready */ }
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    };
    const ctx: CaseContext = {
      agents,
      start: (host, o) => agents.start(host, {
        election: 'vrrp+etcd', endpoints: members.endpointsFor(host), lease: `${LEASE_S}s`, advertInterval: ADVERT, ...o,
      }),
      sampler: () => {
        const s = new VipSampler(topo.hosts, ETCD_LAB_VIP, 10);
        samplers.push(s);
        s.start();
        return s;
      },
      waitState: (a, state, timeoutMs) => waitFor(async () => (await agents.state(a)) === state, timeoutMs),
      waitFor,
    };
    try {
      await fn(ctx);
    } finally {
      for (const s of samplers) await s.stop();
      await agents.stopAll();
      await topo.heal();
      for (const m of topo.members) members.restart(m);
      for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', ETCD_LAB_VIP_CIDR, 'dev', 'eth0').catch(() => undefined);
      await waitFor(async () => (await Promise.all(topo.members.map((m) => members.healthy(m)))).every(Boolean), 20_000);
    }
  }
  return { topo, members, withAgents };
}
