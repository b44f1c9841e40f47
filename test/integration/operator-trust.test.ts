/**
 * What an operator sees, with the real agent in namespaces: a restart with health checks pages
 * nobody (no FAULT, no fault hook, until a check really fails), `haagent status` exits non-zero
 * for a FAULT, `haagent events` reports check changes (not every run), alerts reach a local
 * webhook receiver, and peers whose VIP lists differ are reported. (`lab --keep`/`--down` are
 * tested in lab.test.ts, beside the other runs of the lab, which share its namespace names.)
 * Time bounds are liveness limits, not speed claims.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { distPath } from '../../src/lab/cluster.js';
import { VIP_CIDR, VIP2_CIDR } from '../../src/lab/topology.js';
import { repoRoot } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `operator trust integration tests skipped: ${skip}`);
} else {
  const { h1, h2, withCluster } = labSuite(t, 'haot');
  const dir = mkdtempSync(join(tmpdir(), 'haot-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  const recorder = join(repoRoot, 'test', 'fixtures', 'hooks', 'order.sh');
  const cli = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [distPath('cli', 'main.js'), ...args], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  t.test('a start with health checks: INIT -> BACKUP/MASTER without FAULT or its hook; a real failure is a FAULT, alerted, and status exits 4', (t) => withCluster(async (c) => {
    const web = c.startWeb(h1);
    const calls = join(dir, 'hooks.log');
    // An alert receiver inside h1's namespace (the agent's network), printing each POST as a line.
    const receiver = spawn('ip', ['netns', 'exec', h1.ns, process.execPath, '-e', `
      require('http').createServer((req, res) => { let b = ''; req.on('data', (d) => { b += d; }); req.on('end', () => { process.stdout.write(JSON.stringify({ path: req.url, body: JSON.parse(b) }) + '\\n'); res.end(); }); })
        .listen(9093, '127.0.0.1', () => process.stdout.write('{"listening":true}\\n'));`]);
    t.teardown(() => { receiver.kill('SIGKILL'); });
    const posts: Array<{ path?: string; body?: unknown; listening?: boolean }> = [];
    createInterface({ input: receiver.stdout }).on('line', (l) => { try { posts.push(JSON.parse(l) as typeof posts[number]); } catch { /* partial */ } });
    t.ok(await c.waitFor(() => posts.some((p) => p.listening === true), 10_000), 'receiver up');

    const hooks = ['master', 'backup', 'fault'].map((h) => `      ${h}: ["${recorder}", "${calls}", "0"]`).join('\n');
    const file = join(dir, 'h1.yaml');
    writeFileSync(file, `socket: ${c.socketPath(h1)}
alerts:
  targets: [{ type: webhook, url: "http://127.0.0.1:9093/api/v2/alerts" }]
instances:
  - name: web
    vrid: 61
    interface: int0
    external: ext0
    advert-interval: 100ms
    vips: [${VIP_CIDR}]
    checks:
      - { name: web, type: http, url: "http://127.0.0.1/", interval: 200ms, timeout: 150ms, rise: 1, fall: 1 }
    hooks:
${hooks}
`);
    const a = c.startAgent(h1, ['--config', file]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 15_000), 'h1 MASTER (alone)', { logs: logsOf(a) });
    const events = spawn(process.execPath, [distPath('cli', 'main.js'), 'events', '--socket', c.socketPath(h1), '--type', 'check,check-run,transition']);
    t.teardown(() => { events.kill('SIGKILL'); });
    const seen: Array<{ type: string; status?: string; to?: string }> = [];
    createInterface({ input: events.stdout }).on('line', (l) => { try { seen.push(JSON.parse(l) as typeof seen[number]); } catch { /* not an event */ } });
    // A second client filtered on another instance sees none of these.
    const other = spawn(process.execPath, [distPath('cli', 'main.js'), 'events', '--socket', c.socketPath(h1), '--type', 'check-run', '--instance', 'nosuch']);
    t.teardown(() => { other.kill('SIGKILL'); });
    let otherOut = '';
    other.stdout.setEncoding('utf8').on('data', (d: string) => { otherOut += d; });
    t.ok(await c.waitFor(() => seen.filter((e) => e.type === 'check-run').length >= 5, 10_000), 'five check runs seen while healthy');
    const runsBefore = seen.filter((e) => e.type === 'check-run').length;
    t.ok(await c.waitFor(() => seen.filter((e) => e.type === 'check-run').length >= runsBefore + 3, 10_000), 'three more runs');
    t.equal(otherOut, '', '--instance nosuch: none of web\'s events');
    const s = await c.status(a);
    t.same(s.instances[0]?.transitions.map((x) => x.to), ['BACKUP', 'MASTER'], 'INIT -> BACKUP -> MASTER: never FAULT at start');
    await new Promise((r) => setTimeout(r, 300));
    t.notMatch(existsSync(calls) ? readFileSync(calls, 'utf8') : '', /fault/, 'the fault hook did not run');
    t.equal(cli('status', '--socket', c.socketPath(h1)).code, 0, 'status exits 0 while healthy');

    web.kill('SIGKILL');
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'FAULT', 5000, 20), 'the web server dies: FAULT');
    t.ok(await c.waitFor(() => existsSync(calls) && /start fault/.test(readFileSync(calls, 'utf8')), 5000), 'and now the fault hook runs');
    const st = cli('status', '--socket', c.socketPath(h1));
    t.equal(st.code, 4, 'status exits 4 for a FAULT');
    t.match(st.err, /haagent: web: FAULT \(check:web\)/);
    t.ok(await c.waitFor(() => posts.some((p) => JSON.stringify(p.body ?? null).includes('haagent_transition_fault')), 5000), 'the FAULT reached the webhook as an Alertmanager alert', { posts: JSON.stringify(posts) });
    const alert = posts.find((p) => JSON.stringify(p.body ?? null).includes('haagent_transition_fault'));
    t.match(alert, { path: '/api/v2/alerts', body: [{ labels: { alertname: 'haagent_transition_fault', severity: 'critical', vrrp_instance: 'web' } }] });
    t.ok(posts.some((p) => JSON.stringify(p.body ?? null).includes('haagent_transition_master')), 'becoming MASTER was alerted too');

    // Check events: one per change, while check-run has one per run.
    const checkEvents = seen.filter((e) => e.type === 'check').map((e) => e.status);
    const runs = seen.filter((e) => e.type === 'check-run').length;
    t.same(checkEvents, ['failing'], `check events are the changes only (${runs} runs since subscribing)`);
    t.ok(runs > checkEvents.length, 'check-run has every run');
  }));

  t.test('peers whose VIP lists differ: the backup says so (log, status, exit code, reason of its takeover)', (t) => withCluster(async (c) => {
    const conf = (name: string, socket: string, priority: number, vips: string): string => {
      const f = join(dir, `${name}.yaml`);
      writeFileSync(f, `socket: ${socket}\ninstances:\n  - name: web\n    vrid: 62\n    interface: int0\n    external: ext0\n    advert-interval: 100ms\n    priority: ${priority}\n    vips: [${vips}]\n`);
      return f;
    };
    const a = c.startAgent(h1, ['--config', conf('mm-h1', c.socketPath(h1), 150, VIP_CIDR)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', conf('mm-h2', c.socketPath(h2), 100, `${VIP_CIDR}, ${VIP2_CIDR}`)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', 10_000), 'h2 drops every advert of h1 and also becomes MASTER (the danger)', { logs: logsOf(b) });
    const inst = (await c.status(b)).instances[0];
    t.match(inst?.vrrpMismatches, [{ from: h1.intAddress, reason: 'address-mismatch', theirs: ['10.77.0.100'] }], 'status names the sender and its list');
    t.match(inst?.transitions.at(-1)?.reason, new RegExp(`adverts from ${h1.intAddress.replace(/\./g, '\\.')} dropped: address list differs`), 'the takeover says why');
    const warn = b.logs.find((l) => l['level'] === 'warn' && /dropped: address list differs/.test(String(l['msg'])));
    t.ok(warn, 'a warning names it', { logs: logsOf(b) });
    t.match(String(warn?.['msg']), new RegExp(`adverts from ${h1.intAddress.replace(/\./g, '\\.')} \\(VRID 62\\) dropped: address list differs \\(ours: \\[10\\.77\\.0\\.100, 10\\.77\\.0\\.101\\], theirs: \\[10\\.77\\.0\\.100\\]\\)`));
    t.equal(b.logs.filter((l) => /dropped: address list differs/.test(String(l['msg'])) && l['level'] === 'warn').length, 1, 'once, not per advert');
    const st = cli('status', '--socket', c.socketPath(b.host));
    t.match(st.out, /web: CONFIG MISMATCH: adverts from 10\.66\.0\.11 dropped \(address-mismatch/);
    t.equal(st.code, 5, 'status exits 5: this node and the sender of the dropped adverts are both MASTER');
    t.match(st.err, /haagent: web: this node and 10\.66\.0\.11 \(its adverts dropped: address-mismatch\) are both MASTER/);
  }));

}
