/**
 * The load balancer on the VIP with the real agent: the master programs
 * nftables (our own table) to spread connections to VIP:80 over the web servers of both hosts;
 * the backup has no rules; a real server whose check fails leaves the rotation; when the master
 * dies the backup takes over the VIP and the balancing; nothing is left behind on stop; a
 * reload that changes only the virtual services is applied live (no transition), and status
 * shows each service's real servers.
 */
import t from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { VIP } from '../../src/lab/topology.js';
import { labAgentYaml, type LabRealServer, type LabService } from '../../src/lab/agent-config.js';
import { ip, run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';
import { distPath, type RunningAgent } from '../../src/lab/cluster.js';
import { hostPort } from '../../src/core/packet/ip.js';
import { request } from '../../src/daemon/control-server.js';
import type { AgentEvent } from '../../src/core/control/events.js';

let skip = skipReason({ needsDist: true });
if (skip === undefined) {
  try { execFileSync('nft', ['--version'], { stdio: 'ignore' }); } catch { skip = 'nft is not installed (.ci/run installs nftables)'; }
}
if (skip !== undefined) {
  t.plan(0, `load balancer integration tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, hasVip, withCluster } = labSuite(t, 'halb');

  /** N sequential GETs to VIP:port (or [vip]:port for an IPv6 `vip`) from the client: answers per host name, and failures. */
  async function spread(n: number, port = 80, vip = VIP): Promise<Record<string, number>> {
    return JSON.parse(await run('ip', ['netns', 'exec', topo.client, process.execPath, distPath('lab', 'spread.js'), `http://${hostPort(vip, port)}/`, String(n)], 120_000)) as Record<string, number>;
  }
  /** A host's web server as a real server, with a fast tcp check. */
  const rs = (h: typeof h1): LabRealServer => ({ address: h.intAddress, port: 80, check: '{ type: tcp, interval: 200ms, timeout: 100ms, rise: 1, fall: 1 }' });
  /** Writes the agent config of `host` (priority, preempt) with these virtual services; returns its path. */
  function agentConfig(socket: string, host: typeof h1, priority: number, services: readonly LabService[]): string {
    const file = `/tmp/${topo.prefix}-${host.name}-lb.yaml`;
    writeFileSync(file, labAgentYaml({ socket, vrid: 51, advertInterval: '100ms', priority, services }));
    return file;
  }

  const tables = async (host: typeof h1): Promise<string> => run('ip', ['netns', 'exec', host.ns, 'nft', 'list', 'tables']);

  t.test('the master balances VIP:80 over both web servers; failover moves the balancing; nothing left behind', (t) => withCluster(async (c) => {
    const webs = new Map<string, ChildProcess>();
    for (const h of topo.hosts) {
      webs.set(h.name, c.startWeb(h));
      await ip('netns', 'exec', h.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      // Someone else's table, which we must never touch.
      await run('ip', ['netns', 'exec', h.ns, 'nft', 'add', 'table', 'inet', 'other']);
    }
    const conf = (host: typeof h1, priority: number): string => agentConfig(c.socketPath(host), host, priority, [{ port: 80, scheduler: 'round-robin', servers: [rs(h1), rs(h2)] }]);
    const a = c.startAgent(h1, ['--config', conf(h1, 150)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', conf(h2, 100)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP');
    t.ok(await c.waitFor(async () => (await tables(h1)).includes('table inet haagent'), 5000), 'the master has our table', { logs: logsOf(a) });
    t.notMatch(await tables(h2), /table inet haagent/, 'the backup has none');

    // Both real servers up (their checks need a round): 2000 requests split 50 % +- 3 %.
    t.ok(await c.waitFor(async () => { const s = await spread(20); return (s['h1'] ?? 0) > 0 && (s['h2'] ?? 0) > 0; }, 10_000), 'both servers in rotation', { logs: logsOf(a) });
    const split = await spread(2000);
    t.equal(split['failed'] ?? 0, 0, 'no failed request', { split });
    const share = (split['h1'] ?? 0) / 2000;
    t.ok(share >= 0.47 && share <= 0.53, `h1 answered ${(100 * share).toFixed(1)} % (50 +- 3)`, { split });

    // h2's web server stops: its check fails and every request goes to h1 (none failing after).
    // Within the check's fall time: interval 200 ms x fall 1 (+ its 100 ms timeout), plus the
    // nft apply, timed by the agent's own lb-rules event; the bound leaves room for a loaded CI.
    const events: AgentEvent[] = [];
    const stream = new AbortController();
    await request(a.socket, { command: 'events' }, { onEvent: (ev) => events.push(ev), signal: stream.signal });
    const killedAt = Date.now();
    webs.get('h2')?.kill('SIGKILL');
    const applied = (): AgentEvent | undefined => events.find((e) => e.type === 'lb-rules' && e.ok && e.detail.endsWith('1/2 up'));
    t.ok(await c.waitFor(() => applied() !== undefined, 5000, 10), 'the rules without h2 were applied', { events });
    const outMs = Date.parse(applied()?.at ?? '') - killedAt;
    t.ok(outMs <= 1500, `h2 out of the rules ${outMs} ms after its web server died (check interval 200 ms, fall 1, timeout 100 ms)`);
    t.ok(await c.waitFor(async () => { const s = await spread(20); return (s['h2'] ?? 0) === 0 && (s['failed'] ?? 0) === 0; }, 5000), 'h2 out of rotation');
    stream.abort();
    t.match(events.filter((e) => e.type === 'real-server'), [{ type: 'real-server', instance: 'web', service: `${VIP}:80/tcp`, server: `${h2.intAddress}:80`, up: false }],
      '`haagent events`: the real server left the rotation', { events });
    t.match(events.filter((e) => e.type === 'lb-rules'), [{ type: 'lb-rules', ok: true, services: 1, detail: `${VIP}:80/tcp 1/2 up` }], '`haagent events`: the rules were re-applied', { events });
    const after = await spread(200);
    t.same(after, { h1: 200 }, 'all requests to h1, none failing');

    // The master dies: h2 (its web server back) takes over the VIP and the balancing; h1 is gone,
    // so its check fails and h2 serves alone.
    c.startWeb(h2);
    a.child.kill('SIGKILL');
    await topo.linksDown(h1);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await tables(h2)).includes('table inet haagent'), 5000), 'h2 MASTER with the rules', { logs: logsOf(b) });
    t.ok(await c.waitFor(async () => { const s = await spread(20); return (s['h2'] ?? 0) === 20; }, 5000), 'h2 serves the VIP (h1 is gone, so out of rotation)');

    b.child.kill('SIGTERM');
    t.equal(await b.exited, 0);
    const left = await tables(h2);
    t.notMatch(left, /table inet haagent/, 'our table removed on stop');
    t.match(left, /table inet other/, 'the other table untouched');
  }));

  t.test('proxy mode (no nftables needed): the master proxies VIP:80 over both web servers', (t) => withCluster(async (c) => {
    const webs = new Map<string, ChildProcess>();
    for (const h of topo.hosts) webs.set(h.name, c.startWeb(h));
    // :8080 proxied over both web servers; :80 cannot be: the web servers listen on [::]:80.
    const conf = (host: typeof h1, priority: number): string => agentConfig(c.socketPath(host), host, priority,
      [{ port: 8080, mode: 'proxy', servers: [rs(h1), rs(h2)] }, { port: 80, mode: 'proxy', servers: [rs(h1)] }]);
    const a = c.startAgent(h1, ['--config', conf(h1, 150)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', conf(h2, 100)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP');
    t.ok(await c.waitFor(async () => { const s = await spread(20, 8080); return (s['h1'] ?? 0) > 0 && (s['h2'] ?? 0) > 0; }, 10_000), 'both servers answer through the proxy', { logs: logsOf(a) });
    const split = await spread(400, 8080);
    t.equal(split['failed'] ?? 0, 0, 'no failed request', { split });
    t.ok(Math.abs((split['h1'] ?? 0) - 200) <= 12, 'round-robin: 200 +- 12 each', { split });
    t.notMatch(await tables(h1), /table inet haagent/, 'no nftables rules in proxy mode');
    const svcs = (await c.status(a)).instances[0]?.services ?? [];
    t.equal(svcs[0]?.error, undefined, ':8080 listens');
    t.match(svcs[1]?.error, /cannot listen on 10\.77\.0\.100:80: .*EADDRINUSE.*another socket holds this port/, 'the :80 conflict is reported on its service', { svcs });
    webs.get('h2')?.kill('SIGKILL');
    t.ok(await c.waitFor(async () => { const s = await spread(20, 8080); return (s['h1'] ?? 0) === 20; }, 5000), 'a dead server leaves the rotation');
    // The port :80 is freed (h1's web server stops): the proxy retries and listens, no reload needed.
    webs.get('h1')?.kill('SIGKILL');
    t.ok(await c.waitFor(async () => (await c.status(a)).instances[0]?.services?.[1]?.error === undefined, 6000), 'the proxy listens on :80 once the port is free');
  }));

  t.test('reload changes the virtual services live: no transition, the rules follow; status shows the real servers', (t) => withCluster(async (c) => {
    for (const h of topo.hosts) {
      c.startWeb(h);
      await ip('netns', 'exec', h.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    }
    const socket = c.socketPath(h1);
    const file = agentConfig(socket, h1, 150, [{ port: 80, servers: [rs(h1), rs(h2)] }]);
    const a = c.startAgent(h1, ['--config', file]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
    t.ok(await c.waitFor(async () => { const s = await spread(10); return s['h1'] === 5 && s['h2'] === 5; }, 5000), 'both servers in rotation');
    const before = await c.status(a);
    const svc = before.instances[0]?.services?.[0];
    t.match(svc, { vip: VIP, port: 80, mode: 'nftables', scheduler: 'round-robin', active: true }, 'status --json: the service');
    t.same(svc?.realServers.map((r) => [r.address, r.up, r.check?.type, r.check?.status]), [[h1.intAddress, true, 'tcp', 'healthy'], [h2.intAddress, true, 'tcp', 'healthy']]);
    const cli = (...args: string[]): Promise<string> => run(process.execPath, [distPath('cli', 'main.js'), ...args], 20_000);
    const text = await cli('status', '--socket', socket);
    t.match(text, new RegExp(`web: service ${VIP.replace(/\./g, '\\.')}:80/tcp \\(nftables, round-robin\\): serving, 2/2 real servers up`), 'status: the service line');
    t.match(text, new RegExp(`-> ${h2.intAddress.replace(/\./g, '\\.')}:80  weight 1  up  \\(tcp check healthy`), 'status: a real server line');

    // :80 now only to h2 (h1 removed), and a new service :8081 -> h1:80 (kept check settings).
    agentConfig(socket, h1, 150, [{ port: 80, servers: [rs(h2)] }, { port: 8081, servers: [rs(h1)] }]);
    t.match(await cli('reload', '--socket', socket), /1 updated in place \(web\), 0 restarted/, 'reload: in place');
    t.ok(await c.waitFor(async () => { const s = await spread(10); return s['h2'] === 10; }, 5000), ':80 goes to h2 alone');
    t.ok(await c.waitFor(async () => { const s = await spread(10, 8081); return s['h1'] === 10; }, 5000), 'the new :8081 goes to h1 (its check already ran: kept server state or a fresh check passed)');
    const after = await c.status(a);
    t.equal(after.instances[0]?.state, 'MASTER');
    t.equal(after.instances[0]?.transitionsTotal, before.instances[0]?.transitionsTotal, 'no transition');
    t.same(after.instances[0]?.services?.map((v) => [v.port, v.realServers.map((r) => r.address)]), [[80, [h2.intAddress]], [8081, [h1.intAddress]]]);
    const rules = await run('ip', ['netns', 'exec', h1.ns, 'nft', 'list', 'table', 'inet', 'haagent']);
    const port80 = rules.split('\n').filter((l) => l.includes('tcp dport 80 '));
    t.ok(port80.length > 0 && port80.every((l) => l.includes(`dnat ip to ${h2.intAddress}:80`)), 'the :80 rules DNAT to h2 alone', { port80 });
    t.match(rules, /tcp dport 8081/, 'the new service is in our table');

    // A bad reload is refused and the running services stay.
    writeFileSync(file, readFileSync(file, 'utf8').replace('port: 8081', 'port: 70000'));
    await t.rejects(cli('reload', '--socket', socket), /virtual-services\[1\]\.port/, 'bad port refused with its path');
    t.ok(await c.waitFor(async () => { const s = await spread(6, 8081); return s['h1'] === 6; }, 3000), ':8081 still served');
  }));

  t.test('IPv6: an IPv6 VIP balanced over both hosts\' web servers on IPv6, through the one inet table', (t) => withCluster(async (c) => {
    const vip6 = 'fd00:77::100';
    const int6 = (h: typeof h1): string => `fd00:66::${h.name === 'h1' ? '11' : '12'}`;
    await ip('-n', topo.client, 'addr', 'replace', 'fd00:77::50/64', 'dev', 'eth0', 'nodad');
    t.teardown(() => ip('-n', topo.client, 'addr', 'del', 'fd00:77::50/64', 'dev', 'eth0').catch(() => undefined));
    for (const h of topo.hosts) {
      await ip('-n', h.ns, 'addr', 'replace', `${int6(h)}/64`, 'dev', 'int0', 'nodad');
      await ip('netns', 'exec', h.ns, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
      c.startWeb(h);
    }
    const file = `/tmp/${topo.prefix}-h1-lb6.yaml`;
    writeFileSync(file, labAgentYaml({
      socket: c.socketPath(h1), vrid: 61, advertInterval: '100ms', vip: `${vip6}/64`,
      services: [{ port: 80, servers: topo.hosts.map((h) => ({ ...rs(h), address: int6(h) })) }],
    }));
    const a = c.startAgent(h1, ['--config', file]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER of the IPv6 VIP', { logs: logsOf(a) });
    t.ok(await c.waitFor(async () => { const s = await spread(2, 80, vip6); return s['h1'] === 1 && s['h2'] === 1; }, 10_000), 'both servers answer through [VIP]:80', { logs: logsOf(a) });
    const split = await spread(200, 80, vip6);
    t.equal(split['failed'] ?? 0, 0, 'no failed request', { split });
    t.ok(Math.abs((split['h1'] ?? 0) - 100) <= 6, `round-robin over IPv6: h1 ${split['h1'] ?? 0}, h2 ${split['h2'] ?? 0} (100 +- 6 each)`, { split });
    const rules = await run('ip', ['netns', 'exec', h1.ns, 'nft', 'list', 'table', 'inet', 'haagent']);
    t.match(rules, new RegExp(`ip6 daddr ${vip6} tcp dport 80 dnat ip6 to numgen inc mod 2 map`), 'an ip6 rule in table inet haagent');
    a.child.kill('SIGTERM');
    t.equal(await a.exited, 0);
    t.notMatch(await run('ip', ['netns', 'exec', h1.ns, 'nft', 'list', 'tables']), /haagent/, 'our table removed on stop');
  }));

  /**
   * A client opening a connection to VIP:8080 (no local listener on either host) every 5 ms
   * through a change of master must never be refused: the new master has its rules before its
   * VIP, and the old one keeps them as long as it holds the VIP.
   */
  const noRefusalAcross = (what: string, move: (a: RunningAgent) => Promise<void>): void => {
      t.test(`${what}: no client is refused (probe on VIP:8080, no local listener)`, (t) => withCluster(async (c) => {
      for (const h of topo.hosts) {
        c.startWeb(h);
        await ip('netns', 'exec', h.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      }
      const conf = (host: typeof h1, priority: number): string => agentConfig(c.socketPath(host), host, priority, [{ port: 8080, servers: [rs(h1), rs(h2)] }]);
      const a = c.startAgent(h1, ['--config', conf(h1, 150)]);
      t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
      const b = c.startAgent(h2, ['--config', conf(h2, 100)]);
      t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP');
      t.ok(await c.waitFor(async () => { const s = await spread(4, 8080); return s['h1'] === 2 && s['h2'] === 2; }, 10_000), 'balanced on :8080');
      // A client that opens a new connection every 5 ms (not waiting for the previous one, each
      // given 300 ms) through the takeover: any attempt landing between the new master's VIP and
      // its rules would be refused.
      const probe = spawn('ip', ['netns', 'exec', topo.client, process.execPath, '-e', `
        const net = require('node:net'); const out = {}; const pending = new Set();
        const attempt = () => {
          const p = new Promise((resolve) => {
            const s = net.connect({ host: '${VIP}', port: 8080 });
            const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, 300);
            s.once('connect', () => { clearTimeout(t); s.destroy(); resolve('ok'); });
            s.once('error', (e) => { clearTimeout(t); resolve(e.code); });
          }).then((r) => { out[r] = (out[r] ?? 0) + 1; pending.delete(p); });
          pending.add(p);
        };
        const timer = setInterval(attempt, 5);
        process.on('SIGTERM', async () => { clearInterval(timer); await Promise.all(pending); process.stdout.write(JSON.stringify(out)); });`], { stdio: ['ignore', 'pipe', 'ignore'] });
      let outcome = '';
      probe.stdout?.setEncoding('utf8').on('data', (d: string) => { outcome += d; });
      await new Promise((r) => setTimeout(r, 300));
      await move(a);
      t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await hasVip(h2)) && !(await hasVip(h1)), 10_000), 'h2 took over', { logs: logsOf(b) });
      await new Promise((r) => setTimeout(r, 500));
      probe.kill('SIGTERM');
      await new Promise((r) => probe.once('exit', r));
      const counts = JSON.parse(outcome === '' ? '{}' : outcome) as Record<string, number>;
      t.ok((counts['ok'] ?? 0) > 0, 'the probe connected before and after', { counts });
      t.equal(counts['ECONNREFUSED'] ?? 0, 0, 'no connection refused while the master changes (attempts may only time out)', { counts });
    }));
  };
  noRefusalAcross('takeover after a crash (kill -9, links down)', async (a) => { a.child.kill('SIGKILL'); await topo.linksDown(h1); });
  noRefusalAcross('planned switchover', async (a) => { await run(process.execPath, [distPath('cli', 'main.js'), 'switchover', '--socket', a.socket], 20_000); });
}
