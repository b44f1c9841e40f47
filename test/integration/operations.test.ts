/**
 * Day-2 operations with the real agent on two hosts in namespaces: health checks move
 * the VIP, hooks run in order (before-master before the VIP), maintenance, switchover, reload
 * (SIGHUP and `haagent reload`), the event stream and Prometheus metrics.
 * Time bounds are liveness limits, not speed claims.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { distPath } from '../../src/lab/cluster.js';
import { VIP_CIDR, VIP2_CIDR } from '../../src/lab/topology.js';
import { run } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `operations integration tests skipped: ${skip}`);
} else {
  const { h1, h2, hasVip, withCluster } = labSuite(t, 'haop');
  const dir = mkdtempSync(join(tmpdir(), 'haop-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  const cli = (...args: string[]): Promise<string> => run(process.execPath, [distPath('cli', 'main.js'), ...args], 20_000);

  /** A YAML config for one host; `extra` is appended to the instance mapping (indented). */
  function writeConfig(name: string, socket: string, instance: string, top = ''): string {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, `socket: ${socket}\n${top}instances:\n  - name: web\n    vrid: 51\n    interface: int0\n    external: ext0\n    advert-interval: 100ms\n${instance}`);
    return f;
  }


  const httpCheck = `    checks:\n      - { name: web, type: http, url: "http://127.0.0.1/", interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }\n`;

  for (const preempt of [true, false]) {
    t.test(`web server dies on the master: FAULT, the peer takes over; it comes back: ${preempt ? 'takes the VIP back (preempt)' : 'stays BACKUP (no preempt)'}`, (t) => withCluster(async (c) => {
      const webA = c.startWeb(h1);
      c.startWeb(h2);
      const a = c.startAgent(h1, ['--config', writeConfig(`h1-health-${preempt}`, c.socketPath(h1), `    priority: 150\n    preempt: ${preempt}\n    vips: [${VIP_CIDR}]\n${httpCheck}`)]);
      // h1 first: without preempt, whoever is master first stays master.
      t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER', { logs: logsOf(a) });
      const b = c.startAgent(h2, ['--config', writeConfig(`h2-health-${preempt}`, c.socketPath(h2), `    priority: 100\n    vips: [${VIP_CIDR}]\n${httpCheck}`)]);
      t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP' && (await c.stateOf(a)) === 'MASTER', 10_000), 'h2 BACKUP', { logs: [logsOf(a), logsOf(b)] });
      const sa = await c.status(a);
      t.match(sa.instances[0]?.checks[0], { name: 'web', type: 'http', status: 'healthy' });
      webA.kill('SIGKILL');
      t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'FAULT' && (await c.stateOf(b)) === 'MASTER', 5000, 20), 'h1 FAULT, h2 MASTER', { logs: logsOf(a) });
      t.match((await c.status(a)).instances[0]?.faults, ['check:web']);
      t.ok(await c.waitFor(async () => (await hasVip(h2)) && !(await hasVip(h1)), 3000), 'VIP on h2 only');
      c.startWeb(h1);
      t.ok(await c.waitFor(async () => (await c.stateOf(a)) !== 'FAULT', 5000), 'h1 leaves FAULT when the web server answers again');
      if (preempt) {
        t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 5000), 'h1 takes the VIP back');
        t.ok(await c.waitFor(() => hasVip(h1), 3000));
      } else {
        await new Promise((r) => setTimeout(r, 1000)); // > Master_Down_Interval
        t.equal(await c.stateOf(a), 'BACKUP', 'h1 leaves the healthy master alone');
        t.equal(await c.stateOf(b), 'MASTER');
      }
    }));
  }

  t.test('hooks: before-master runs before the VIP exists, then master; a hung hook is killed and never blocks adverts', (t) => withCluster(async (c) => {
    const log1 = join(dir, 'hooks-h1.log');
    const log2 = join(dir, 'hooks-h2.log');
    const script = join(dir, 'hook.sh');
    writeFileSync(script, '#!/bin/sh\n# records the hook, the transition and whether the VIP is on ext0 right now\nvip=$(ip -o addr show dev ext0 | grep -c "$1")\necho "$HAAGENT_HOOK $HAAGENT_OLD_STATE $HAAGENT_STATE vip=$vip $HAAGENT_INSTANCE $HAAGENT_VRID $HAAGENT_VIPS" >> "$2"\n');
    const hang = join(dir, 'hang.sh');
    writeFileSync(hang, '#!/bin/sh\nsleep 30\n');
    chmodSync(script, 0o755);
    chmodSync(hang, 0o755);
    const vipIp = VIP_CIDR.split('/')[0] ?? '';
    const hooks = (file: string, backupHook: string): string => `    hooks:\n      before-master: [${script}, "${vipIp}", ${file}]\n      master: [${script}, "${vipIp}", ${file}]\n      stop: [${script}, "${vipIp}", ${file}]\n      backup: ${backupHook}\n`;
    const a = c.startAgent(h1, ['--config', writeConfig('h1-hooks', c.socketPath(h1), `    priority: 150\n    preempt: true\n    vips: [${VIP_CIDR}]\n${hooks(log1, `[${script}, "${vipIp}", ${log1}]`)}`)]);
    // h1 first, so h2 never is master on the way (its only transition is INIT -> BACKUP).
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', writeConfig('h2-hooks', c.socketPath(h2), `    priority: 100\n    vips: [${VIP_CIDR}]\n${hooks(log2, `{ command: [${hang}], timeout: 1s }`)}`)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP', { logs: logsOf(b) });
    t.ok(await c.waitFor(() => existsSync(log1) && readFileSync(log1, 'utf8').includes('master BACKUP MASTER'), 5000), 'master hook ran');
    const lines = readFileSync(log1, 'utf8').trim().split('\n');
    const bm = lines.findIndex((l) => l.startsWith('before-master BACKUP MASTER'));
    const m = lines.findIndex((l) => l.startsWith('master BACKUP MASTER'));
    t.ok(bm >= 0 && m > bm, 'before-master ran before master', { lines });
    t.match(lines[bm], /vip=0 web 51 10\.77\.0\.100\/24/, 'before-master saw no VIP yet, and got instance, VRID and VIPs');
    t.match(lines[m], /vip=1/, 'the master hook ran after the VIP was added');
    // h2's backup hook hangs: killed at 1 s, reported; adverts kept flowing meanwhile (no transition).
    t.ok(await c.waitFor(async () => ((await c.status(b)).instances[0]?.hooks ?? []).some((r) => r.hook === 'backup' && r.timedOut), 5000), 'hung backup hook timed out and is in status');
    const sb = await c.status(b);
    t.equal(sb.instances[0]?.state, 'BACKUP');
    t.equal(sb.instances[0]?.transitionsTotal, 1, 'INIT -> BACKUP only: no flap while the hook hung');
    t.ok((sb.instances[0]?.advertsReceived ?? 0) >= 5, 'adverts were received while the hook hung', { received: sb.instances[0]?.advertsReceived });
    const human = await cli('status', '--socket', b.socket);
    t.match(human, /last hook backup .*TIMED OUT/);
    // SIGTERM: the stop hook runs (after the VIP is gone) before the agent exits.
    a.child.kill('SIGTERM');
    t.equal(await a.exited, 0);
    t.match(readFileSync(log1, 'utf8'), /stop MASTER STOPPED vip=0/, 'stop hook ran on shutdown, after the VIP was removed');
  }));

  t.test('maintenance and switchover move the VIP on request; the event stream reports it', (t) => withCluster(async (c) => {
    c.startWeb(h1);
    c.startWeb(h2);
    const a = c.startAgent(h1, ['--config', writeConfig('h1-ops', c.socketPath(h1), `    priority: 150\n    preempt: true\n    vips: [${VIP_CIDR}]\n`)]);
    const b = c.startAgent(h2, ['--config', writeConfig('h2-ops', c.socketPath(h2), `    priority: 100\n    vips: [${VIP_CIDR}]\n`)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 10_000), 'converged');
    const events: Array<{ type: string; to?: string; reason?: string; on?: boolean }> = [];
    const ev = spawn(process.execPath, [distPath('cli', 'main.js'), 'events', '--socket', a.socket], { stdio: ['ignore', 'pipe', 'ignore'] });
    t.teardown(() => { ev.kill('SIGKILL'); });
    createInterface({ input: ev.stdout }).on('line', (l) => { events.push(JSON.parse(l) as { type: string }); });
    await new Promise((r) => setTimeout(r, 300));

    t.match(await cli('maintenance', 'on', '--socket', a.socket), /web: maintenance on \(was MASTER: handing over to the peer\)/);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await hasVip(h2)) && !(await hasVip(h1)), 3000), 'maintenance on: h2 MASTER with the VIP, h1 released it');
    await new Promise((r) => setTimeout(r, 700)); // > Master_Down_Interval: a preempting h1 would have taken it back
    const sa = await c.status(a);
    t.match(sa.instances[0], { state: 'BACKUP', maintenance: true }, 'h1 stays BACKUP in maintenance despite preempt');
    t.match(await cli('status', '--socket', a.socket), /BACKUP \(maint\)/);
    await cli('maintenance', 'off', '--socket', a.socket);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 3000), 'maintenance off: h1 (preempt) takes the VIP back');

    await t.rejects(cli('switchover', '--socket', b.socket), /not MASTER/, 'switchover on a backup is refused with the reason');
    t.match(await cli('switchover', '--socket', a.socket), /web: handing over to the peer/);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await hasVip(h2)) && !(await hasVip(h1)), 3000), 'switchover: h2 MASTER with the VIP');
    await new Promise((r) => setTimeout(r, 700));
    t.equal(await c.stateOf(a), 'BACKUP', 'h1 yields: no preemption straight back');
    await cli('switchover', '--socket', b.socket);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)) && !(await hasVip(h2)), 3000), 'switchover on h2 moves it back');
    await new Promise((r) => setTimeout(r, 200));
    const kinds = events.map((e) => `${e.type}${e.to !== undefined ? `:${e.to}` : ''}${e.on !== undefined ? `:${String(e.on)}` : ''}`);
    t.ok(kinds.includes('maintenance:true') && kinds.includes('maintenance:false'), 'maintenance events streamed', { kinds });
    t.ok(kinds.filter((k) => k === 'transition:MASTER').length >= 2 && kinds.includes('transition:BACKUP'), 'transitions streamed', { kinds });
  }));

  t.test('systemd: READY=1 once running, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM', (t) => withCluster(async (c) => {
    const sock = join(dir, 'notify.sock');
    // A stand-in for systemd's notify socket: prints every datagram as one JSON line.
    const py = spawn('python3', ['-c', [
      'import socket, sys, json',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      'print("bound", flush=True)',
      'while True:',
      '    print(json.dumps(s.recv(4096).decode()), flush=True)',
    ].join('\n'), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => { py.kill('SIGKILL'); });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      createInterface({ input: py.stdout }).on('line', (l) => { if (l === 'bound') resolve(); else got.push(JSON.parse(l) as string); });
    });
    const a = c.startAgent(h1, ['--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR, '--vrid', '51', '--advert-interval', '100ms'], { NOTIFY_SOCKET: sock });
    t.ok(await c.waitFor(() => got.some((m) => m.startsWith('READY=1')), 10_000), 'READY=1 after the sockets are open', { got, logs: logsOf(a) });
    t.ok(existsSync(a.socket), 'the control socket is there');
    a.child.kill('SIGHUP');
    t.ok(await c.waitFor(() => got.some((m) => m.startsWith('RELOADING=1')) && got.filter((m) => m.startsWith('READY=1')).length >= 2, 5000), 'RELOADING=1 then READY=1', { got });
    a.child.kill('SIGTERM');
    await a.exited;
    t.ok(got.some((m) => m.startsWith('STOPPING=1')), 'STOPPING=1', { got });
  }));

  t.test('reload: VIP added live without a transition; a bad file is refused; SIGHUP adds an instance; metrics', (t) => withCluster(async (c) => {
    const sock = c.socketPath(h1);
    const top = 'metrics: { listen: "127.0.0.1:9650" }\n';
    const file = writeConfig('h1-reload', sock, `    priority: 150\n    vips: [${VIP_CIDR}]\n`, top);
    const a = c.startAgent(h1, ['--config', file]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER alone', { logs: logsOf(a) });
    const before = (await c.status(a)).instances[0]?.transitionsTotal;

    writeConfig('h1-reload', sock, `    priority: 150\n    vips: [${VIP_CIDR}, ${VIP2_CIDR}]\n`, top);
    t.match(await cli('reload', '--socket', sock), /1 updated in place \(web\)/);
    t.ok(await c.waitFor(() => hasVip(h1, VIP2_CIDR), 3000), 'second VIP added on the master');
    const after = (await c.status(a)).instances[0];
    t.equal(after?.transitionsTotal, before, 'no transition');
    t.equal(after?.state, 'MASTER');
    t.same(after?.vips, [VIP_CIDR, VIP2_CIDR]);

    writeFileSync(file, `socket: ${sock}\ninstances:\n  - name: web\n    vrid: 999\n`);
    await t.rejects(cli('reload', '--socket', sock), /reload refused, the running config stays.*instances\[0\]\.vrid \(line 4\)/s);
    t.equal(await c.stateOf(a), 'MASTER', 'still MASTER after the refused reload');
    t.ok(await hasVip(h1, VIP2_CIDR), 'VIPs untouched');

    writeFileSync(file, `socket: ${sock}\n${top}instances:\n  - { name: web, vrid: 51, interface: int0, external: ext0, advert-interval: 100ms, priority: 150, vips: [${VIP_CIDR}, ${VIP2_CIDR}] }\n  - { name: api, vrid: 52, interface: int0, external: ext0, advert-interval: 100ms, priority: 150, vips: ["10.77.0.102/24"] }\n`);
    a.child.kill('SIGHUP');
    t.ok(await c.waitFor(async () => (await c.status(a)).instances.some((i) => i.name === 'api' && i.state === 'MASTER'), 5000), 'SIGHUP: the added instance started and became MASTER', { logs: logsOf(a) });
    t.equal((await c.status(a)).instances.find((i) => i.name === 'web')?.transitionsTotal, before, 'the unchanged instance was not touched');

    const metrics = await run('ip', ['netns', 'exec', h1.ns, process.execPath, '-e',
      'fetch("http://127.0.0.1:9650/metrics").then(r => r.text()).then(t => process.stdout.write(t))']);
    t.match(metrics, /haagent_instance_state\{instance="web",vrid="51",state="MASTER"\} 1/);
    t.match(metrics, /haagent_adverts_sent_total\{instance="web",vrid="51"\} [1-9]/);
    t.match(metrics, /haagent_effective_priority\{instance="api",vrid="52"\} 150/);
  }));
}
