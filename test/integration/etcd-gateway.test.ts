/**
 * EtcdGateway and LeaseKeeper (src/adapters/etcd) against a real 3-member etcd 3.4 cluster in
 * network namespaces (test/helpers/etcd.ts: tuned members, hosts h1..h3 run e1..e3, h4 runs
 * only clients). Clients run in the hosts' namespaces and use every endpoint, their own
 * member's first.
 *
 * Times compared across clients are wall-clock stamps taken in each client process on this one
 * machine; only their ORDER is asserted (and that things happen at all within generous bounds).
 */
import t, { type Test } from 'tap';
import { createEtcdLan, EtcdClientChild, etcdConfig, etcdSkipReason, startEtcdCluster, type EtcdCluster, type EtcdLan, type EtcdMember, type LanHost } from '../helpers/etcd.js';
import { sleep, waitFor } from '../helpers/wait.js';

const skip = etcdSkipReason();
if (skip !== undefined) {
  t.plan(0, `etcd gateway tests skipped: ${skip}`);
} else {
  run();
}

/** Liveness bound on every wait: the thing must happen at all; never a speed claim. */
const WAIT_MS = 30_000;

interface Bed { lan: EtcdLan; cluster: EtcdCluster; h: readonly LanHost[] }

async function bed(t: Test): Promise<Bed> {
  const lan = createEtcdLan(t, 4);
  const cluster = await startEtcdCluster(t, { members: lan.hosts.slice(0, 3), tuned: true });
  return { lan, cluster, h: lan.hosts };
}

/** The endpoints with `first`'s own member first (then the others in order). */
function localFirst(cluster: EtcdCluster, first: EtcdMember | undefined): string[] {
  const own = first === undefined ? [] : [first.endpoint];
  return [...own, ...cluster.endpoints.filter((e) => !own.includes(e))];
}

function memberOn(cluster: EtcdCluster, host: LanHost): EtcdMember | undefined {
  return cluster.members.find((m) => m.ns === host.ns);
}

async function held(c: EtcdClientChild): Promise<number> {
  const line = await c.waitFor((l) => l.ev === 'held', WAIT_MS);
  return line.at;
}

function run(): void {
  t.test('grant, keepalive, put on the lease, revoke: the key goes with the lease', async (t) => {
    const { cluster, h } = await bed(t);
    const c = EtcdClientChild.start(t, h[3]!.ns, 'c4');
    await c.keeper(etcdConfig(cluster.endpoints, { leaseTtlS: 1, keepaliveIntervalMs: 125 }));
    const g = await c.call('grant', 1);
    const lease = g.value as { leaseId: string; ttlS: number };
    t.equal(lease.ttlS, 1, 'a tuned cluster grants a 1 s lease as asked');
    t.same((await c.call('keepAlive', lease.leaseId)).value, { ttlS: 1 });
    const put = await c.call('put', '/t/k', 'v1', lease.leaseId);
    t.match(put.value, { revision: String });
    const got = (await c.call('get', '/t/k')).value as { value: string; leaseId: string; createRevision: string };
    t.match(got, { value: 'v1', leaseId: lease.leaseId });
    await c.call('put', '/t0', 'outside the prefix');
    t.same((await c.call('range', '/t/')).value, [{ key: '/t/k', value: 'v1', createRevision: got.createRevision, leaseId: lease.leaseId }], 'range: the prefix only');
    t.same((await c.call('revoke', lease.leaseId)).value, undefined);
    t.equal((await c.call('get', '/t/k')).value, undefined, 'revoking the lease deleted its key');
    t.same((await c.call('keepAlive', lease.leaseId)).value, { ttlS: 0 }, 'a revoked lease: ttl 0');
    const bad = await c.call('put', '/t/k2', 'v', lease.leaseId);
    t.equal(bad.code, 'HA_ERR_ETCD', 'a put on a gone lease is etcd\'s verdict');
    t.match(bad.error, /requested lease not found/);
    await c.stop();
  });

  t.test('createIfAbsent: one holder at a time; the create revision strictly increases across holders', async (t) => {
    const { cluster, h } = await bed(t);
    const key = '/t/web/leader';
    const clients = [0, 1, 2].map((i) => EtcdClientChild.start(t, h[i]!.ns, `c${i + 1}`));
    const leases: string[] = [];
    for (const [i, c] of clients.entries()) {
      const s = await c.keeper(etcdConfig(localFirst(cluster, memberOn(cluster, h[i]!))));
      leases.push(String(s.leaseId));
    }
    const results = await Promise.all(clients.map((c, i) => c.call('createIfAbsent', key, `node${i + 1}`, leases[i])));
    const values = results.map((r) => r.value as { held: boolean; createRevision: string; value: string });
    t.equal(values.filter((v) => v.held).length, 1, 'exactly one holder');
    const winner = values.findIndex((v) => v.held);
    const first = values[winner]!;
    for (const v of values) {
      t.equal(v.value, `node${winner + 1}`, 'everyone sees the holder\'s value');
      t.equal(v.createRevision, first.createRevision, 'and its create revision');
    }
    // Hand the key over twice: the holder stops (revokes its lease), the next one takes it.
    const revisions = [BigInt(first.createRevision)];
    let holder = winner;
    for (let round = 0; round < 2; round += 1) {
      const next = (holder + 1) % 3;
      clients[next]!.lines.length = 0;
      clients[next]!.createUntilHeld(key, `node${next + 1}`, 50);
      await sleep(300);
      t.equal(clients[next]!.events('held').length, 0, 'no second holder while the first holds');
      await clients[holder]!.stop();
      const line = await clients[next]!.waitFor((l) => l.ev === 'held', WAIT_MS);
      revisions.push(BigInt(String(line.createRevision)));
      holder = next;
    }
    t.ok(revisions[0]! < revisions[1]! && revisions[1]! < revisions[2]!, `create revisions ${revisions.join(' < ')}`);
    const stale = await clients[holder]!.call('deleteIfOwned', key, `${revisions[0]}n`);
    t.equal(stale.value, false, 'an old holder\'s revision no longer deletes the key');
    t.equal((await clients[holder]!.call('deleteIfOwned', key, `${revisions[2]}n`)).value, true, 'the current holder\'s does');
  });

  // The follower case with the shortest lease a tuned cluster grants, the leader case with the default.
  for (const [which, leaseTtlS] of [['follower', 1], ['leader', 2]] as const) {
    t.test(`a cut-off ${which} host (lease ${leaseTtlS}s): its client fences before a client on the majority side takes the key`, async (t) => {
      const { lan, cluster, h } = await bed(t);
      // The host that will be cut: one whose member is (not) the raft leader.
      let leader: EtcdMember | undefined;
      await waitFor('a raft leader', () => (leader = cluster.leader()) !== undefined, WAIT_MS);
      const cutHost = which === 'leader' ? h.find((x) => x.ns === leader?.ns)! : h.slice(0, 3).find((x) => x.ns !== leader?.ns)!;
      const otherHost = h.slice(0, 3).find((x) => x !== cutHost && x.ns !== leader?.ns) ?? h.slice(0, 3).find((x) => x !== cutHost)!;
      const a = EtcdClientChild.start(t, cutHost.ns, 'a');
      const b = EtcdClientChild.start(t, otherHost.ns, 'b');
      const cfgFor = (x: LanHost): ReturnType<typeof etcdConfig> => etcdConfig(localFirst(cluster, memberOn(cluster, x)), { leaseTtlS, keepaliveIntervalMs: leaseTtlS * 125 });
      const sa = await a.keeper(cfgFor(cutHost));
      await b.keeper(cfgFor(otherHost));
      const key = '/t/db/leader';
      const ra = await a.call('createIfAbsent', key, 'a', sa.leaseId);
      t.equal((ra.value as { held: boolean }).held, true, 'a holds the key');
      b.createUntilHeld(key, 'b', 50);
      await sleep(500);
      t.equal(b.events('held').length, 0, 'b does not get it while a renews');
      lan.cut(cutHost);
      const cutAt = Date.now();
      const [fenceLine, heldAt] = await Promise.all([a.waitFor((l) => l.ev === 'fence', WAIT_MS), held(b)]);
      t.ok(fenceLine.at < heldAt, `a fenced ${(fenceLine.at - cutAt).toFixed(0)} ms after the cut, b took the key ${(heldAt - cutAt).toFixed(0)} ms after it (${(heldAt - fenceLine.at).toFixed(0)} ms later)`);
      t.equal(fenceLine.id, sa.leaseId, 'the fence is for a\'s lease');
      t.equal(b.events('fence').length, 0, 'b on the majority side never fenced');
      lan.heal(cutHost);
    });
  }

  t.test('etcd unreachable from a client: unreachable and fence', async (t) => {
    const { lan, cluster, h } = await bed(t);
    const c = EtcdClientChild.start(t, h[3]!.ns, 'c4');
    const s = await c.keeper(etcdConfig(cluster.endpoints));
    t.ok(s.leaseId, 'a lease at start');
    lan.cut(h[3]!);
    const fence = await c.waitFor((l) => l.ev === 'fence', WAIT_MS);
    await c.waitFor((l) => l.ev === 'unreachable', WAIT_MS);
    t.equal(fence.id, s.leaseId);
    lan.heal(h[3]!);
    await c.waitFor((l) => l.ev === 'reachable', WAIT_MS);
    const renewed = await c.waitFor((l) => l.ev === 'renewed' && l.id !== s.leaseId, WAIT_MS);
    t.ok(renewed.id, 'a new lease once etcd is reachable again');
    await c.stop();
  });

  t.test('a member stopped without a partition: the lease survives (the client fails over to another endpoint)', async (t) => {
    const { cluster, h } = await bed(t);
    let leader: EtcdMember | undefined;
    await waitFor('a raft leader', () => (leader = cluster.leader()) !== undefined, WAIT_MS);
    // The client's first endpoint is a follower, which is then killed: only endpoint failover
    // (not a raft election) is exercised.
    const victim = cluster.members.find((m) => m !== leader)!;
    const c = EtcdClientChild.start(t, h[3]!.ns, 'c4');
    const s = await c.keeper(etcdConfig(localFirst(cluster, victim)));
    await sleep(500);
    await cluster.stop(victim);
    await sleep(3 * 2000);
    t.same(c.lines.filter((l) => ['fence', 'lost', 'unreachable'].includes(l.ev)), [], 'no fence, no loss, never unreachable');
    t.same(c.events('renewed').map((l) => l.id), [s.leaseId], 'still the first lease');
    const ka = await c.call('keepAlive', s.leaseId);
    t.match(ka.value, { ttlS: Number }, 'etcd still renews it');
    t.ok((ka.value as { ttlS: number }).ttlS > 0);
    cluster.start(victim);
    await c.stop();
  });
}
