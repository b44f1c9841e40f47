/** LeaseKeeper over a scripted gateway with real timers: fence deadline, lost lease, stop. */
import t from 'tap';
import { sleep, waitFor } from '../../helpers/wait.js';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { LeaseKeeper } from '../../../src/adapters/etcd/lease-keeper.js';
import type { EtcdGateway } from '../../../src/adapters/etcd/gateway.js';
import type { EtcdConfig } from '../../../src/core/config/types.js';
import { HaagentError } from '../../../src/core/errors.js';

const CFG: EtcdConfig = { endpoints: ['http://e1:2379'], leaseTtlS: 1, prefix: '/h', requestTimeoutMs: 100, keepaliveIntervalMs: 100 };
const clock = { nowMs: () => performance.now() };

/** A gateway whose answers the test switches: 'ack', 'gone' (ttl 0) or 'down' (rejects). */
class FakeGateway extends EventEmitter {
  mode: 'ack' | 'gone' | 'down' | 'slow' = 'ack';
  grantMode: 'ok' | 'down' = 'ok';
  next = 1;
  /** Send times (clock) of keepalives that were acknowledged. */
  acked: number[] = [];
  revoked: string[] = [];
  ttlS = CFG.leaseTtlS;
  async grant(ttlS: number): Promise<{ leaseId: string; ttlS: number }> {
    this.ttlS = ttlS;
    if (this.grantMode === 'down') throw new HaagentError('HA_ERR_ETCD', 'down');
    return { leaseId: String(this.next++), ttlS };
  }
  async keepAlive(_id: string): Promise<{ ttlS: number }> {
    const sent = clock.nowMs();
    await sleep(this.mode === 'slow' ? 1500 : 5);
    if (this.mode === 'down') throw new HaagentError('HA_ERR_ETCD', 'down');
    if (this.mode === 'gone') return { ttlS: 0 };
    this.acked.push(sent);
    return { ttlS: this.ttlS };
  }
  async revoke(id: string): Promise<void> { this.revoked.push(id); }
}

function keeper(gw: FakeGateway, cfg: EtcdConfig = CFG): { k: LeaseKeeper; events: Array<[string, number, string | undefined]> } {
  const k = new LeaseKeeper(gw as unknown as EtcdGateway, cfg, clock);
  const events: Array<[string, number, string | undefined]> = [];
  for (const name of ['fence', 'lost', 'renewed', 'reachable', 'unreachable']) k.on(name, (id?: string) => events.push([name, clock.nowMs(), id]));
  return { k, events };
}

t.test('healthy: one lease, renewed, never fenced; its deadline moves forward', async (t) => {
  const gw = new FakeGateway();
  // A 3 s lease here, so a loaded machine's late timers cannot fence a healthy keeper.
  const { k, events } = keeper(gw, { ...CFG, leaseTtlS: 3 });
  await k.start();
  t.equal(k.leaseId, '1');
  const d0 = k.fenceDeadlineMs();
  await waitFor('5 keepalives acknowledged', () => gw.acked.length >= 5, 15_000);
  t.ok(gw.acked.length >= 5, `${gw.acked.length} keepalives acknowledged`);
  t.ok(k.fenceDeadlineMs() > d0 + 500, 'deadline moved with the acks');
  t.same(events.map((e) => e[0]), ['renewed']);
  await k.stop();
  t.same(gw.revoked, ['1'], 'stop revokes');
});

t.test('acks stop: fence once, not before (last acked send + TTL - margin), then a new lease', async (t) => {
  const gw = new FakeGateway();
  const { k, events } = keeper(gw);
  await k.start();
  await sleep(300);
  gw.mode = 'down';
  gw.grantMode = 'down';
  await waitFor('a fence', () => events.some((e) => e[0] === 'fence'), 15_000);
  await sleep(300); // a second fence would come now
  const fences = events.filter((e) => e[0] === 'fence');
  t.equal(fences.length, 1, 'one fence');
  const lastAck = Math.max(...gw.acked);
  t.ok((fences[0]?.[1] ?? 0) > lastAck + 1000 - 100, 'not before the deadline');
  t.equal(fences[0]?.[2], '1');
  t.equal(k.leaseId, undefined);
  t.equal(k.fenceDeadlineMs(), Number.NEGATIVE_INFINITY);
  t.same(gw.revoked, ['1'], 'the fenced lease is revoked (best effort)');
  gw.mode = 'ack';
  gw.grantMode = 'ok';
  await waitFor('a new lease', () => k.leaseId !== undefined, 15_000);
  t.equal(k.leaseId, '2');
  t.same(events.map((e) => e[0]), ['renewed', 'fence', 'renewed']);
  await k.stop();
});

t.test('etcd says the lease is gone: fence, lost, renewed in that order', async (t) => {
  const gw = new FakeGateway();
  const { k, events } = keeper(gw);
  await k.start();
  gw.mode = 'gone';
  await waitFor('lost', () => events.some((e) => e[0] === 'lost'), 15_000);
  gw.mode = 'ack';
  await waitFor('renewed again', () => events.filter((e) => e[0] === 'renewed').length >= 2, 15_000);
  t.same(events.slice(0, 4).map((e) => [e[0], e[2]]), [['renewed', '1'], ['fence', '1'], ['lost', '1'], ['renewed', '2']]);
  t.not(k.leaseId, undefined);
  t.not(k.leaseId, '1');
  await k.stop();
});

t.test('grant fails at start: start resolves without a lease, and the grant is retried', async (t) => {
  const gw = new FakeGateway();
  gw.grantMode = 'down';
  const { k, events } = keeper(gw);
  await k.start();
  t.equal(k.leaseId, undefined);
  gw.grantMode = 'ok';
  await waitFor('a lease', () => k.leaseId !== undefined, 15_000);
  t.equal(k.leaseId, '1');
  t.same(events.map((e) => e[0]), ['renewed']);
  await k.stop();
});

t.test('gateway reachability is passed on; nothing after stop', async (t) => {
  const gw = new FakeGateway();
  const { k, events } = keeper(gw);
  await k.start();
  gw.emit('unreachable');
  gw.emit('reachable');
  await k.stop();
  gw.emit('unreachable');
  gw.mode = 'down';
  await sleep(1200);
  t.same(events.map((e) => e[0]), ['renewed', 'unreachable', 'reachable']);
});

t.test('an acknowledgement arriving after the fence does not bring the fenced lease back', async (t) => {
  const gw = new FakeGateway();
  const { k, events } = keeper(gw);
  await k.start();
  await sleep(200);
  gw.mode = 'slow'; // the next keepalive is acknowledged 1.5 s after it was sent: past the 0.9 s deadline
  gw.grantMode = 'down';
  await waitFor('a fence', () => events.some((e) => e[0] === 'fence'), 15_000);
  await sleep(1600); // the late acknowledgement arrives meanwhile
  t.same(events.map((e) => e[0]), ['renewed', 'fence'], 'fenced while the keepalive was in flight');
  t.equal(k.leaseId, undefined, 'the late acknowledgement of lease 1 was ignored');
  t.equal(k.fenceDeadlineMs(), Number.NEGATIVE_INFINITY);
  await k.stop();
});
