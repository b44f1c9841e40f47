/**
 * The Prometheus endpoint (src/daemon/metrics.ts) on a real loopback HTTP server: series built
 * from status() at scrape, series counted from AgentEvents, counter deltas and resets, 404/405,
 * listen-address parsing and close().
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import t from 'tap';
import { parseListen, startMetricsServer } from '../../../src/daemon/metrics.js';
import type { AgentStatus, InstanceStatus } from '../../../src/core/control/types.js';
import type { AgentEvent } from '../../../src/core/control/events.js';

const AT = '2026-01-01T00:00:00.000Z';

function instance(over: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    name: 'vi_1',
    vrid: 51,
    state: 'MASTER',
    priority: 150,
    effectivePriority: 140,
    interface: 'eth0',
    external: 'eth0',
    vrrpVersion: 3,
    advertIntervalMs: 1000,
    preempt: true,
    vips: ['192.0.2.100/24'],
    address: '192.0.2.1',
    master: { address: '192.0.2.1', priority: 140, self: true },
    timeInStateMs: 5000,
    transitions: [],
    advertsSent: 10,
    advertsReceived: 3,
    drops: { 'ttl is not 255': 2 },
    faults: [],
    vipLifetimeSec: 3,
    epoch: 0,
    maxEpochSeen: 0,
    maintenance: false,
    transitionsTotal: 0,
    checks: [],
    hooks: [],
    ...over,
  };
}

type CheckStatus = NonNullable<InstanceStatus['checks']>[number];

/** Only the fields metrics reads; the rest of CheckStatus belongs to the health monitor. */
function check(name: string, status: 'healthy' | 'failing' | 'unknown'): CheckStatus {
  return { name, type: 'tcp', status, weight: 0, lastResult: null } as unknown as CheckStatus;
}

/** An InstanceStatus as agents before the `checks` field reported it. */
function noChecks(inst: InstanceStatus): InstanceStatus {
  const { checks: _checks, ...rest } = inst;
  return rest as InstanceStatus;
}

function status(instances: InstanceStatus[], interfaceDrops: AgentStatus['interfaceDrops'] = {}): AgentStatus {
  return { pid: 1, version: 'test', startedAt: AT, instances, interfaceDrops, configSource: '/etc/haagent/haagent.yaml', configLoadedAt: AT };
}

function fakeAgent(instances: InstanceStatus[]): { status: () => AgentStatus; events: EventEmitter; set: (i: InstanceStatus[], ifDrops?: AgentStatus['interfaceDrops']) => void } {
  let current = status(instances, { eth0: { 'bad checksum': 4 } });
  return {
    status: () => current,
    events: new EventEmitter(),
    set(i, ifDrops) {
      current = { ...current, instances: i, interfaceDrops: ifDrops ?? current.interfaceDrops };
    },
  };
}

function emit(events: EventEmitter, ev: AgentEvent): void {
  events.emit('event', ev);
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one exact series line, or undefined. */
function value(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

t.test('parseListen accepts host:port and [v6]:port, rejects the rest', async (t) => {
  t.same(parseListen('127.0.0.1:9650'), { host: '127.0.0.1', port: 9650 });
  t.same(parseListen('[::1]:0'), { host: '::1', port: 0 });
  for (const bad of ['127.0.0.1', '::1:9650', '[::1]', '127.0.0.1:65536', '[127.0.0.1]:1', ':9650', '127.0.0.1:-1']) {
    t.throws(() => parseListen(bad), { code: 'HA_ERR_INVALID_ARGUMENT' }, bad);
  }
});

t.test('status gauges, mirrored counters and event-derived series', async (t) => {
  // Instances without `checks` in status(): check_up comes from the events alone.
  const agent = fakeAgent([noChecks(instance()), noChecks(instance({ name: 'vi_2', vrid: 52, state: 'BACKUP', faults: ['eth1 down', 'check web'] }))]);
  const server = await startMetricsServer('127.0.0.1:0', agent);
  t.teardown(() => server.close());
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  t.not(server.url, 'http://127.0.0.1:0/metrics', 'the real port is reported');

  let body = await scrape(server.url);
  t.equal(value(body, 'haagent_instance_state{instance="vi_1",vrid="51",state="MASTER"}'), 1);
  t.equal(value(body, 'haagent_instance_state{instance="vi_1",vrid="51",state="BACKUP"}'), 0);
  t.equal(value(body, 'haagent_instance_state{instance="vi_2",vrid="52",state="BACKUP"}'), 1);
  t.equal(value(body, 'haagent_instance_state{instance="vi_2",vrid="52",state="MASTER"}'), 0);
  t.equal(value(body, 'haagent_priority{instance="vi_1",vrid="51"}'), 150);
  t.equal(value(body, 'haagent_effective_priority{instance="vi_1",vrid="51"}'), 140);
  t.equal(value(body, 'haagent_faults{instance="vi_1"}'), 0);
  t.equal(value(body, 'haagent_faults{instance="vi_2"}'), 2);
  t.equal(value(body, 'haagent_adverts_sent_total{instance="vi_1",vrid="51"}'), 10);
  t.equal(value(body, 'haagent_adverts_received_total{instance="vi_1",vrid="51"}'), 3);
  t.equal(value(body, 'haagent_drops_total{instance="vi_1",reason="ttl is not 255"}'), 2);
  t.equal(value(body, 'haagent_interface_drops_total{iface="eth0",reason="bad checksum"}'), 4);
  t.match(body, /^# TYPE haagent_adverts_sent_total counter$/m);
  t.match(body, /^# TYPE haagent_check_latency_seconds histogram$/m);
  t.match(body, /^process_cpu_user_seconds_total /m, 'default process metrics');
  t.match(body, /^nodejs_eventloop_lag_seconds /m);

  emit(agent.events, { at: AT, type: 'transition', instance: 'vi_2', vrid: 52, from: 'BACKUP', to: 'MASTER', reason: 'master down' });
  emit(agent.events, { at: AT, type: 'transition', instance: 'vi_2', vrid: 52, from: 'BACKUP', to: 'MASTER', reason: 'master down' });
  emit(agent.events, { at: AT, type: 'check-run', instance: 'vi_1', check: 'web', status: 'healthy', ok: true, detail: '200', latencyMs: 12 });
  emit(agent.events, { at: AT, type: 'check-run', instance: 'vi_1', check: 'db', status: 'failing', ok: false, detail: 'refused', latencyMs: 3 });
  emit(agent.events, { at: AT, type: 'hook', instance: 'vi_1', hook: 'master', ok: false, exitCode: null, timedOut: true, durationMs: 5000 });
  emit(agent.events, { at: AT, type: 'hook', instance: 'vi_1', hook: 'master', ok: true, exitCode: 0, timedOut: false, durationMs: 20 });
  emit(agent.events, { at: AT, type: 'hook', instance: 'vi_1', hook: 'backup', ok: false, exitCode: 1, timedOut: false, durationMs: 20 });
  emit(agent.events, { at: AT, type: 'reload', ok: true, detail: 'ignored by metrics' });
  emit(agent.events, { at: AT, type: 'guard', instance: 'vi_2', guard: 'fresh', ok: false, exitCode: 1, timedOut: false, durationMs: 9 });
  emit(agent.events, { at: AT, type: 'guard', instance: 'vi_2', guard: 'fresh', ok: false, exitCode: 1, timedOut: false, durationMs: 9 });
  emit(agent.events, { at: AT, type: 'guard', instance: 'vi_2', guard: 'fresh', ok: true, exitCode: 0, timedOut: false, durationMs: 9 });
  // Counters grow by the delta; vi_2's counters went down (re-created by a reload): a reset.
  agent.set(
    [
      noChecks(instance({ advertsSent: 25, advertsReceived: 3, drops: { 'ttl is not 255': 3, 'auth mismatch': 1 } })),
      noChecks(instance({ name: 'vi_2', vrid: 52, advertsSent: 4, takeover: { blocked: true, reason: 'guard', detail: 'fresh: exit 1', since: AT } })),
    ],
    { eth0: { 'bad checksum': 6 } },
  );

  body = await scrape(server.url);
  t.equal(value(body, 'haagent_transitions_total{instance="vi_2",from="BACKUP",to="MASTER"}'), 2);
  t.equal(value(body, 'haagent_check_up{instance="vi_1",check="web"}'), 1);
  t.equal(value(body, 'haagent_check_up{instance="vi_1",check="db"}'), 0);
  t.equal(value(body, 'haagent_check_latency_seconds_count{instance="vi_1",check="web"}'), 1);
  t.equal(value(body, 'haagent_check_latency_seconds_sum{instance="vi_1",check="web"}'), 0.012);
  t.equal(value(body, 'haagent_check_latency_seconds_bucket{le="0.01",instance="vi_1",check="web"}'), 0);
  t.equal(value(body, 'haagent_check_latency_seconds_bucket{le="0.025",instance="vi_1",check="web"}'), 1);
  t.equal(value(body, 'haagent_hook_runs_total{instance="vi_1",hook="master",result="timeout"}'), 1);
  t.equal(value(body, 'haagent_hook_runs_total{instance="vi_1",hook="master",result="ok"}'), 1);
  t.equal(value(body, 'haagent_hook_runs_total{instance="vi_1",hook="backup",result="failed"}'), 1);
  t.equal(value(body, 'haagent_guard_runs_total{instance="vi_2",guard="fresh",result="failed"}'), 2);
  t.equal(value(body, 'haagent_guard_runs_total{instance="vi_2",guard="fresh",result="ok"}'), 1);
  t.equal(value(body, 'haagent_takeover_blocked{instance="vi_2",reason="guard"}'), 1);
  t.equal(value(body, 'haagent_takeover_blocked{instance="vi_2",reason="cold-start"}'), 0);
  t.equal(value(body, 'haagent_takeover_blocked{instance="vi_1",reason="guard"}'), undefined, 'no series without takeover status');
  t.equal(value(body, 'haagent_adverts_sent_total{instance="vi_1",vrid="51"}'), 25, '10 + delta 15');
  t.equal(value(body, 'haagent_adverts_received_total{instance="vi_1",vrid="51"}'), 3, 'unchanged');
  t.equal(value(body, 'haagent_adverts_sent_total{instance="vi_2",vrid="52"}'), 14, 'reset: 10 + 4, still monotonic');
  t.equal(value(body, 'haagent_drops_total{instance="vi_1",reason="ttl is not 255"}'), 3);
  t.equal(value(body, 'haagent_drops_total{instance="vi_1",reason="auth mismatch"}'), 1);
  t.equal(value(body, 'haagent_interface_drops_total{iface="eth0",reason="bad checksum"}'), 6);
  t.equal(value(body, 'haagent_instance_state{instance="vi_2",vrid="52",state="MASTER"}'), 1);

  // An instance removed by a reload disappears from gauges and status-mirrored counters.
  agent.set([noChecks(instance())]);
  body = await scrape(server.url);
  t.notMatch(body, /instance="vi_2",vrid/);
  t.notMatch(body, /haagent_faults\{instance="vi_2"\}/);
  t.equal(value(body, 'haagent_transitions_total{instance="vi_2",from="BACKUP",to="MASTER"}'), 2, 'event counters are kept');
});

t.test('InstanceStatus.checks, when present, sets check_up at scrape', async (t) => {
  const agent = fakeAgent([
    instance({
      checks: [
        check('web', 'healthy'),
        check('db', 'unknown'),
      ],
    }),
  ]);
  const server = await startMetricsServer('127.0.0.1:0', agent);
  t.teardown(() => server.close());
  // An event says failing, but status() is read at scrape and wins.
  emit(agent.events, { at: AT, type: 'check-run', instance: 'vi_1', check: 'web', status: 'failing', ok: false, detail: '500', latencyMs: 2 });
  let body = await scrape(server.url);
  t.equal(value(body, 'haagent_check_up{instance="vi_1",check="web"}'), 1);
  t.equal(value(body, 'haagent_check_up{instance="vi_1",check="db"}'), 0);
  t.equal(value(body, 'haagent_check_latency_seconds_count{instance="vi_1",check="web"}'), 1, 'latency only from events');
  // A reload drops the db check, then the whole instance.
  agent.set([instance({ checks: [check('web', 'failing')] })]);
  body = await scrape(server.url);
  t.equal(value(body, 'haagent_check_up{instance="vi_1",check="web"}'), 0);
  t.notMatch(body, /haagent_check_up\{instance="vi_1",check="db"\}/);
  agent.set([]);
  body = await scrape(server.url);
  t.notMatch(body, /^haagent_check_up\{/m);
});

t.test('InstanceStatus.services: haagent_real_server_up per real server, rebuilt at scrape', async (t) => {
  const services: InstanceStatus['services'] = [
    {
      vip: '192.0.2.100', port: 80, protocol: 'tcp', mode: 'nftables', scheduler: 'round-robin', active: true,
      realServers: [
        { address: '10.0.0.11', port: 80, weight: 1, up: true, check: { type: 'tcp', status: 'healthy', detail: 'connected' } },
        { address: 'fd00::12', port: 8080, weight: 2, up: false, check: null },
      ],
    },
  ];
  const agent = fakeAgent([instance({ services })]);
  const server = await startMetricsServer('127.0.0.1:0', agent);
  t.teardown(() => server.close());
  let body = await scrape(server.url);
  t.equal(value(body, 'haagent_real_server_up{instance="vi_1",service="192.0.2.100:80/tcp",server="10.0.0.11:80"}'), 1);
  t.equal(value(body, 'haagent_real_server_up{instance="vi_1",service="192.0.2.100:80/tcp",server="[fd00::12]:8080"}'), 0);
  agent.set([instance()]);
  body = await scrape(server.url);
  t.notMatch(body, /^haagent_real_server_up\{/m, 'a reload that removed the services removes the series');
});

t.test('404 on other paths, 405 on other methods, query string ignored, HEAD has no body', async (t) => {
  const agent = fakeAgent([instance()]);
  const server = await startMetricsServer('127.0.0.1:0', agent);
  t.teardown(() => server.close());
  const base = server.url.replace(/\/metrics$/, '');
  t.equal((await fetch(`${base}/`)).status, 404);
  t.equal((await fetch(`${base}/metricsx`)).status, 404);
  t.equal((await fetch(`${base}/status`)).status, 404);
  const post = await fetch(server.url, { method: 'POST', body: 'x' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD');
  t.equal((await fetch(`${server.url}?name[]=x`)).status, 200);
  const head = await fetch(server.url, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '');
});

t.test('status() throwing answers 500, and the server keeps serving', async (t) => {
  let fail = true;
  const events = new EventEmitter();
  const server = await startMetricsServer('127.0.0.1:0', {
    status: () => {
      if (fail) throw new Error('boom');
      return status([instance()]);
    },
    events,
  });
  t.teardown(() => server.close());
  const res = await fetch(server.url);
  t.equal(res.status, 500);
  t.match(await res.text(), /boom/);
  fail = false;
  t.equal((await fetch(server.url)).status, 200);
});

const v6Skip = await new Promise<string | false>((resolve) => {
  const probe = createServer();
  probe.once('error', (err) => resolve(`no IPv6 loopback here: ${err.message}`));
  probe.listen(0, '::1', () => probe.close(() => resolve(false)));
});

t.test('IPv6 loopback', { skip: v6Skip }, async (t) => {
  const server = await startMetricsServer('[::1]:0', fakeAgent([instance()]));
  t.match(server.url, /^http:\/\/\[::1\]:\d+\/metrics$/);
  t.match(await scrape(server.url), /haagent_instance_state/);
  await server.close();
});

t.test('close() stops listening, detaches from events, is idempotent; busy port is HA_ERR_CONTROL', async (t) => {
  const agent = fakeAgent([instance()]);
  const server = await startMetricsServer('127.0.0.1:0', agent);
  const port = new URL(server.url).port;
  t.equal(agent.events.listenerCount('event'), 1);
  await t.rejects(startMetricsServer(`127.0.0.1:${port}`, fakeAgent([])), { code: 'HA_ERR_CONTROL', message: /EADDRINUSE/ });
  // A keep-alive connection must not hold close() open.
  await fetch(server.url, { headers: { connection: 'keep-alive' } }).then((r) => r.text());
  await Promise.all([server.close(), server.close()]);
  await server.close();
  t.equal(agent.events.listenerCount('event'), 0);
  await t.rejects(fetch(server.url));
  await t.rejects(startMetricsServer('nonsense', agent), { code: 'HA_ERR_INVALID_ARGUMENT' });
});

t.test('never-two-masters series: config mismatch with peers, isolation, fencing epoch', async (t) => {
  const peer = (fingerprintMatch: boolean): NonNullable<InstanceStatus['peers']>[number] => ({
    node: 'b@192.0.2.2', state: 'BACKUP', priority: 100, epoch: 3, vrrpAddress: '192.0.2.2', fingerprintMatch, lastSeenAgoMs: 10, paths: { eth1: 10 },
  });
  const agent = fakeAgent([instance({ peers: [peer(false)], isolated: false, epoch: 4 })]);
  const server = await startMetricsServer('127.0.0.1:0', agent);
  t.teardown(() => server.close());
  let body = await scrape(server.url);
  t.equal(value(body, 'haagent_config_mismatch{instance="vi_1"}'), 1, 'a peer with other settings is visible');
  t.equal(value(body, 'haagent_isolated{instance="vi_1"}'), 0);
  t.equal(value(body, 'haagent_epoch{instance="vi_1"}'), 4);
  agent.set([instance({ peers: [peer(true)], isolated: true, epoch: 4 })]);
  body = await scrape(server.url);
  t.equal(value(body, 'haagent_config_mismatch{instance="vi_1"}'), 0);
  t.equal(value(body, 'haagent_isolated{instance="vi_1"}'), 1);
});

t.test('haagent_hello_drops_total{reason} follows status().helloDrops, monotonic', async (t) => {
  let helloDrops: Record<string, number> | undefined = { 'hello-unknown-source': 3, 'hello-replay': 1 };
  const agent = { status: (): AgentStatus => ({ ...status([instance()]), ...(helloDrops === undefined ? {} : { helloDrops }) }), events: new EventEmitter() };
  const server = await startMetricsServer('127.0.0.1:0', agent);
  t.teardown(() => server.close());
  let body = await scrape(server.url);
  t.equal(value(body, 'haagent_hello_drops_total{reason="hello-unknown-source"}'), 3);
  t.equal(value(body, 'haagent_hello_drops_total{reason="hello-replay"}'), 1);
  helloDrops = { 'hello-unknown-source': 10, 'hello-replay': 1, 'hello-epoch-jump': 2 };
  body = await scrape(server.url);
  t.equal(value(body, 'haagent_hello_drops_total{reason="hello-unknown-source"}'), 10);
  t.equal(value(body, 'haagent_hello_drops_total{reason="hello-epoch-jump"}'), 2);
  helloDrops = undefined; // no instance with paths any more (reload)
  body = await scrape(server.url);
  t.equal(value(body, 'haagent_hello_drops_total{reason="hello-unknown-source"}'), undefined, 'series removed');
});

t.test('fencing epoch file health: persisted and error gauges follow status', async (t) => {
  const agent = fakeAgent([instance({ epochPersisted: true })]);
  const server = await startMetricsServer('127.0.0.1:0', agent);
  t.teardown(() => server.close());
  let body = await scrape(server.url);
  t.equal(value(body, 'haagent_epoch_persisted{instance="vi_1"}'), 1);
  t.equal(value(body, 'haagent_epoch_state_error{instance="vi_1"}'), 0);
  agent.set([instance({ epochPersisted: false, epochStateError: 'writing /var/lib/haagent/vi_1.epoch.json failed (ENOSPC: no space left)' })]);
  body = await scrape(server.url);
  t.equal(value(body, 'haagent_epoch_persisted{instance="vi_1"}'), 0, 'a failing write shows');
  t.equal(value(body, 'haagent_epoch_state_error{instance="vi_1"}'), 1);
});

t.test('haagent_config_mismatch also counts VRRP senders dropped for their settings', async (t) => {
  const agent = fakeAgent([instance({ vrrpMismatches: [{ from: '10.0.0.2', reason: 'address-mismatch', theirs: ['192.0.2.10'], dropped: 7, lastSeenAgoMs: 50 }] })]);
  const server = await startMetricsServer('127.0.0.1:0', agent);
  t.teardown(() => server.close());
  t.equal(value(await scrape(server.url), 'haagent_config_mismatch{instance="vi_1"}'), 1, 'with or without paths');
  agent.set([instance({})]);
  t.equal(value(await scrape(server.url), 'haagent_config_mismatch{instance="vi_1"}'), 0);
});
