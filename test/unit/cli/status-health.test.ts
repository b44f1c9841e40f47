import t from 'tap';
import { statusHealth } from '../../../src/cli/status-health.js';
import type { AgentStatus, InstanceStatus, PeerStatus } from '../../../src/core/control/types.js';

const inst = (over: Partial<InstanceStatus>): InstanceStatus => ({
  name: 'web', vrid: 51, state: 'BACKUP', priority: 100, effectivePriority: 100, interface: 'eth1', external: 'eth0', vrrpVersion: 3,
  advertIntervalMs: 1000, preempt: false, vips: ['192.0.2.10/24'], address: '10.0.0.1', master: null, timeInStateMs: 1, transitions: [],
  advertsSent: 0, advertsReceived: 0, drops: {}, faults: [], vipLifetimeSec: 0, epoch: 0, maxEpochSeen: 0, maintenance: false,
  transitionsTotal: 0, checks: [], hooks: [], ...over,
});
const status = (...instances: InstanceStatus[]): AgentStatus => ({ pid: 1, version: 'x', startedAt: 'x', instances, interfaceDrops: {}, configSource: 'x', configLoadedAt: 'x' });
const peer = (state: PeerStatus['state'], lastSeenAgoMs: number): PeerStatus => ({ node: 'h2@10.0.0.2', state, lastSeenAgoMs } as PeerStatus);

t.test('ok, fault, dual master', async (t) => {
  t.same(statusHealth(status(inst({ state: 'MASTER', peers: [peer('BACKUP', 100)] }), inst({ name: 'b' }))), { verdict: 'ok', problems: [] });
  t.same(statusHealth(status(inst({ state: 'FAULT', faults: ['check:http'] }))), { verdict: 'fault', problems: ['web: FAULT (check:http)'] });
  t.match(statusHealth(status(inst({ state: 'MASTER', peers: [peer('MASTER', 500)] }), inst({ name: 'x', state: 'FAULT' }))),
    { verdict: 'dual-master', problems: ['web: this node and h2@10.0.0.2 are both MASTER', 'x: FAULT'] });
  t.equal(statusHealth(status(inst({ state: 'MASTER', peers: [peer('MASTER', 3001)] }))).verdict, 'ok', 'a MASTER report older than 3 intervals is stale');
  t.equal(statusHealth(status(inst({ state: 'BACKUP', peers: [peer('MASTER', 10)] }))).verdict, 'ok', 'a backup hearing a master is normal');
  const mm = { from: '10.0.0.2', reason: 'address-mismatch', theirs: ['192.0.2.10'], dropped: 9, lastSeenAgoMs: 100 };
  t.same(statusHealth(status(inst({ state: 'MASTER', vrrpMismatches: [mm] }))), { verdict: 'dual-master', problems: ['web: this node and 10.0.0.2 (its adverts dropped: address-mismatch) are both MASTER'] },
    'a master whose peer\'s adverts are dropped for their address list: two masters');
  t.equal(statusHealth(status(inst({ state: 'MASTER', vrrpMismatches: [{ ...mm, lastSeenAgoMs: 5000 }] }))).verdict, 'ok', 'not when that sender went quiet');
});

t.test('a held-back takeover: verdict takeover-blocked (exit 6), below fault', async (t) => {
  const held = inst({ takeover: { blocked: true, reason: 'guard', detail: 'fresh: exit 1', since: 'x' } });
  t.same(statusHealth(status(held)), { verdict: 'takeover-blocked', problems: ['web: takeover held back (guard): fresh: exit 1'] });
  t.equal(statusHealth(status(held, inst({ name: 'f', state: 'FAULT' }))).verdict, 'fault', 'fault wins');
  t.equal(statusHealth(status(inst({ takeover: { blocked: false } }))).verdict, 'ok', 'not blocked: ok');
});
