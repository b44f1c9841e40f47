/**
 * The nftables load balancer against a real kernel (root, `nft` from the Debian package
 * nftables): src/core/lb rulesets applied by src/adapters/nft.ts inside a balancer namespace.
 *
 * Namespaces hanft-<pid>-<rand>-{sw,lb,r1,r2,cl}, all on one LAN 10.90.0.0/24 through the
 * bridge br0 in -sw (a one-arm balancer: the SNAT is what brings replies back through it):
 *   -lb  eth0 10.90.0.1 (+ 10.90.0.2 as an explicit SNAT source), VIP 10.90.0.100; ip_forward
 *   -r1  eth0 10.90.0.11, HTTP on :80     answering "r1 <peer address>"
 *   -r2  eth0 10.90.0.12, HTTP on :8080   answering "r2 <peer address>"
 *   -cl  eth0 10.90.0.50, runs the requests (one node child per batch, a new TCP connection each)
 * and the same over IPv6 on fd90::/64 (::1, ::2, VIP ::100, ::11, ::12, ::50; no DAD).
 * A dummy `table inet other` in -lb must come out of every step byte-for-byte unchanged.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { applyRuleset, deleteTable, listTable } from '../../src/adapters/nft.js';
import { HaagentError } from '../../src/core/errors.js';
import { buildRuleset, LEGACY_TABLE_FAMILY } from '../../src/core/lb/ruleset.js';
import type { Scheduler, VirtualService } from '../../src/core/lb/types.js';

/** A service with its real servers' verdicts (`up[j]` for `svc.realServers[j]`). */
interface Served {
  readonly svc: VirtualService;
  readonly up: readonly boolean[];
}
import { createNamespaces, ip, sysctl, uniqueNamespace, vethPair } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';

const VIP = '10.90.0.100';
const LB = '10.90.0.1';
const LB_SNAT = '10.90.0.2';
const VIP6 = 'fd90::100';
const LB6 = 'fd90::1';
const LB6_SNAT = 'fd90::2';
const REQUESTS = 200;

/** One HTTP server per real server: answers `<name> <peer address>`, closes the connection. */
const SERVER = `
const [name, port] = process.argv.slice(1);
require('node:http').createServer((req, res) => {
  res.setHeader('connection', 'close');
  res.end(name + ' ' + req.socket.remoteAddress.replace(/^::ffff:/, ''));
}).listen(Number(port), '::', () => process.stdout.write('ready\\n'));
`;

/** N sequential GETs, each on a new connection; prints { answers: {body: count}, errors: {code: count} }. */
const CLIENT = `
const [url, n] = process.argv.slice(1);
const http = require('node:http');
const answers = {}, errors = {};
const once = () => new Promise((resolve) => {
  const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { body += c; });
    res.on('end', () => { answers[body] = (answers[body] ?? 0) + 1; resolve(); });
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
  req.on('error', (e) => { errors[e.code ?? e.message] = (errors[e.code ?? e.message] ?? 0) + 1; resolve(); });
});
(async () => {
  for (let i = 0; i < Number(n); i++) await once();
  process.stdout.write(JSON.stringify({ answers, errors }));
})();
`;

interface Batch { answers: Record<string, number>; errors: Record<string, number> }

function execIn(ns: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip netns exec ${ns} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end();
  });
}

const reason = skipReason({ needs: ['nft'] });
if (reason !== undefined) {
  t.plan(0, reason);
} else {
  t.test('one balancer, two real servers, one client', async (t) => {
    const base = uniqueNamespace('hanft');
    const [sw, lb, r1, r2, cl] = ['sw', 'lb', 'r1', 'r2', 'cl'].map((s) => `${base}-${s}`) as [string, string, string, string, string];
    const children: ChildProcess[] = [];
    const killChildren = (): void => { for (const c of children) c.kill('SIGKILL'); };
    t.teardown(killChildren);
    process.once('exit', killChildren);
    createNamespaces(t, [sw, lb, r1, r2, cl], { loopbackUp: true });
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    const hosts: [string, string, string[]][] = [
      [lb, 'plb', [`${LB}/24`, `${LB_SNAT}/24`, `${VIP}/24`, `${LB6}/64`, `${LB6_SNAT}/64`, `${VIP6}/64`]],
      [r1, 'pr1', ['10.90.0.11/24', 'fd90::11/64']], [r2, 'pr2', ['10.90.0.12/24', 'fd90::12/64']], [cl, 'pcl', ['10.90.0.50/24', 'fd90::50/64']],
    ];
    for (const [ns, port, addresses] of hosts) {
      vethPair({ ns: sw, dev: port }, { ns, dev: 'eth0', addresses, sysctls: ['net.ipv6.conf.eth0.accept_dad=0'] });
      ip('-n', sw, 'link', 'set', port, 'master', 'br0');
    }
    sysctl(lb, 'net.ipv4.ip_forward=1');
    sysctl(lb, 'net.ipv6.conf.all.forwarding=1');
    sysctl(lb, 'net.ipv4.conf.all.send_redirects=0');
    sysctl(lb, 'net.ipv4.conf.eth0.send_redirects=0');

    for (const [ns, name, port] of [[r1, 'r1', '80'], [r2, 'r2', '8080']] as const) {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, name, port], { stdio: ['ignore', 'pipe', 'ignore'] });
      children.push(child);
      await once(child.stdout, 'data');
    }

    // Someone else's table in the balancer's namespace: must never change.
    await execIn(lb, ['nft', [
      'add table inet other',
      'add chain inet other input { type filter hook input priority 0; policy accept; }',
      'add rule inet other input tcp dport 9 counter drop comment "not ours"',
    ].join('; ')]);
    const otherBefore = await execIn(lb, ['nft', '-j', 'list', 'table', 'inet', 'other']);

    const service = (scheduler: Scheduler, up2 = true, weights: [number, number] = [1, 1], snat?: string): Served => ({
      svc: {
        mode: 'nftables', vip: VIP, port: 80, protocol: 'tcp', scheduler, snat,
        realServers: [
          { address: '10.90.0.11', port: 80, weight: weights[0], check: undefined },
          { address: '10.90.0.12', port: 8080, weight: weights[1], check: undefined },
        ],
      },
      up: [true, up2],
    });
    const apply = (...s: Served[]): Promise<void> => applyRuleset(buildRuleset(s.map((x) => x.svc), s.map((x) => x.up)), lb);
    const requests = async (n = REQUESTS, url = `http://${VIP}/`): Promise<Batch> =>
      JSON.parse(await execIn(cl, [process.execPath, '-e', CLIENT, url, String(n)])) as Batch;

    await t.test('before anything: no table inet haagent; deleteTable is a no-op', async (t) => {
      t.equal(await listTable(lb), undefined);
      await deleteTable(lb);
      t.equal(await listTable(lb), undefined);
    });

    await t.test('round-robin: 200 requests split 100/100 (+-5), replies via the balancer (masquerade)', async (t) => {
      await apply(service('round-robin'));
      const { answers, errors } = await requests();
      t.same(errors, {}, 'no failed request');
      const n1 = answers[`r1 ${LB}`] ?? 0;
      const n2 = answers[`r2 ${LB}`] ?? 0;
      t.equal(n1 + n2, REQUESTS, `every answer came from r1 or r2 seeing ${LB}: ${JSON.stringify(answers)}`);
      t.ok(Math.abs(n1 - 100) <= 5 && Math.abs(n2 - 100) <= 5, `r1 ${n1}, r2 ${n2}`);
    });

    await t.test('source-hash: every request of one client to the same server; snat to the snat address', async (t) => {
      await apply(service('source-hash', true, [1, 1], LB_SNAT));
      const { answers, errors } = await requests();
      t.same(errors, {});
      const keys = Object.keys(answers);
      t.equal(keys.length, 1, `one server: ${JSON.stringify(answers)}`);
      t.match(keys[0], new RegExp(`^r[12] ${LB_SNAT.replace(/\./g, '\\.')}$`), 'the real server sees the SNAT address');
      t.equal(answers[keys[0] ?? ''], REQUESTS);
    });

    await t.test('weighted 3:1: roughly 150/50 (+-25)', async (t) => {
      await apply(service('weighted', true, [3, 1]));
      const { answers, errors } = await requests();
      t.same(errors, {});
      const n1 = answers[`r1 ${LB}`] ?? 0;
      const n2 = answers[`r2 ${LB}`] ?? 0;
      t.equal(n1 + n2, REQUESTS, JSON.stringify(answers));
      t.ok(Math.abs(n1 - 150) <= 25, `r1 ${n1}, r2 ${n2}`);
    });

    await t.test('one server down, re-applied: all requests to the other', async (t) => {
      await apply(service('round-robin'));
      await apply(service('round-robin', false));
      const { answers, errors } = await requests();
      t.same(errors, {});
      t.same(answers, { [`r1 ${LB}`]: REQUESTS });
    });

    await t.test('IPv6 beside IPv4 in the one inet table: round-robin 100/100 (+-5) via the balancer; source-hash with snat ip6', async (t) => {
      const v6 = (scheduler: Scheduler, snat?: string): Served => ({
        svc: {
          mode: 'nftables', vip: VIP6, port: 80, protocol: 'tcp', scheduler, snat,
          realServers: [{ address: 'fd90::11', port: 80, weight: 1, check: undefined }, { address: 'fd90::12', port: 8080, weight: 1, check: undefined }],
        },
        up: [true, true],
      });
      await apply(v6('round-robin'), service('round-robin', false));
      const six = await requests(REQUESTS, `http://[${VIP6}]/`);
      t.same(six.errors, {}, 'no failed IPv6 request');
      // Masquerade takes the source the kernel's IPv6 address selection picks among the
      // balancer's own addresses on eth0 (here the most recently added one, the VIP).
      const ours = new Set([LB6, LB6_SNAT, VIP6]);
      const count = (server: string): number => Object.entries(six.answers)
        .filter(([body]) => body.startsWith(`${server} `) && ours.has(body.slice(server.length + 1))).reduce((a, [, n]) => a + n, 0);
      const n1 = count('r1');
      const n2 = count('r2');
      t.equal(n1 + n2, REQUESTS, `every answer came from r1 or r2 seeing one of the balancer's addresses: ${JSON.stringify(six.answers)}`);
      t.ok(Math.abs(n1 - 100) <= 5 && Math.abs(n2 - 100) <= 5, `r1 ${n1}, r2 ${n2}`);
      t.same((await requests(4)).answers, { [`r1 ${LB}`]: 4 }, 'the IPv4 service in the same transaction balances too');
      await apply(v6('source-hash', LB6_SNAT));
      const sticky = await requests(50, `http://[${VIP6}]/`);
      t.same(sticky.errors, {});
      const keys = Object.keys(sticky.answers);
      t.equal(keys.length, 1, `one server: ${JSON.stringify(sticky.answers)}`);
      t.match(keys[0], new RegExp(`^r[12] ${LB6_SNAT}$`), 'the real server sees the ip6 SNAT address');
      await apply(service('round-robin', false));
    });

    await t.test('listTable: our table, three chains, the rules with their comments', async (t) => {
      const listed = await listTable(lb) as { nftables: Record<string, { name?: string; chain?: string; comment?: string; family?: string }>[] };
      const tables = listed.nftables.flatMap((o) => (o['table'] ? [`${o['table'].family ?? ''} ${o['table'].name ?? ''}`] : []));
      t.same(tables, ['inet haagent'], 'only our table');
      const chains = listed.nftables.flatMap((o) => (o['chain'] ? [o['chain'].name] : []));
      t.same(chains.sort(), ['output', 'postrouting', 'prerouting']);
      const rules = listed.nftables.flatMap((o) => (o['rule'] ? [`${o['rule'].chain ?? ''}: ${o['rule'].comment ?? ''}`] : []));
      t.same(rules, [
        `prerouting: haagent ${VIP}:80/tcp round-robin`,
        `output: haagent ${VIP}:80/tcp round-robin`,
        `postrouting: haagent ${VIP}:80/tcp replies via the balancer`,
      ]);
    });

    await t.test('a rejected transaction: HA_ERR_NETLINK with nft\'s stderr, nothing applied', async (t) => {
      const before = JSON.stringify(await listTable(lb));
      const bad = {
        nftables: [
          { add: { table: { family: 'inet', name: 'haagent' } } },
          { flush: { table: { family: 'inet', name: 'haagent' } } },
          { add: { rule: { family: 'inet', table: 'haagent', chain: 'nosuch', expr: [{ accept: null }] } } },
        ],
      };
      const err = await applyRuleset(bad, lb).catch((e: unknown) => e);
      t.type(err, HaagentError);
      t.equal((err as HaagentError).code, 'HA_ERR_NETLINK');
      t.match((err as HaagentError).message, /nft -j -f \S+ failed: .*No such file or directory/);
      t.equal(JSON.stringify(await listTable(lb)), before, 'the flush was rolled back with the rest');
      const { answers } = await requests(4);
      t.same(answers, { [`r1 ${LB}`]: 4 }, 'the previous rules still balance');
      const garbage = await applyRuleset({ nftables: [{ bogus: {} }] }, lb).catch((e: unknown) => e);
      t.match(garbage, { code: 'HA_ERR_NETLINK', message: /Unknown|Parsing|failed/ });
      const noNs = await listTable(`${base}-nosuch`).catch((e: unknown) => e);
      t.match(noNs, { code: 'HA_ERR_NETLINK', message: /Cannot open network namespace/ }, 'a missing namespace is an error, not "no table"');
    });

    await t.test('no up real server: no DNAT, the VIP refuses (nothing listens on the balancer)', async (t) => {
      const down: Served = { ...service('weighted'), up: [false, false] };
      await apply(down);
      const { answers, errors } = await requests(3);
      t.same(answers, {});
      t.same(errors, { ECONNREFUSED: 3 });
    });

    await t.test('deleteTable: no table inet haagent left, other tables untouched, idempotent', async (t) => {
      await apply(service('round-robin'));
      await deleteTable(lb);
      t.equal(await listTable(lb), undefined);
      const tables = await execIn(lb, ['nft', 'list', 'tables']);
      t.equal(tables.trim(), 'table inet other');
      t.equal(await execIn(lb, ['nft', '-j', 'list', 'table', 'inet', 'other']), otherBefore, 'table inet other unchanged');
      await deleteTable(lb);
      t.equal(await listTable(lb), undefined, 'second delete: still fine');
      await execIn(lb, ['nft', 'add table ip haagent; add chain ip haagent prerouting { type nat hook prerouting priority dstnat; }']);
      await deleteTable(lb, LEGACY_TABLE_FAMILY);
      t.equal((await execIn(lb, ['nft', 'list', 'tables'])).trim(), 'table inet other', 'the legacy table ip haagent of earlier versions is removed too');
      await deleteTable(lb, LEGACY_TABLE_FAMILY);
      const { errors } = await requests(2);
      t.same(errors, { ECONNREFUSED: 2 }, 'the VIP no longer balances');
    });
  });
}
