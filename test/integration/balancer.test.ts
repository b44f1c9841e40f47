/**
 * The load balancer on the VIP (issue 6, part 2) with the real agent: the master programs
 * nftables (our own table) to spread connections to VIP:80 over the web servers of both hosts;
 * the backup has no rules; a real server whose check fails leaves the rotation; when the master
 * dies the backup takes over the VIP and the balancing; nothing is left behind on stop.
 */
import t from 'tap';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { VIP, VIP_CIDR } from '../../src/lab/topology.js';
import { ip, run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

let skip = skipReason({ needsDist: true });
if (skip === undefined) {
  try { execFileSync('nft', ['--version'], { stdio: 'ignore' }); } catch { skip = 'nft is not installed (.ci/run installs nftables)'; }
}
if (skip !== undefined) {
  t.plan(0, `load balancer integration tests skipped: ${skip}`);
} else {
  const { topo, h1, h2, hasVip, withCluster } = labSuite(t, 'halb');

  /** N sequential GETs to VIP:80 from the client: answers per host name, and failures. */
  async function spread(n: number, port = 80): Promise<Record<string, number>> {
    const script = `let left=${n}; const out={}; (async()=>{ while(left-->0){ try { const r = await fetch("http://${VIP}:${port}/", { signal: AbortSignal.timeout(1000) }); const h=(await r.text()).trim(); out[h]=(out[h]??0)+1; } catch { out.failed=(out.failed??0)+1; } } process.stdout.write(JSON.stringify(out)); })();`;
    return JSON.parse(await run('ip', ['netns', 'exec', topo.client, process.execPath, '-e', script], 120_000)) as Record<string, number>;
  }
  /** An agent config with one virtual service over both hosts' web servers (tcp checks). */
  function lbConfig(socket: string, host: typeof h1, priority: number, service: string, rsPort: number): string {
    const file = `/tmp/${topo.prefix}-${host.name}-lb.yaml`;
    const rs = (h: typeof h1): string => `          - { address: ${h.intAddress}, port: ${rsPort}, check: { type: tcp, interval: 200ms, timeout: 100ms, rise: 1, fall: 1 } }\n`;
    writeFileSync(file, `socket: ${socket}
instances:
  - name: web
    vrid: 51
    interface: int0
    external: ext0
    vips: [${VIP_CIDR}]
    advert-interval: 100ms
    priority: ${priority}
    preempt: true
    virtual-services:
${service}        real-servers:
${rs(h1)}${rs(h2)}`);
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
    const conf = (host: typeof h1, priority: number): string => lbConfig(c.socketPath(host), host, priority, '      - port: 80\n        scheduler: round-robin\n', 80);
    const a = c.startAgent(h1, ['--config', conf(h1, 150)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', conf(h2, 100)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP');
    t.ok(await c.waitFor(async () => (await tables(h1)).includes('table ip haagent'), 5000), 'the master has our table', { logs: logsOf(a) });
    t.notMatch(await tables(h2), /table ip haagent/, 'the backup has none');

    // Both real servers up (their checks need a round): 2000 requests split 50 % +- 3 %.
    t.ok(await c.waitFor(async () => { const s = await spread(20); return (s['h1'] ?? 0) > 0 && (s['h2'] ?? 0) > 0; }, 10_000), 'both servers in rotation', { logs: logsOf(a) });
    const split = await spread(2000);
    t.equal(split['failed'] ?? 0, 0, 'no failed request', { split });
    const share = (split['h1'] ?? 0) / 2000;
    t.ok(share >= 0.47 && share <= 0.53, `h1 answered ${(100 * share).toFixed(1)} % (50 +- 3)`, { split });

    // h2's web server stops: its check fails and every request goes to h1 (none failing after).
    webs.get('h2')?.kill('SIGKILL');
    t.ok(await c.waitFor(async () => { const s = await spread(20); return (s['h2'] ?? 0) === 0 && (s['failed'] ?? 0) === 0; }, 5000), 'h2 out of rotation');
    const after = await spread(200);
    t.same(after, { h1: 200 }, 'all requests to h1, none failing');

    // The master dies: h2 (its web server back) takes over the VIP and the balancing; h1 is gone,
    // so its check fails and h2 serves alone.
    c.startWeb(h2);
    a.child.kill('SIGKILL');
    await topo.linksDown(h1);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await tables(h2)).includes('table ip haagent'), 5000), 'h2 MASTER with the rules', { logs: logsOf(b) });
    t.ok(await c.waitFor(async () => { const s = await spread(20); return (s['h2'] ?? 0) === 20; }, 5000), 'h2 serves the VIP (h1 is gone, so out of rotation)');

    b.child.kill('SIGTERM');
    t.equal(await b.exited, 0);
    const left = await tables(h2);
    t.notMatch(left, /table ip haagent/, 'our table removed on stop');
    t.match(left, /table inet other/, 'the other table untouched');
  }));

  t.test('proxy mode (no nftables needed): the master proxies VIP:80 over both web servers', (t) => withCluster(async (c) => {
    const webs = new Map<string, ChildProcess>();
    for (const h of topo.hosts) webs.set(h.name, c.startWeb(h));
    const conf = (host: typeof h1, priority: number): string => lbConfig(c.socketPath(host), host, priority, '      - mode: proxy\n        port: 8080\n', 80);
    const a = c.startAgent(h1, ['--config', conf(h1, 150)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', conf(h2, 100)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP');
    t.ok(await c.waitFor(async () => { const s = await spread(20, 8080); return (s['h1'] ?? 0) > 0 && (s['h2'] ?? 0) > 0; }, 10_000), 'both servers answer through the proxy', { logs: logsOf(a) });
    const split = await spread(400, 8080);
    t.equal(split['failed'] ?? 0, 0, 'no failed request', { split });
    t.ok(Math.abs((split['h1'] ?? 0) - 200) <= 12, 'round-robin: 200 +- 12 each', { split });
    t.notMatch(await tables(h1), /table ip haagent/, 'no nftables rules in proxy mode');
    webs.get('h2')?.kill('SIGKILL');
    t.ok(await c.waitFor(async () => { const s = await spread(20, 8080); return (s['h1'] ?? 0) === 20; }, 5000), 'a dead server leaves the rotation');
  }));
}
