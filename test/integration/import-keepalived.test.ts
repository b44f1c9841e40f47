/**
 * An imported keepalived config runs against a real keepalived (2.2.x) running the original:
 * one keepalived.conf per host of a unicast pair (the usual layout: same VRID, VIP and script,
 * each host its own state, priority and peer), h1's converted with `haagent import-keepalived`
 * and run by haagent, h2's run by keepalived. Checked:
 *   1. the conversion: exit 7 (unicast_src_ip and router_id are reported), a valid config with
 *      the peer, the tracked script (weight -60 -> haagent weight 60) and priority 150;
 *   2. election: haagent (150) MASTER with the VIP, keepalived (100) BACKUP, steady;
 *   3. unicast: the adverts on the wire go from peer to peer, none to 224.0.0.18 (when
 *      tcpdump is installed), and keepalived, which listens to unicast only, stays BACKUP;
 *   4. the tracked script fails on h1: haagent drops to 90, keepalived preempts and takes the
 *      VIP, haagent is BACKUP naming keepalived as master (it hears keepalived's unicast);
 *   5. the script recovers: haagent (150 again, preempt on as in keepalived) takes the VIP back.
 * Time bounds are generous liveness limits, never speed claims.
 */
import t from 'tap';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { LabTopology, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { ip } from '../../src/lab/sh.js';
import { packageRoot } from '../../src/adapters/package-info.js';
import { parseConfigYaml } from '../../src/core/config/yaml.js';
import { skipReason } from '../helpers/root.js';

const skip = skipReason({ needsDist: true, needs: ['keepalived'] });
if (skip !== undefined) {
  t.plan(0, `import-keepalived namespace test skipped: ${skip}`);
} else {
  const prefix = `haim${process.pid % 100000}`;
  const topo = new LabTopology(prefix);
  const [h1, h2] = topo.hosts;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const okFile = (h: LabHost): string => join(dir, `${h.name}.ok`);
  const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const hasVip = async (h: LabHost): Promise<boolean> => (await topo.extAddresses(h)).includes(VIP_CIDR);
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].filter((p) => existsSync(p)).slice(0, 1).flatMap((p) => [p, '--pdeathsig', 'KILL']);

  /** One host's keepalived.conf of the pair. */
  const conf = (self: LabHost, peer: LabHost, state: 'MASTER' | 'BACKUP', priority: number): string => `! ${self.name} of a keepalived pair
global_defs {
    router_id ${prefix}-${self.name}
}
vrrp_script chk_app {
    script "/usr/bin/test -e ${okFile(self)}"
    interval 1
    fall 1
    rise 1
    weight -60
}
vrrp_instance VI_1 {
    state ${state}
    interface int0
    virtual_router_id 51
    priority ${priority}
    advert_int 1
    unicast_src_ip ${self.intAddress}
    unicast_peer {
        ${peer.intAddress}
    }
    authentication {
        auth_type PASS
        auth_pass imp0rt
    }
    virtual_ipaddress {
        ${VIP_CIDR} dev ext0
    }
    track_script {
        chk_app
    }
}
`;
  const h1Conf = join(dir, 'h1-keepalived.conf');
  const h2Conf = join(dir, 'h2-keepalived.conf');
  const yamlPath = join(dir, 'h1-haagent.yaml');
  let ka: ChildProcess | undefined;
  const kaLines: string[] = [];
  const kaState = (from = 0): string | undefined => {
    for (let i = kaLines.length - 1; i >= from; i--) {
      const m = /entering (MASTER|BACKUP|FAULT|INIT) STATE/i.exec(kaLines[i] ?? '');
      if (m) return m[1]?.toUpperCase();
    }
    return undefined;
  };
  let agent: RunningAgent | undefined;
  const c = new LabCluster(topo);
  const logs = (): Record<string, unknown> => ({
    haagent: (agent?.logs ?? []).slice(-15).map((l) => JSON.stringify(l)), keepalived: kaLines.slice(-20),
  });

  t.before(async () => { await topo.create(); });
  t.teardown(async () => {
    if (ka !== undefined && ka.exitCode === null && ka.signalCode === null) {
      const gone = new Promise((r) => ka?.once('exit', r));
      ka.kill('SIGTERM');
      await Promise.race([gone, sleep(3000)]);
      if (ka.exitCode === null && ka.signalCode === null) ka.kill('SIGKILL');
    }
    await c.stopAll();
    for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0').catch(() => undefined);
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  t.test('1. h1\'s keepalived.conf converts to a valid config, the unmapped options reported', (t) => {
    writeFileSync(h1Conf, conf(h1, h2, 'MASTER', 150));
    writeFileSync(h2Conf, conf(h2, h1, 'BACKUP', 100));
    const r = spawnSync(process.execPath, [main, 'import-keepalived', h1Conf, '--out', yamlPath], { encoding: 'utf8', timeout: 20_000 });
    t.equal(r.status, 7, r.stderr);
    t.match(r.stderr, `${h1Conf}:18: unicast_src_ip ${h1.intAddress}`);
    t.match(r.stderr, `${h1Conf}:3: router_id`);
    const v = parseConfigYaml(spawnSync('cat', [yamlPath], { encoding: 'utf8' }).stdout);
    t.ok(v.ok, 'the converted file validates');
    if (v.ok) {
      t.match(v.config.instances[0], {
        vrid: 51, role: 'master', priority: 150, interface: 'int0', external: 'ext0', version: 2, preempt: true,
        peers: [h2.intAddress], auth: { type: 'pass', password: 'imp0rt' },
        checks: [{ type: 'exec', command: ['/usr/bin/test', '-e', okFile(h1)], weight: 60, rise: 1, fall: 1 }],
      });
    }
    const other = spawnSync(process.execPath, [main, 'import-keepalived', h2Conf], { encoding: 'utf8', timeout: 20_000 });
    t.equal(other.status, 7, 'h2\'s file converts too');
    t.end();
  });

  t.test('2-5. against keepalived running the original', async (t) => {
    writeFileSync(okFile(h1), '');
    writeFileSync(okFile(h2), '');
    ka = spawn('ip', ['netns', 'exec', h2.ns, ...setpriv, 'keepalived', '-n', '-l', '-G', '-D', '-P', '-R',
      '-f', h2Conf, '-p', join(dir, 'ka.pid'), '-r', join(dir, 'ka.vrrp.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [ka.stdout, ka.stderr]) if (s) createInterface({ input: s }).on('line', (l) => kaLines.push(l));
    agent = c.startAgent(h1, ['-c', yamlPath, '--log-level', 'debug']);
    const a = agent;

    await t.test('2. election: haagent MASTER with the VIP, keepalived BACKUP', async (t) => {
      const ok = await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && kaState() === 'BACKUP' && (await hasVip(h1)) && !(await hasVip(h2)), 20_000, 100);
      t.ok(ok, 'converged', logs());
      const mark = kaLines.length;
      const end = performance.now() + 3000;
      let steady = ok;
      while (steady && performance.now() < end) {
        steady = (await c.stateOf(a)) === 'MASTER' && !(await hasVip(h2));
        await sleep(200);
      }
      t.ok(steady, 'steady for 3 s (> keepalived\'s Master_Down_Interval)', logs());
      t.equal(kaState(mark), undefined, 'keepalived did not change state', logs());
      const s = (await c.status(a)).instances[0];
      t.match(s, { priority: 150, effectivePriority: 150, master: { self: true } });
      t.same(s?.drops, {}, 'haagent dropped nothing', logs());
    });

    await t.test('3. unicast on the wire: peer to peer, nothing to 224.0.0.18', async (t) => {
      const hasTcpdump = spawnSync('sh', ['-c', 'command -v tcpdump'], { stdio: 'ignore' }).status === 0;
      if (!hasTcpdump) {
        t.pass('tcpdump is not installed: keepalived staying BACKUP in unicast mode (it joins no multicast group) is the evidence');
        return;
      }
      const out = await new Promise<string>((resolve) => {
        execFile('ip', ['netns', 'exec', h1.ns, 'timeout', '6', 'tcpdump', '-i', 'int0', '-n', '-l', '-c', '3', 'ip proto 112'],
          { encoding: 'utf8' }, (_err, stdout) => resolve(stdout));
      });
      const lines = out.split('\n').filter((l) => l.includes('VRRP'));
      t.ok(lines.length >= 2, `adverts captured: ${lines.length}`, { out });
      t.ok(lines.every((l) => l.includes(`${h1.intAddress} > ${h2.intAddress}`)), 'every advert goes from h1 to h2 (unicast)', { out });
      t.notOk(out.includes('224.0.0.18'), 'no multicast advert', { out });
    });

    await t.test('4. h1\'s tracked script fails: keepalived takes over, haagent BACKUP names it', async (t) => {
      rmSync(okFile(h1));
      const ok = await c.waitFor(async () => kaState() === 'MASTER' && (await hasVip(h2)) && !(await hasVip(h1))
        && (await c.status(a)).instances[0]?.master?.address === h2.intAddress && (await c.stateOf(a)) === 'BACKUP', 20_000, 100);
      t.ok(ok, 'keepalived MASTER with the VIP, haagent BACKUP hearing it', logs());
      t.match((await c.status(a)).instances[0], { priority: 150, effectivePriority: 90, master: { address: h2.intAddress, priority: 100, self: false } });
    });

    await t.test('5. the script recovers: haagent preempts and takes the VIP back', async (t) => {
      writeFileSync(okFile(h1), '');
      const ok = await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && kaState() === 'BACKUP' && (await hasVip(h1)) && !(await hasVip(h2)), 20_000, 100);
      t.ok(ok, 'haagent MASTER again, keepalived BACKUP', logs());
      t.match((await c.status(a)).instances[0], { effectivePriority: 150 });
    });
  });
}
