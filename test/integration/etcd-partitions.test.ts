/**
 * `election: vrrp+etcd` with the real agent and a real 3-member etcd (h1, h2, witness) in
 * namespaces, under every partition of {h1, h2, witness}: each host cut off in turn, h1-h2 cut
 * while both reach the witness (where two keepalived would both be MASTER), and etcd members
 * lost without any partition. The VIP is sampled every 10 ms on both hosts: never two holders;
 * when the master is cut off, the majority side serves. Lease 2 s, advert interval 200 ms; the
 * time bounds are liveness limits (widened for a loaded machine), the figures are printed.
 */
import t, { type Test } from 'tap';
import { skipReason } from '../helpers/root.js';
import { etcdSuite, LEASE_S, type CaseContext } from '../helpers/etcd-election.js';
import { holders, overlaps, servesFrom, type VipSampler } from '../../src/lab/etcd-vip-sampler.js';
import type { EtcdLabAgent } from '../../src/lab/etcd-agents.js';

const skip = skipReason({ needsDist: true, needs: ['etcd', 'etcdctl', 'nft', 'stdbuf'] });
if (skip !== undefined) {
  t.plan(0, `etcd partition tests skipped: ${skip}`);
} else {
  const { topo, members, withAgents } = etcdSuite(t, 'hep');
  const h1 = topo.host('h1');
  const h2 = topo.host('h2');
  const w = topo.witness;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  /** h1 MASTER (priority 150), h2 BACKUP (100), both converged; the sampler running. */
  async function converged(c: CaseContext, t: Test): Promise<{ a1: EtcdLabAgent; a2: EtcdLabAgent; s: VipSampler }> {
    const a1 = c.start(h1, { priority: 150 });
    if (!t.ok(await c.waitState(a1, 'MASTER', 20_000), 'h1 MASTER')) t.comment(c.agents.tail(a1));
    const a2 = c.start(h2, { priority: 100 });
    t.ok(await c.waitState(a2, 'BACKUP', 20_000), 'h2 BACKUP');
    const s = c.sampler();
    await sleep(1000);
    return { a1, a2, s };
  }

  function noOverlap(t: Test, s: VipSampler, label: string): void {
    const o = overlaps(s.ticks);
    t.equal(o.length, 0, `${label}: never two holders in ${s.ticks.length} samples${o.length > 0 ? ` (first at ${Math.round(o[0]?.t ?? 0)}: ${holders(o[0] ?? { t: 0, held: {} }).join(',')})` : ''}`);
  }

  async function stays(t: Test, c: CaseContext, s: VipSampler, label: string, forMs: number): Promise<void> {
    const from = performance.now();
    await sleep(forMs);
    const after = s.since(from);
    const lost = after.filter((k) => k.held.h1 !== true);
    t.equal(lost.length, 0, `${label}: h1 kept the VIP in all ${after.length} samples over ${forMs} ms`);
    t.equal(after.filter((k) => k.held.h2 === true).length, 0, `${label}: h2 never held it`);
  }

  t.test('h1 (the master) cut off: it releases, h2 serves within the lease plus the takeover', async (t) => {
    await withAgents(async (c) => {
      const { a2, s } = await converged(c, t);
      const cutAt = performance.now();
      await topo.isolate(h1);
      const served2 = await c.waitFor(() => servesFrom(s.ticks, 'h2', cutAt) !== undefined && s.ticks[s.ticks.length - 1]?.held.h2 === true, LEASE_S * 1000 + 10_000);
      if (!t.ok(served2, 'h2 serves')) t.comment(c.agents.tail(a2));
      await sleep(1000);
      const released = s.since(cutAt).find((k) => k.held.h1 === false);
      const served = servesFrom(s.ticks, 'h2', cutAt);
      t.ok(released !== undefined, 'h1 released the VIP');
      t.comment(`h1 released at +${Math.round((released?.t ?? cutAt) - cutAt)} ms, h2 serves from +${Math.round((served ?? cutAt) - cutAt)} ms (lease ${LEASE_S} s)`);
      noOverlap(t, s, 'h1 cut off');
      t.equal((await c.agents.status(a2)).instances[0]?.epoch !== undefined, true);
    });
  });

  t.test('h1 cut off while its etcd member is etcd\'s raft leader (the slow case): still never two holders, h2 serves', async (t) => {
    await withAgents(async (c) => {
      const { a2, s } = await converged(c, t);
      await members.makeLeader(h1);
      t.ok(await c.waitFor(async () => (await members.statuses()).some((m) => m.name === 'h1' && m.leader), 10_000), 'h1\'s member leads');
      await sleep(500);
      const cutAt = performance.now();
      await topo.isolate(h1);
      const served2 = await c.waitFor(() => servesFrom(s.ticks, 'h2', cutAt) !== undefined && s.ticks[s.ticks.length - 1]?.held.h2 === true, LEASE_S * 1000 + 15_000);
      if (!t.ok(served2, 'h2 serves')) t.comment(c.agents.tail(a2));
      await sleep(1000);
      const released = s.since(cutAt).find((k) => k.held.h1 === false);
      t.comment(`raft leader cut: h1 released at +${Math.round((released?.t ?? cutAt) - cutAt)} ms, h2 serves from +${Math.round((servesFrom(s.ticks, 'h2', cutAt) ?? cutAt) - cutAt)} ms`);
      noOverlap(t, s, 'raft leader cut');
    });
  });

  t.test('h2 (the backup) cut off: nothing moves; it may not take over on its side', async (t) => {
    await withAgents(async (c) => {
      const { a2, s } = await converged(c, t);
      await topo.isolate(h2);
      await stays(t, c, s, 'h2 cut off', LEASE_S * 1000 + 3000);
      noOverlap(t, s, 'h2 cut off');
      const st = await c.agents.status(a2);
      t.equal(st.instances[0]?.takeover?.reason, 'etcd', 'h2 is held back by etcd, visible in status');
    });
  });

  t.test('witness cut off: nothing moves', async (t) => {
    await withAgents(async (c) => {
      const { s } = await converged(c, t);
      await topo.isolate(w);
      await stays(t, c, s, 'witness cut off', LEASE_S * 1000 + 3000);
      noOverlap(t, s, 'witness cut off');
    });
  });

  t.test('h1-h2 cut, both reach the witness (keepalived would split): h1 keeps serving, h2 is held back by etcd', async (t) => {
    await withAgents(async (c) => {
      const { a2, s } = await converged(c, t);
      await topo.cutBetween(h1, h2);
      await stays(t, c, s, 'h1-h2 cut', LEASE_S * 1000 + 4000);
      noOverlap(t, s, 'h1-h2 cut');
      const st = (await c.agents.status(a2)).instances[0];
      t.equal(st?.state, 'BACKUP');
      t.equal(st?.takeover?.reason, 'etcd', `h2 held back: ${st?.takeover?.detail ?? ''}`);
      await topo.heal();
      await sleep(1500);
      t.equal((await c.agents.state(a2)), 'BACKUP', 'after the heal h2 hears h1 again and stays BACKUP');
      noOverlap(t, s, 'after the heal');
    });
  });

  t.test('etcd members lost without a partition (the witness, then h1\'s own): nothing moves', async (t) => {
    await withAgents(async (c) => {
      const { s } = await converged(c, t);
      await members.kill(w);
      await stays(t, c, s, 'witness member down', LEASE_S * 1000 + 2000);
      members.restart(w);
      await c.waitFor(() => members.healthy(w), 20_000);
      await members.kill(h1);
      await stays(t, c, s, 'h1 member down', LEASE_S * 1000 + 2000);
      noOverlap(t, s, 'members lost');
    });
  });
}
