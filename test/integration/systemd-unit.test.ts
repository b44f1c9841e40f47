/**
 * The shipped systemd unit's sandbox does not break the agent: in a lab namespace the agent runs
 * under the properties of examples/haagent.service (parsed from the file, so a change to the unit
 * is tested as it is) and still claims the VIP, serves the proxy-mode load balancer on port 80
 * (needs CAP_NET_BIND_SERVICE) and runs its master hook, which can write where the unit allows
 * and nowhere else.
 *
 * Where systemd is PID 1 and running, the agent runs as a transient unit (`systemd-run` with
 * every [Service] property of the file as -p, NetworkNamespacePath= for the lab namespace).
 * Elsewhere (this machine and CI have no systemd as PID 1) the sandbox is reproduced with
 * `unshare --mount` + `setpriv`: test/helpers/unit-sandbox.ts says exactly which properties are
 * reproduced and which are not (the seccomp-based ones are not).
 */
import t, { type Test } from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../src/adapters/package-info.js';
import { distPath } from '../../src/lab/cluster.js';
import { VIP, VIP_CIDR } from '../../src/lab/topology.js';
import { run } from '../../src/lab/sh.js';
import { requestStatus } from '../../src/daemon/control-server.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, webInstanceYaml } from '../helpers/lab.js';
import { parseServiceSection, sandboxScript, systemdRunArgs, systemdRunning, type SandboxDirs, type UnitProperties } from '../helpers/unit-sandbox.js';

const UNIT = join(packageRoot(), 'examples', 'haagent.service');
const CGROUP2 = '/sys/fs/cgroup/unified';
const cgroupRoot = existsSync('/sys/fs/cgroup/cgroup.procs') ? '/sys/fs/cgroup' : existsSync(`${CGROUP2}/cgroup.procs`) ? CGROUP2 : undefined;

const skip = skipReason({ needsDist: true, needs: ['unshare', 'setpriv', 'nsenter'] })
  ?? (cgroupRoot === undefined ? 'no cgroup v2 hierarchy mounted' : undefined);
if (skip !== undefined) {
  t.plan(0, `systemd unit sandbox test skipped: ${skip}`);
} else {
  const { topo, h1, h2 } = labSuite(t, 'hasvc');
  const props = parseServiceSection(UNIT);
  const quiet = (cmd: string, args: readonly string[]): string | undefined => {
    try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { return undefined; }
  };
  const viaSystemd = systemdRunning(quiet);
  t.comment(viaSystemd ? 'running the agent as a transient systemd unit' : 'no systemd as PID 1: the unit sandbox is reproduced with unshare + setpriv');
  /** The unit's properties with other capabilities (the negative case). */
  const withCaps = (caps: readonly string[] | undefined): UnitProperties => caps === undefined ? props
    : new Map([...props].map(([k, v]) => [k, k === 'CapabilityBoundingSet' || k === 'AmbientCapabilities' ? [caps.join(' ')] : v]));
  const tag = `hasvc-${process.pid}`;
  const children = new Set<ChildProcess>();
  t.teardown(() => { for (const c of children) c.kill('SIGKILL'); });

  const inNs = (ns: string, argv: readonly string[]): ChildProcess => {
    const c = spawn('nsenter', [`--net=/run/netns/${ns}`, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(c);
    c.once('exit', () => children.delete(c));
    return c;
  };
  const spread = async (n: number): Promise<Record<string, number>> =>
    JSON.parse(await run('nsenter', [`--net=/run/netns/${topo.client}`, '--', process.execPath, distPath('lab', 'spread.js'), `http://${VIP}:80/`, String(n)], 60_000)) as Record<string, number>;
  const waitFor = async (pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      try { if (await pred()) return true; } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };

  /**
   * One sandboxed agent on h1 (MASTER alone) with a proxy-mode service on VIP:80 over both hosts'
   * web servers on :8080 and a master hook that probes its sandbox. `boundingSet` overrides the
   * unit's capabilities (the negative case).
   */
  async function withSandboxedAgent(t: Test, name: string, caps: readonly string[] | undefined,
    fn: (a: { dirs: SandboxDirs; socket: string; logs: string[] }) => Promise<void>): Promise<void> {
    const unit = `${tag}-${name}`;
    const dirs: SandboxDirs = { runtimeDir: `/run/${unit}`, stateDir: `/var/lib/${unit}`,
      cgroupDir: viaSystemd ? `${cgroupRoot}/system.slice/${unit}.service` : `${cgroupRoot}/${unit}`, installDir: packageRoot() };
    const confDir = `/run/${tag}-${name}-conf`;
    if (!viaSystemd) mkdirSync(dirs.cgroupDir);
    mkdirSync(confDir, { mode: 0o700 });
    const socket = join(dirs.runtimeDir, 'haagent.sock');
    // The hook records what it saw: its state, its capability bounding set, its umask, whether
    // /etc is writable, and whether it can make a cgroup under the agent's (delegated) cgroup.
    const probe = [
      'set -u', 'out="$0"',
      'echo "$HAAGENT_STATE" > "$out/hook-state"',
      'grep CapBnd /proc/self/status | cut -f2 > "$out/hook-capbnd"',
      'umask > "$out/hook-umask"',
      `if touch /etc/${tag}-probe 2>/dev/null; then rm -f /etc/${tag}-probe; echo writable; else echo read-only; fi > "$out/hook-etc"`,
      `cg=${cgroupRoot}$(sed -n 's/^0:://p' /proc/self/cgroup)`,
      'if mkdir "$cg/hook-probe" 2>/dev/null; then rmdir "$cg/hook-probe"; echo writable; else echo read-only; fi > "$out/hook-cgroup"',
      `if mkdir ${cgroupRoot}/${tag}-outside 2>/dev/null; then rmdir ${cgroupRoot}/${tag}-outside; echo writable; else echo read-only; fi > "$out/hook-cgroup-root"`,
    ].join('; ');
    const rs = (address: string): string => `{ address: "${address}", port: 8080, check: { type: tcp, interval: 200ms, timeout: 100ms, rise: 1, fall: 1 } }`;
    writeFileSync(join(confDir, 'haagent.yaml'), webInstanceYaml({
      socket, priority: 150, head: [`state-dir: ${dirs.stateDir}`],
      more: [
        '    hooks:',
        `      master: ["/bin/sh", "-c", ${JSON.stringify(probe)}, "${dirs.stateDir}"]`,
        '    virtual-services:',
        '      - port: 80',
        '        mode: proxy',
        `        real-servers: [${rs(h1.intAddress)}, ${rs(h2.intAddress)}]`,
      ],
    }));
    const agentArgv = [process.execPath, distPath('cli', 'main.js'), 'start', '--config', join(confDir, 'haagent.yaml')];
    const logs: string[] = [];
    let stop: () => Promise<void>;
    if (viaSystemd) {
      // Type=notify: systemd-run returns once the agent sent READY=1.
      await run('systemd-run', [...systemdRunArgs(withCaps(caps), { unit, runtime: unit, state: unit, netns: h1.ns }), '--', ...agentArgv], 30_000);
      stop = async () => {
        await run('systemctl', ['stop', `${unit}.service`], 30_000).catch(() => undefined);
        await run('systemctl', ['reset-failed', `${unit}.service`]).catch(() => undefined);
      };
    } else {
      const agent = inNs(h1.ns, ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', sandboxScript(withCaps(caps), dirs), 'sh', ...agentArgv]);
      createInterface({ input: agent.stdout as NodeJS.ReadableStream }).on('line', (l) => logs.push(l));
      agent.stderr?.setEncoding('utf8').on('data', (d: string) => logs.push(d));
      const exited = new Promise<void>((resolve) => agent.once('exit', () => resolve()));
      stop = async () => {
        agent.kill('SIGTERM');
        const killer = setTimeout(() => agent.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
      };
    }
    try {
      await fn({ dirs, socket, logs });
    } finally {
      await stop();
      await run('ip', ['-n', h1.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0']).catch(() => undefined);
      for (const d of [dirs.runtimeDir, dirs.stateDir, confDir]) rmSync(d, { recursive: true, force: true });
      if (!viaSystemd) {
        try { rmdirSync(dirs.cgroupDir); } catch (err) { t.fail(`cgroup ${dirs.cgroupDir} left behind: ${String(err)}`); }
      }
    }
  }

  t.test('under the unit sandbox: VIP claimed, proxy on :80 balancing, the hook ran where the unit allows', async (t) => {
    const webs = topo.hosts.map((h) => inNs(h.ns, [process.execPath, distPath('lab', 'web-server.js'), h.name, '8080']));
    t.teardown(() => { for (const w of webs) w.kill('SIGKILL'); });
    await withSandboxedAgent(t, 'ok', undefined, async ({ dirs, socket, logs }) => {
      const master = await waitFor(async () => (await requestStatus(socket, 1000)).instances[0]?.state === 'MASTER', 15_000);
      t.ok(master, 'the sandboxed agent is MASTER', { logs: logs.slice(-20) });
      const addrs = await run('ip', ['-n', h1.ns, '-o', 'addr', 'show', 'dev', 'ext0']);
      t.match(addrs, VIP_CIDR, 'the VIP is on ext0');
      t.ok(await waitFor(async () => { const s = await spread(20); return (s['h1'] ?? 0) > 0 && (s['h2'] ?? 0) > 0; }, 10_000),
        `the proxy on ${VIP}:80 answers from both web servers`, { logs: logs.slice(-20) });
      const split = await spread(100);
      t.equal(split['failed'] ?? 0, 0, 'no failed request through the proxy', { split });
      const svc = (await requestStatus(socket, 1000)).instances[0]?.services?.[0];
      t.equal(svc?.error, undefined, 'the :80 service listens', { svc });

      t.ok(await waitFor(async () => existsSync(join(dirs.stateDir, 'hook-cgroup-root')), 10_000), 'the master hook ran and wrote into the state directory', { logs: logs.slice(-20) });
      const read = (f: string): string => readFileSync(join(dirs.stateDir, f), 'utf8').trim();
      t.equal(read('hook-state'), 'MASTER');
      // CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13), nothing else.
      t.equal(read('hook-capbnd'), (2 ** 10 + 2 ** 12 + 2 ** 13).toString(16).padStart(16, '0'), 'the hook inherits the bounding set');
      t.equal(read('hook-umask'), '0077', 'UMask=0077');
      t.equal(read('hook-etc'), 'read-only', 'ProtectSystem=strict: /etc is read-only for hooks');
      t.equal(read('hook-cgroup'), 'writable', 'Delegate=yes: the service\'s own cgroup is writable (hook containment can make leaves)');
      t.equal(read('hook-cgroup-root'), 'read-only', 'ProtectControlGroups=yes: the rest of the hierarchy is not');
    });
  });

  t.test('negative control: the same sandbox without CAP_NET_BIND_SERVICE cannot listen on :80', async (t) => {
    const webs = topo.hosts.map((h) => inNs(h.ns, [process.execPath, distPath('lab', 'web-server.js'), h.name, '8080']));
    t.teardown(() => { for (const w of webs) w.kill('SIGKILL'); });
    await withSandboxedAgent(t, 'nobind', ['CAP_NET_ADMIN', 'CAP_NET_RAW'], async ({ socket, logs }) => {
      t.ok(await waitFor(async () => (await requestStatus(socket, 1000)).instances[0]?.state === 'MASTER', 15_000), 'MASTER without it', { logs: logs.slice(-20) });
      t.ok(await waitFor(async () => /EACCES|permission denied/i.test((await requestStatus(socket, 1000)).instances[0]?.services?.[0]?.error ?? ''), 10_000),
        'the :80 service reports that it may not listen', { logs: logs.slice(-20) });
    });
  });
}
