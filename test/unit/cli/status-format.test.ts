/**
 * `haagent status` text: the load balancer lines (a service line, then one per real server) and
 * that an instance without services prints none.
 */
import t from 'tap';
import { formatStatus } from '../../../src/cli/status-format.js';
import type { AgentStatus, InstanceStatus } from '../../../src/core/control/types.js';

function instance(services?: InstanceStatus['services']): InstanceStatus {
  return {
    name: 'web', vrid: 51, state: 'MASTER', priority: 150, effectivePriority: 150, interface: 'int0', external: 'ext0',
    vrrpVersion: 3, advertIntervalMs: 1000, preempt: true, vips: ['192.0.2.100/24'], address: '10.0.0.1',
    master: { address: '10.0.0.1', priority: 150, self: true }, timeInStateMs: 1000, transitions: [], advertsSent: 1,
    advertsReceived: 0, drops: {}, faults: [], vipLifetimeSec: 3, epoch: 1, maxEpochSeen: 0, maintenance: false,
    transitionsTotal: 1, checks: [], hooks: [], ...(services === undefined ? {} : { services }),
  };
}

function status(i: InstanceStatus): AgentStatus {
  return { pid: 1, version: '0.1.0', startedAt: '2026-01-01T00:00:00.000Z', instances: [i], interfaceDrops: {}, configSource: 'x', configLoadedAt: '2026-01-01T00:00:00.000Z' } as AgentStatus;
}

t.test('services: one line per service, one per real server', async (t) => {
  const text = formatStatus(status(instance([
    {
      vip: '192.0.2.100', port: 80, protocol: 'tcp', mode: 'nftables', scheduler: 'weighted', active: true,
      realServers: [
        { address: '10.0.0.11', port: 80, weight: 3, up: true, check: { type: 'http', status: 'healthy', detail: 'HTTP 200' } },
        { address: '10.0.0.12', port: 8080, weight: 1, up: false, check: { type: 'tcp', status: 'failing', detail: 'ECONNREFUSED' } },
      ],
    },
    {
      vip: 'fd00::100', port: 443, protocol: 'tcp', mode: 'proxy', scheduler: 'round-robin', active: true, error: 'cannot listen on [fd00::100]:443: EADDRINUSE',
      realServers: [{ address: 'fd00::11', port: 443, weight: 1, up: true, check: null }],
    },
  ])));
  t.match(text, 'web: service 192.0.2.100:80/tcp (nftables, weighted): serving, 1/2 real servers up\n'
    + '  -> 10.0.0.11:80  weight 3  up  (http check healthy: HTTP 200)\n'
    + '  -> 10.0.0.12:8080  weight 1  DOWN  (tcp check failing: ECONNREFUSED)\n'
    + 'web: service [fd00::100]:443/tcp (proxy, round-robin): serving, 1/1 real servers up - ERROR: cannot listen on [fd00::100]:443: EADDRINUSE\n'
    + '  -> [fd00::11]:443  weight 1  up  (no check)');
  const standby = formatStatus(status({ ...instance([{ vip: '192.0.2.100', port: 80, protocol: 'tcp', mode: 'nftables', scheduler: 'round-robin', active: false, realServers: [] }]), state: 'BACKUP' }));
  t.match(standby, 'service 192.0.2.100:80/tcp (nftables, round-robin): standby (not master), 0/0 real servers up');
  t.notMatch(formatStatus(status(instance())), /service/, 'no services, no lines');
});

t.test('hello drops: one line by reason when there are any, none otherwise', async (t) => {
  t.notMatch(formatStatus(status(instance())), /peer hellos dropped/);
  const text = formatStatus({ ...status(instance()), helloDrops: { 'hello-unknown-source': 12, 'hello-replay': 3 } });
  t.match(text, '\npeer hellos dropped: hello-unknown-source=12 hello-replay=3');
});

t.test('epoch file problems: a loud line naming the error; none when all is well', async (t) => {
  const failing = formatStatus(status({ ...instance(), epoch: 7, epochPersisted: false, epochStateError: 'writing /var/lib/haagent/web.epoch.json failed (ENOSPC: no space left)' }));
  t.match(failing, 'web: EPOCH 7 NOT PERSISTED: writing /var/lib/haagent/web.epoch.json failed (ENOSPC: no space left)');
  const recovered = formatStatus(status({ ...instance(), epochPersisted: true, epochStateError: 'the epoch file /x/web.epoch.json was unusable (not JSON) and moved aside to /x/web.epoch.json.corrupt-1' }));
  t.match(recovered, 'web: EPOCH STATE: the epoch file /x/web.epoch.json was unusable');
  t.notMatch(formatStatus(status({ ...instance(), epochPersisted: true })), /EPOCH/);
});

t.test('containment: the header says how hooks are contained; the last hook line says how it was', async (t) => {
  const hook = { hook: 'master', startedAt: '2026-01-01T00:00:01.000Z', durationMs: 12, exitCode: 0, timedOut: false, ok: true, outputTail: '', containment: 'cgroup' };
  const withHook = { ...instance(), hooks: [hook] };
  const cgroup = formatStatus({ ...status(withHook), containment: { mode: 'cgroup', detail: '/sys/fs/cgroup/x/haagent-hooks' } });
  t.match(cgroup, /^haagent 0\.1\.0, pid 1, up since 2026-01-01T00:00:00\.000Z, hooks contained by cgroup\n/);
  t.match(cgroup, 'web: last hook master at 2026-01-01T00:00:01.000Z: ok in 12 ms (cgroup)');
  const fallback = formatStatus({ ...status(instance()), containment: { mode: 'process-group', detail: 'no cgroup v2 hierarchy is mounted' } });
  t.match(fallback, /, hooks contained by process group \(no cgroup v2 hierarchy is mounted\)\n/);
  t.notMatch(formatStatus(status(instance())), /contained/, 'an older agent without the field: nothing said');
});

t.test('a VRRP sender dropped for its address list is one loud line', async (t) => {
  const text = formatStatus(status({ ...instance(), vrrpMismatches: [{ from: '10.0.0.2', reason: 'address-mismatch', theirs: ['192.0.2.99'], dropped: 12, lastSeenAgoMs: 80 }] }));
  t.match(text, /web: CONFIG MISMATCH: adverts from 10\.0\.0\.2 dropped \(address-mismatch, 12 so far; theirs: 192\.0\.2\.99, ours: /);
  t.notMatch(formatStatus(status(instance())), /CONFIG MISMATCH/);
});

t.test('a held-back takeover shows its reason on the instance line and below it, with the guard results', (t) => {
  const text = formatStatus(status({
    ...instance(), state: 'BACKUP', master: null,
    takeover: { blocked: true, reason: 'guard', detail: 'fresh: exit 1', since: '2026-01-01T00:00:05.000Z',
      guards: [{ name: 'fresh', ok: false, exitCode: 1, timedOut: false, durationMs: 12, outputTail: 'behind by 3 MB' }] },
  }));
  t.match(text, /^web\s+51\s+BACKUP \(held: guard\)/m);
  t.match(text, /^web: TAKEOVER HELD BACK \(guard\) since 2026-01-01T00:00:05.000Z: fresh: exit 1$/m);
  t.match(text, /^web: guard fresh: FAIL \(exit 1\) in 12 ms$/m);
  t.notMatch(formatStatus(status(instance())), /held|TAKEOVER|guard/, 'nothing without takeover status');
  t.end();
});

t.test('election on etcd: one line with etcd reachable or not, the key holder and its epoch', async (t) => {
  t.notMatch(formatStatus(status(instance())), /election/, 'plain VRRP: no line');
  const self = formatStatus(status({ ...instance(), election: { mode: 'vrrp+etcd', reachable: true, holder: '10.0.0.1', holderEpoch: 42 } }));
  t.match(self, '\nweb: election vrrp+etcd: etcd reachable, leader key held by self (epoch 42)');
  const other = formatStatus(status({ ...instance(), state: 'BACKUP', election: { mode: 'etcd', reachable: true, holder: '10.0.0.2', holderEpoch: 7 } }));
  t.match(other, 'web: election etcd: etcd reachable, leader key held by 10.0.0.2 (epoch 7)');
  const kept = formatStatus(status({ ...instance(), election: { mode: 'vrrp+etcd', reachable: false, keptWithoutEtcd: true } }));
  t.match(kept, 'web: election vrrp+etcd: ETCD UNREACHABLE, the leader key is free, MASTER KEPT WITHOUT ETCD (etcd-unreachable: keep)');
});

t.test('conntrack sync: one line; a dead daemon and an unreachable peer stand out', async (t) => {
  const ok = formatStatus(status({ ...instance(), conntrackSync: {
    running: true, pid: 77, restarts: 0, peerReachable: true, activeLink: 'int0', internalEntries: 3, externalEntries: 50,
    lastCommit: { ok: true, durationMs: 9, at: '2026-01-01T00:00:01.000Z' },
  } }));
  t.match(ok, 'web: conntrack sync: conntrackd running (pid 77), peer reachable on int0, 3 local / 50 peer connections, last commit ok in 9 ms at 2026-01-01T00:00:01.000Z');
  const bad = formatStatus(status({ ...instance(), conntrackSync: {
    running: false, pid: null, restarts: 2, peerReachable: false, activeLink: null, internalEntries: null, externalEntries: null, lastCommit: null,
    error: 'conntrackd exited (code 1)',
  } }));
  t.match(bad, 'web: conntrack sync: conntrackd NOT RUNNING, PEER UNREACHABLE (sync link down?), ? local / ? peer connections - conntrackd exited (code 1)');
  t.notMatch(formatStatus(status(instance())), /conntrack/, 'nothing without sync');
});
