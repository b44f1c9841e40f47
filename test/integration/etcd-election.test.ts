/**
 * `election: etcd` with the real agent on 5 hosts and a real 3-member etcd (h1, h2, witness) in
 * namespaces: no VRRP packet is sent; the holder of the leader key is MASTER; when the master
 * crashes (SIGKILL: no goodbye, its lease runs out) the highest-priority live node takes over,
 * again and again down to the last one; the fencing epoch (the key's create revision) strictly
 * increases; the VIP, sampled every 10 ms on all hosts, never has two holders. Then preemption:
 * a higher-priority node that asks for it takes the key from a lower holder, which resigns.
 * Lease 2 s; time bounds are liveness limits, the figures are printed.
 */
import t from 'tap';
import { skipReason } from '../helpers/root.js';
import { etcdSuite, LEASE_S } from '../helpers/etcd-election.js';
import { holders, overlaps, servesFrom } from '../../src/lab/etcd-vip-sampler.js';
import type { EtcdLabAgent } from '../../src/lab/etcd-agents.js';

const skip = skipReason({ needsDist: true, needs: ['etcd', 'etcdctl', 'nft', 'stdbuf'] });
if (skip !== undefined) {
  t.plan(0, `etcd election tests skipped: ${skip}`);
} else {
  const { topo, withAgents } = etcdSuite(t, 'hee', 5);
  const priorities = [150, 140, 130, 120, 110];

  t.test('5 nodes: crash after crash, the best live node takes over; epochs rise; never two holders; no VRRP packet', async (t) => {
    await withAgents(async (c) => {
      const live = new Map<string, { agent: EtcdLabAgent; priority: number }>();
      topo.hosts.forEach((h, i) => {
        const priority = priorities[i] ?? 100;
        live.set(h.name, { agent: c.start(h, { election: 'etcd', priority }), priority });
      });
      const s = c.sampler();
      const masterNow = async (): Promise<string | undefined> => {
        const states = await Promise.all([...live].map(async ([name, n]) => [name, await c.agents.state(n.agent)] as const));
        const m = states.filter(([, st]) => st === 'MASTER');
        return m.length === 1 ? m[0]?.[0] : undefined;
      };
      let first: string | undefined;
      t.ok(await c.waitFor(async () => (first = await masterNow()) !== undefined, 30_000), 'one MASTER at start');
      const epochs: number[] = [];
      const order: string[] = [];
      let current = first;
      while (current !== undefined) {
        const m = live.get(current);
        if (m === undefined) break;
        const st = (await c.agents.status(m.agent)).instances[0];
        epochs.push(st?.epoch ?? -1);
        order.push(current);
        if (live.size === 1) break;
        // Held for a moment (every node sees the holder), then the holder crashes.
        await new Promise((r) => setTimeout(r, 1500));
        const killedAt = performance.now();
        await c.agents.kill(m.agent);
        live.delete(current);
        const best = [...live].sort((a, b) => b[1].priority - a[1].priority)[0]?.[0];
        let next: string | undefined;
        const ok = await c.waitFor(async () => (next = await masterNow()) !== undefined && servesFrom(s.ticks, next, killedAt) !== undefined, LEASE_S * 1000 + 15_000);
        if (!t.ok(ok, `a new MASTER after ${current} crashed`)) break;
        t.equal(next, best, `the best live node (${best ?? '?'}) took over from ${current}`);
        t.comment(`${current} crashed -> ${next ?? '?'} serves from +${Math.round((servesFrom(s.ticks, next ?? '', killedAt) ?? killedAt) - killedAt)} ms`);
        current = next;
      }
      t.equal(order.length, 5, `went through all five: ${order.join(' -> ')}`);
      t.ok(epochs.every((e, i) => e > 0 && (i === 0 || e > (epochs[i - 1] ?? 0))), `epochs strictly increase: ${epochs.join(' < ')}`);
      const o = overlaps(s.ticks);
      t.equal(o.length, 0, `never two holders in ${s.ticks.length} samples${o.length > 0 ? ` (${holders(o[0] ?? { t: 0, held: {} }).join(',')})` : ''}`);
      const last = live.values().next().value;
      if (last !== undefined) {
        const st = (await c.agents.status(last.agent)).instances[0];
        t.equal(st?.advertsSent, 0, 'no VRRP advert sent');
        t.equal(st?.advertsReceived, 0, 'no VRRP advert received');
      }
    });
  });

  t.test('preempt: a higher-priority node that asks for it takes over; the holder resigns first', async (t) => {
    await withAgents(async (c) => {
      const h1 = topo.host('h1');
      const h2 = topo.host('h2');
      const low = c.start(h2, { election: 'etcd', priority: 100, preempt: true });
      t.ok(await c.waitState(low, 'MASTER', 30_000), 'the lower node is MASTER alone');
      const s = c.sampler();
      const startedAt = performance.now();
      const high = c.start(h1, { election: 'etcd', priority: 200, preempt: true });
      t.ok(await c.waitState(high, 'MASTER', 30_000), 'the higher node took over');
      t.equal(await c.agents.state(low), 'BACKUP', 'the lower one resigned');
      await c.waitFor(() => servesFrom(s.ticks, 'h1', startedAt) !== undefined, 5000);
      t.equal(overlaps(s.ticks).length, 0, `never two holders in ${s.ticks.length} samples`);
    });
  });
}
