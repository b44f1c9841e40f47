/**
 * Data-consistent takeovers with the real agent on two hosts in namespaces: a failing takeover
 * guard keeps a backup out of MASTER (and `promote --force` overrides it), a failed
 * before-master gives the claim up (priority 0, backoff), the cold-start wait, and ordered
 * demotion (no new takeover while the demote hook runs). Advert interval 100 ms; time bounds
 * are liveness limits, not speed claims.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distPath } from '../../src/lab/cluster.js';
import { VIP_CIDR } from '../../src/lab/topology.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';
import { sleep } from '../helpers/wait.js';

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `takeover guard integration tests skipped: ${skip}`);
} else {
  const { h1, h2, hasVip, withCluster } = labSuite(t, 'hatg');
  const dir = mkdtempSync(join(tmpdir(), 'hatg-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  /** Runs the CLI; returns its exit status and output (no throw on a non-zero exit). */
  const cli = (...args: string[]): { status: number | null; out: string } => {
    const r = spawnSync(process.execPath, [distPath('cli', 'main.js'), ...args], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const lines = (f: string): string[] => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l !== '') : []);

  function writeConfig(name: string, socket: string, instance: string): string {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, `socket: ${socket}\ninstances:\n  - name: db\n    vrid: 51\n    interface: int0\n    external: ext0\n    advert-interval: 100ms\n    vips: [${VIP_CIDR}]\n${instance}`);
    return f;
  }

  function script(name: string, body: string): string {
    const f = join(dir, name);
    writeFileSync(f, `#!/bin/sh\n${body}\n`);
    chmodSync(f, 0o755);
    return f;
  }

  /** A guard that fails while `flag` exists and records its environment in `log`. */
  function flagGuard(name: string, flag: string, log: string): string {
    return script(name, `echo "$HAAGENT_GUARD epoch=$HAAGENT_EPOCH peer=$HAAGENT_PEER_HEARD state=$HAAGENT_STATE silent=$HAAGENT_MASTER_SILENT_MS inst=$HAAGENT_INSTANCE" >> ${log}\n[ -e ${flag} ] && exit 1\nexit 0`);
  }

  t.test('a failing guard keeps the backup out of MASTER after the master dies; it takes over once the guard passes', (t) => withCluster(async (c) => {
    const flag = join(dir, 'stale-a');
    const glog = join(dir, 'guard-a.log');
    writeFileSync(flag, '');
    const guard = flagGuard('guard-a', flag, glog);
    const a = c.startAgent(h1, ['--config', writeConfig('a-h1', c.socketPath(h1), '    priority: 150\n')]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', writeConfig('a-h2', c.socketPath(h2), `    priority: 100\n    guards:\n      - { command: [${guard}], timeout: 2s, name: fresh }\n    guard-retry: 300ms\n`)]);
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.master?.address === h1.intAddress, 10_000), 'h2 BACKUP, hearing h1');
    t.ok(await c.waitFor(() => hasVip(h1), 3000), 'VIP on h1');
    // A backup may run its guards once at start, before it first hears the master; not after.
    const before = lines(glog).length;
    await sleep(1000);
    t.equal(lines(glog).length, before, 'no guard runs while a master is heard');
    t.equal(await c.stateOf(b), 'BACKUP');

    a.child.kill('SIGKILL');
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.takeover?.reason === 'guard', 5000), 'h2 held back by the guard', { logs: logsOf(b) });
    // The killed master's VIP lease runs out; the backup must not add it.
    t.ok(await c.waitFor(async () => !(await hasVip(h1)), 5000), 'the dead master\'s VIP expired');
    await sleep(1000); // several guard retries
    const s = (await c.status(b)).instances[0];
    t.equal(s?.state, 'BACKUP', 'still BACKUP');
    t.match(s?.takeover, { blocked: true, reason: 'guard', detail: /fresh: exit 1/, guards: [{ name: 'fresh', ok: false, exitCode: 1, timedOut: false }] });
    t.notOk(await hasVip(h2), 'VIP nowhere: not on h2');
    t.notOk(await hasVip(h1), 'VIP nowhere: not on h1');
    t.ok(lines(glog).length >= before + 2, `the guard was retried (${lines(glog).length - before} runs)`);
    t.match(lines(glog)[before], /^fresh epoch=\d+ peer=1 state=BACKUP silent=\d+ inst=db$/, 'the guard got its environment');
    const st = cli('status', '--socket', b.socket);
    t.equal(st.status, 6, 'haagent status exits 6 while a takeover is held back');
    t.match(st.out, /TAKEOVER HELD BACK \(guard\)/);
    t.match(st.out, /BACKUP \(held: guard\)/);

    unlinkSync(flag);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', 5000), 'the guard passes: h2 takes over', { logs: logsOf(b) });
    t.ok(await c.waitFor(() => hasVip(h2), 3000), 'VIP on h2');
    t.match((await c.status(b)).instances[0]?.transitions.slice(-1)[0], { to: 'MASTER', reason: /takeover guards passed/ });
    t.equal(cli('status', '--socket', b.socket).status, 0, 'status exits 0 again');
  }));

  t.test('promote --force: refused while a master is heard; takes over past a failing guard', (t) => withCluster(async (c) => {
    const flag = join(dir, 'stale-f');
    writeFileSync(flag, '');
    const guard = flagGuard('guard-f', flag, join(dir, 'guard-f.log'));
    const a = c.startAgent(h1, ['--config', writeConfig('f-h1', c.socketPath(h1), '    priority: 150\n')]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER');
    const b = c.startAgent(h2, ['--config', writeConfig('f-h2', c.socketPath(h2), `    priority: 100\n    guards: [[${guard}]]\n    guard-retry: 300ms\n`)]);
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.master?.address === h1.intAddress, 10_000), 'h2 BACKUP, hearing h1');
    const refused = cli('promote', '--force', '--socket', b.socket);
    t.equal(refused.status, 2, 'refused (invalid request)');
    t.match(refused.out, new RegExp(`db has a master \\(${h1.intAddress.replace(/\./g, '\\.')}\\); run switchover there`));
    t.equal(cli('promote', '--socket', b.socket).status, 2, 'without --force: usage error');

    a.child.kill('SIGKILL');
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.takeover?.reason === 'guard', 5000), 'held back by the guard');
    const forced = cli('promote', '--force', '--socket', b.socket);
    t.equal(forced.status, 0, forced.out);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER', 3000), 'h2 MASTER while the guard still fails');
    t.ok(await c.waitFor(() => hasVip(h2), 3000), 'VIP on h2');
    t.ok(existsSync(flag), 'the guard would still fail');
    t.match((await c.status(b)).instances[0]?.transitions.slice(-1)[0], { to: 'MASTER', reason: /promote --force/ });
    t.ok(b.logs.some((l) => (l['level'] === 'warn' || l['level'] === 40) && /promote --force/.test(String(l['msg']))), 'logged at warn');
  }));

  t.test('a failing before-master: no VIP on that node, priority 0 hands back to the live peer, out for the backoff', (t) => withCluster(async (c) => {
    const marks = join(dir, 'bm.log');
    const bm = script('before-master-fail', `echo "before-master epoch=$HAAGENT_EPOCH" >> ${marks}\nexit 1`);
    const a = c.startAgent(h1, ['--config', writeConfig('b-h1', c.socketPath(h1), '    priority: 100\n')]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER');
    t.ok(await c.waitFor(() => hasVip(h1), 3000), 'VIP on h1');
    // h2 preempts h1, but its before-master fails.
    let vipOnH2 = false;
    let sampling = true;
    const sampler = (async () => { while (sampling) { if (await hasVip(h2)) vipOnH2 = true; await sleep(20); } })();
    const b = c.startAgent(h2, ['--config', writeConfig('b-h2', c.socketPath(h2), `    priority: 150\n    preempt: true\n    promotion-backoff: 4s\n    hooks:\n      before-master: [${bm}]\n`)]);
    t.ok(await c.waitFor(() => lines(marks).length >= 1, 10_000), 'h2 claimed and ran before-master', { logs: logsOf(b) });
    t.match(lines(marks)[0], /^before-master epoch=\d+$/, 'before-master got the epoch');
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.transitions.some((x) => x.from === 'MASTER' && /promotion failed/.test(x.reason)) ?? false, 3000), 'h2 gave the claim up');
    t.ok(await c.waitFor(async () => (await c.status(a)).instances[0]?.transitions.some((x) => x.to === 'MASTER' && /peer released \(priority 0\)/.test(x.reason)) ?? false, 3000),
      'h1 took over on h2\'s priority-0 advert', { logs: logsOf(a) });
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 3000), 'h1 MASTER with the VIP');
    await sleep(1500); // within the 4 s backoff: h2 would preempt h1 at once otherwise
    t.equal(lines(marks).length, 1, 'no new claim within the backoff');
    t.equal(await c.stateOf(b), 'BACKUP');
    t.ok(await c.waitFor(() => lines(marks).length >= 2, 8000), 'after the backoff h2 claims again (and fails again)');
    sampling = false;
    await sampler;
    t.notOk(vipOnH2, 'the VIP was never on h2');
  }));

  t.test('cold start: alone, no VIP until the timeout, then MASTER; with a failing guard it stays out', (t) => withCluster(async (c) => {
    // A timeout long enough for the checks below to run inside it on a loaded machine (the
    // status CLI is a node process of its own).
    const a = c.startAgent(h1, ['--config', writeConfig('c-h1', c.socketPath(h1), '    priority: 100\n    cold-start: { wait-for-peer: true, timeout: 8s }\n')]);
    t.ok(await c.waitFor(async () => (await c.status(a)).instances[0]?.takeover?.reason === 'cold-start', 5000), 'held back: cold-start', { logs: logsOf(a) });
    t.notOk(await hasVip(h1), 'no VIP while waiting');
    t.equal(cli('status', '--socket', a.socket).status, 6, 'status exits 6');
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 12000), 'after the timeout: MASTER');
    t.ok(await c.waitFor(() => hasVip(h1), 3000), 'VIP on h1');
    await c.stopAll();

    const flag = join(dir, 'stale-c');
    writeFileSync(flag, '');
    const guard = flagGuard('guard-c', flag, join(dir, 'guard-c.log'));
    const g = c.startAgent(h1, ['--config', writeConfig('c2-h1', c.socketPath(h1), `    priority: 100\n    cold-start: { wait-for-peer: true, timeout: 2s }\n    guards: [[${guard}]]\n    guard-retry: 300ms\n`)]);
    t.ok(await c.waitFor(async () => (await c.status(g)).instances[0]?.takeover?.reason === 'cold-start', 5000), 'held back: cold-start');
    t.ok(await c.waitFor(async () => (await c.status(g)).instances[0]?.takeover?.reason === 'guard', 5000), 'after the timeout the guard holds it back');
    await sleep(1000);
    t.equal(await c.stateOf(g), 'BACKUP', 'stays BACKUP');
    t.notOk(await hasVip(h1), 'no VIP');
  }));

  t.test('ordered demotion: the VIP goes before the backup hook, and a slow backup hook delays the next takeover', (t) => withCluster(async (c) => {
    const hlog = join(dir, 'demote.log');
    const vipIp = VIP_CIDR.split('/')[0] ?? '';
    const slow = script('slow-backup', `echo "start $HAAGENT_OLD_STATE vip=$(ip -o addr show dev ext0 | grep -c "${vipIp}/") epoch=$HAAGENT_EPOCH" >> ${hlog}\nsleep 3\necho "end $HAAGENT_OLD_STATE" >> ${hlog}`);
    const a = c.startAgent(h1, ['--config', writeConfig('d-h1', c.socketPath(h1), `    priority: 100\n    hooks:\n      backup: { command: [${slow}], timeout: 10s }\n`)]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 10_000), 'h1 MASTER');
    t.ok(await c.waitFor(() => lines(hlog).includes('end INIT'), 8000), 'the start-up backup hook has ended');
    const b = c.startAgent(h2, ['--config', writeConfig('d-h2', c.socketPath(h2), '    priority: 150\n    preempt: true\n')]);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'BACKUP' && (await c.stateOf(b)) === 'MASTER', 10_000), 'h2 preempted h1');
    t.ok(await c.waitFor(() => lines(hlog).some((l) => l.startsWith('start MASTER')), 3000), 'h1 runs its backup hook');
    t.match(lines(hlog).find((l) => l.startsWith('start MASTER')), /vip=0 epoch=\d+/, 'the VIP was already gone when the hook started');
    b.child.kill('SIGTERM'); // priority 0: h1 would take over after Skew_Time
    t.ok(await c.waitFor(async () => (await c.status(a)).instances[0]?.takeover?.reason === 'demote-hook', 3000), 'held back by the running demote hook', { logs: logsOf(a) });
    t.notOk(lines(hlog).includes('end MASTER'), 'the hook is still running');
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 8000), 'h1 takes over once the hook has ended');
    t.ok(lines(hlog).includes('end MASTER'), 'the hook had ended before h1 became MASTER');
    t.ok(await c.waitFor(() => hasVip(h1), 3000), 'VIP on h1');
  }));
}
