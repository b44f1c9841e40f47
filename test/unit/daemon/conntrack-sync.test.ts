/**
 * The conntrackd supervisor with fake processes: the config file it writes, the order of the
 * commands at a takeover (delete the floating address's entries, commit, then -f -R -B without
 * holding the takeover) and at a demotion (skipped while MASTER again), restart with backoff
 * when conntrackd dies, and the peer/caches read from `-s`.
 */
import t, { type Test } from 'tap';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pino from 'pino';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { UnstampedEvent } from '../../../src/daemon/event-bus.js';
import { ConntrackSync, type ConntrackPorts } from '../../../src/daemon/conntrack-sync.js';
import type { CommandResult } from '../../../src/adapters/conntrackd.js';

const cfg = parseConfigYaml(`instances:
  - { name: web, vrid: 7, interface: int0, vips: [10.77.0.100/24],
      virtual-services: [{ port: 8080, real-servers: [{ address: 10.66.0.11 }] }],
      conntrack-sync: { interface: int0, local: 10.66.0.11, peer: 10.66.0.12, snat-address: 10.66.0.100/24, commit-timeout: 2s } }
`);
if (!cfg.ok) throw new Error(cfg.errors.map((e) => e.message).join('\n'));
const inst = cfg.config.instances[0];
if (inst === undefined) throw new Error('no instance');

const stats = (received: number): string => `cache internal:\ncurrent active connections:\t 3\n\ncache external:\ncurrent active connections:\t 5\n\nUDP traffic (active device=int0):\n 1 Bytes sent 1 Bytes recv\n 9 Pckts sent ${received} Pckts recv\n 0 Error send 0 Error recv\n`;

class FakeChild extends EventEmitter {
  readonly pid = 4242;
  killed: string[] = [];
  kill(sig: string): boolean { this.killed.push(sig); this.emit('close', null, sig); return true; }
}

function fakes(opts: { received?: () => number; commitMs?: number } = {}) {
  const calls: string[] = [];
  const children: FakeChild[] = [];
  const exits: Array<(code: number | null, signal: string | null, tail: string) => void> = [];
  let gate: (() => void) | undefined;
  const ok = (stdout = ''): CommandResult => ({ ok: true, stdout, detail: '', timedOut: false, durationMs: opts.commitMs ?? 3 });
  const ports: ConntrackPorts = {
    command: async (_conf, args, timeoutMs) => {
      calls.push(`conntrackd ${args.join(' ')}${args[0] === '-c' ? ` (${timeoutMs} ms)` : ''}`);
      if (args[0] === '-k') return { ok: false, stdout: '', detail: 'not running', timedOut: false, durationMs: 1 };
      if (args[0] === '-s') return ok(stats(opts.received?.() ?? 0));
      if (args[0] === '-f' && args.length === 1) await new Promise<void>((r) => { gate = r; });
      return ok();
    },
    conntrack: async (args) => { calls.push(`conntrack ${args.join(' ')}`); return { ok: false, stdout: '', detail: 'conntrack exited 1: conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.', timedOut: false, durationMs: 1 }; },
    start: (_conf, onExit) => {
      const c = new FakeChild();
      children.push(c);
      exits.push(onExit);
      c.once('close', (code: number | null, sig: string | null) => onExit(code, sig, ''));
      return c as unknown as ChildProcess;
    },
  };
  return { ports, calls, children, exits, release: () => gate?.() };
}

function setup(t: Test, f: ReturnType<typeof fakes>, master = false) {
  const dir = mkdtempSync(join(tmpdir(), 'ctsync-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const events: UnstampedEvent[] = [];
  let isMaster = master;
  const sync = new ConntrackSync(inst as NonNullable<typeof inst>, { stateDir: dir, log: pino({ level: 'silent' }), publish: (e) => events.push(e), isMaster: () => isMaster, ports: f.ports });
  t.teardown(() => sync.stop());
  return { sync, dir, events, setMaster: (m: boolean) => { isMaster = m; } };
}

t.test('start: config file (0600, own lock and socket), a leftover daemon asked to stop, then conntrackd', async (t) => {
  const f = fakes();
  const { sync, dir, events } = setup(t, f);
  await sync.start();
  const conf = join(dir, 'conntrackd', '7-web.conf');
  t.equal(statSync(conf).mode & 0o777, 0o600);
  t.match(readFileSync(conf, 'utf8'), new RegExp(`LockFile ${join(dir, 'conntrackd', '7-web.lock')}`));
  t.same(f.calls, ['conntrackd -k']);
  t.equal(f.children.length, 1);
  t.match(sync.status(), { running: true, pid: 4242, restarts: 0, peerReachable: false, lastCommit: null });
  t.match(events, [{ type: 'conntrack-sync', kind: 'daemon', ok: true }]);
});

t.test('takeover: floating entries deleted, commit (bounded), resolved before -f -R -B', async (t) => {
  const f = fakes({ commitMs: 47 });
  const { sync, events } = setup(t, f);
  await sync.start();
  f.calls.length = 0;
  await sync.takeover(); // resolves although -f is held
  t.same(f.calls, ['conntrack -D -s 10.66.0.100', 'conntrackd -c (2000 ms)', 'conntrackd -f']);
  t.match(sync.status().lastCommit, { ok: true, durationMs: 47 });
  t.match(events.filter((e) => e.type === 'conntrack-sync' && e.kind === 'commit'), [{ ok: true, durationMs: 47 }]);
  f.release();
  await new Promise((r) => setTimeout(r, 20));
  t.same(f.calls.slice(3), ['conntrackd -R', 'conntrackd -B']);
  t.equal(sync.status().error, undefined, 'conntrack -D finding nothing is not an error');
});

t.test('demote: -f internal, the services\' entries deleted, -t, -n; nothing when MASTER again', async (t) => {
  const f = fakes();
  const { sync, setMaster } = setup(t, f, true);
  await sync.start();
  f.calls.length = 0;
  sync.demote();
  await new Promise((r) => setTimeout(r, 20));
  t.same(f.calls, [], 'a demotion arriving after a new takeover changes nothing');
  setMaster(false);
  sync.demote();
  await new Promise((r) => setTimeout(r, 20));
  t.same(f.calls, ['conntrackd -f internal', 'conntrack -D -p tcp -d 10.77.0.100 --dport 8080', 'conntrackd -t', 'conntrackd -n']);
});

t.test('conntrackd dies: reported, started again after the backoff', async (t) => {
  const f = fakes();
  const { sync, events } = setup(t, f);
  await sync.start();
  f.exits[0]?.(1, null, 'cannot bind');
  t.match(sync.status(), { running: false, error: /conntrackd exited \(code 1\): cannot bind/ });
  t.match(events.at(-1), { type: 'conntrack-sync', kind: 'daemon', ok: false, detail: /restart in 1000 ms/ });
  await new Promise((r) => setTimeout(r, 1200));
  t.equal(f.children.length, 2, 'started again');
  t.match(sync.status(), { running: true, restarts: 1 });
});

t.test('statistics: caches, link, and the peer heard while its packet count moves, lost when it stops', async (t) => {
  let received = 10;
  const f = fakes({ received: () => received });
  const { sync, events } = setup(t, f);
  await sync.start();
  const tick = setInterval(() => { received += 1; }, 300);
  await new Promise((r) => setTimeout(r, 2600));
  t.match(sync.status(), { internalEntries: 3, externalEntries: 5, activeLink: 'int0', peerReachable: true });
  clearInterval(tick);
  await new Promise((r) => setTimeout(r, 5200));
  t.equal(sync.status().peerReachable, false, 'silent peer: unreachable');
  t.match(events.filter((e) => e.type === 'conntrack-sync' && e.kind === 'peer').map((e) => e.type === 'conntrack-sync' && e.ok), [true, false]);
});
