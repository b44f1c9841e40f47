/**
 * The fencing epoch's file under failure, with the real agent on two hosts in namespaces:
 * - the backup's state directory is a read-only filesystem: killed master, the backup still takes
 *   over (VIP, MASTER), says in status that its epoch is not persisted, and stays alive;
 * - a corrupt epoch file: the agent starts, is elected as usual, reports it, the file is moved aside;
 * - a symlink planted at the temp file's name: its target is left alone;
 * - an insecure (world-writable) state directory: the start is refused before any address is touched.
 * Time bounds are liveness limits, not speed claims.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { ip } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

const skip = skipReason({ needsDist: true, needs: ['nsenter', 'mount'] });
if (skip !== undefined) {
  t.plan(0, `epoch failure integration tests skipped: ${skip}`);
} else {
  const { h1, h2, hasVip, withCluster } = labSuite(t, 'haep');
  const base = ['--interface', 'int0', '--external', 'ext0', '--vip', VIP_CIDR, '--vrid', '51', '--advert-interval', '100ms', '--name', 'web'];
  /** The state directory LabCluster gives the host's agent. */
  const stateDir = (host: LabHost): string => `/run/haagent-lab/${host.ns}-state`;
  /** A fresh, empty, private state directory for the host (earlier cases leave files). */
  const freshState = (host: LabHost): string => {
    rmSync(stateDir(host), { recursive: true, force: true });
    mkdirSync(stateDir(host), { recursive: true, mode: 0o700 });
    return stateDir(host);
  };
  t.teardown(() => { for (const h of [h1, h2]) rmSync(stateDir(h), { recursive: true, force: true }); });

  t.test('backup state directory read-only: the backup still takes over, reports the unpersisted epoch, stays alive', (t) => withCluster(async (c) => {
    freshState(h1);
    const dir = freshState(h2);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m,mode=0700', 'tmpfs', dir]);
    t.teardown(() => { try { execFileSync('umount', [dir]); } catch { /* gone */ } });
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, [...base, '--role', 'backup']);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 10_000), 'h2 BACKUP', { logs: logsOf(b) });
    a.child.kill('SIGKILL');
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await hasVip(h2)), 5000, 20), 'h2 took over: MASTER with the VIP', { logs: logsOf(b) });
    const st = (await c.status(b)).instances[0];
    t.equal(st?.epochPersisted, false, 'status: epoch not persisted');
    t.match(st?.epochStateError, /web\.epoch\.json failed \(EROFS/, 'status names the file and errno');
    t.equal(st?.epoch, 1, 'the new epoch is held in memory');
    t.ok(b.logs.some((l) => ['error', 'fatal'].includes(String(l['level'])) && /EROFS/.test(String(l['msg']))), 'logged at error');
    await new Promise((r) => setTimeout(r, 1500)); // a few retries
    t.equal(b.child.exitCode, null, 'the backup-turned-master is alive');
    t.equal(await c.stateOf(b), 'MASTER', 'and still MASTER');
    t.ok(await hasVip(h2), 'with the VIP');
    t.same(readdirSync(dir), [], 'nothing could be written (read-only)');
    t.equal((await c.status(b)).instances[0]?.epochPersisted, false, 'still not persisted, still retrying');
    // The disk comes back: the retry writes the held epoch. `ip netns exec` gave the agent its
    // own copy of the mount, so the remount is done in its mount namespace.
    execFileSync('nsenter', ['-t', String(b.child.pid), '-m', 'mount', '-o', 'remount,rw', dir]);
    t.ok(await c.waitFor(async () => (await c.status(b)).instances[0]?.epochPersisted === true, 40_000, 100), 'written once the filesystem is writable again', { logs: logsOf(b) });
    const onDisk = execFileSync('nsenter', ['-t', String(b.child.pid), '-m', 'cat', join(dir, 'web.epoch.json')], { encoding: 'utf8' });
    t.same(JSON.parse(onDisk), { epoch: 1, maxSeen: 0 }, 'the held epoch is on disk');
  }));

  t.test('a corrupt epoch file: the agent starts and is elected, the error is in status, the file is moved aside', (t) => withCluster(async (c) => {
    const dir = freshState(h1);
    freshState(h2);
    writeFileSync(join(dir, 'web.epoch.json'), '{"epoch": 12, "maxSe', { mode: 0o600 });
    const before = Date.now();
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    const b = c.startAgent(h2, [...base, '--role', 'backup']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 10_000), 'elected as usual: h1 MASTER, h2 BACKUP', { logs: logsOf(a) });
    t.ok(await c.waitFor(() => hasVip(h1), 3000), 'VIP on h1');
    const st = (await c.status(a)).instances[0];
    t.match(st?.epochStateError, /web\.epoch\.json was unusable .* moved aside to .*web\.epoch\.json\.corrupt-\d+/, 'status reports it');
    t.ok((st?.epoch ?? 0) > before - 1000, `the epoch (${st?.epoch}) is above the wall-clock floor`);
    const aside = readdirSync(dir).filter((f) => f.startsWith('web.epoch.json.corrupt-'));
    t.equal(aside.length, 1, 'moved aside');
    t.equal(readFileSync(join(dir, aside[0] ?? ''), 'utf8'), '{"epoch": 12, "maxSe', 'kept as it was');
    t.equal(JSON.parse(readFileSync(join(dir, 'web.epoch.json'), 'utf8')).epoch, st?.epoch, 'a sound file holds the new epoch');
    t.ok(a.logs.some((l) => ['error', 'fatal'].includes(String(l['level'])) && /was unusable/.test(String(l['msg']))), 'logged at error');
  }));

  t.test('a symlink planted at the temp file name: its target is left unchanged', (t) => withCluster(async (c) => {
    const dir = freshState(h1);
    const victimDir = mkdtempSync(join(tmpdir(), 'haep-victim-'));
    t.teardown(() => rmSync(victimDir, { recursive: true, force: true }));
    const victim = join(victimDir, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, join(dir, 'web.epoch.json.tmp'));
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await hasVip(h1)), 10_000), 'h1 MASTER (the epoch was written)', { logs: logsOf(a) });
    t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the victim is unchanged');
    t.ok(lstatSync(join(dir, 'web.epoch.json')).isFile(), 'the epoch file is a regular file');
    t.notOk(existsSync(join(dir, 'web.epoch.json.tmp')), 'the planted link is gone');
    t.equal((await c.status(a)).instances[0]?.epochPersisted, true);
  }));

  t.test('a world-writable state directory: the start is refused before any address is touched', (t) => withCluster(async (c) => {
    const dir = freshState(h1);
    chmodSync(dir, 0o777);
    // A leftover VIP that a starting agent would remove: it must still be there.
    await ip('-n', h1.ns, 'addr', 'add', VIP_CIDR, 'dev', 'ext0');
    const a = c.startAgent(h1, [...base, '--role', 'master']);
    const code = await a.exited;
    t.equal(code, 1, 'exit status 1');
    const stderr = String(a.logs.find((l) => l['stderr'] !== undefined)?.['stderr'] ?? '');
    t.match(stderr, new RegExp(`state directory ${dir} is writable by .*refusing to use it`), 'a clear message');
    t.ok(await hasVip(h1), 'the leftover VIP was not touched');
  }));
}
