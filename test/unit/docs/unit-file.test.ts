/**
 * examples/haagent.service keeps its contract (Type=notify, exactly the three capabilities, the
 * sandbox the README describes), and the helpers that run it in the namespace test read it
 * faithfully: every property reaches systemd-run, and a property the reproduction does not know
 * is refused rather than silently dropped.
 */
import t from 'tap';
import { join } from 'node:path';
import { packageRoot } from '../../../src/adapters/package-info.js';
import { boundingSet, parseServiceSection, sandboxScript, systemdRunArgs } from '../../helpers/unit-sandbox.js';

const props = parseServiceSection(join(packageRoot(), 'examples', 'haagent.service'));
const one = (k: string): string | undefined => props.get(k)?.at(-1);

t.test('the unit file: notify, capabilities, sandbox', (t) => {
  t.equal(one('Type'), 'notify');
  t.equal(one('NotifyAccess'), 'main');
  t.same(one('CapabilityBoundingSet')?.split(' ').sort(), ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']);
  t.equal(boundingSet(props), '-all,+net_admin,+net_raw,+net_bind_service');
  for (const [k, v] of Object.entries({
    NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes',
    ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes', ProtectKernelLogs: 'yes', ProtectControlGroups: 'yes',
    Delegate: 'yes', RestrictNamespaces: 'yes', LockPersonality: 'yes', RestrictSUIDSGID: 'yes', UMask: '0077',
    SystemCallArchitectures: 'native', SystemCallErrorNumber: 'EPERM', RuntimeDirectoryMode: '0700', StateDirectoryMode: '0700',
  })) t.equal(one(k), v, k);
  t.match(one('SystemCallFilter'), /@system-service/);
  t.same(one('RestrictAddressFamilies')?.split(' ').sort(), ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET', 'AF_UNIX']);
  const rw = (props.get('ReadWritePaths') ?? []).flatMap((v) => v.split(' '));
  for (const p of ['/run/haagent', '/var/lib/haagent', '-/proc/sys/net/ipv4/conf', '-/sys/fs/cgroup/system.slice/haagent.service']) t.ok(rw.includes(p), `ReadWritePaths ${p}`);
  t.notOk(props.has('MemoryDenyWriteExecute'), 'no MemoryDenyWriteExecute (Node JIT)');
  t.end();
});

t.test('systemd-run arguments: every property, per-test directory and cgroup names', (t) => {
  const args = systemdRunArgs(props, { unit: 'hasvc-1-ok', runtime: 'hasvc-1-ok', state: 'hasvc-1-ok', netns: 'ns1' });
  const given = args.filter((a, i) => args[i - 1] === '-p');
  t.ok(given.includes('NetworkNamespacePath=/run/netns/ns1'));
  t.ok(given.includes('RuntimeDirectory=hasvc-1-ok') && given.includes('StateDirectory=hasvc-1-ok'));
  t.ok(given.includes('ReadWritePaths=/run/hasvc-1-ok /var/lib/hasvc-1-ok'), 'runtime and state paths mapped');
  t.ok(given.includes('ReadWritePaths=-/sys/fs/cgroup/system.slice/hasvc-1-ok.service'), 'the transient unit\'s own cgroup');
  t.notOk(given.some((g) => g.includes('/run/haagent') || g.includes('/var/lib/haagent')), 'never the real directories');
  for (const k of props.keys()) {
    if (['ExecStart', 'ExecReload', 'Restart', 'RestartSec'].includes(k)) continue;
    t.ok(given.some((g) => g.startsWith(`${k}=`)), `${k} passed on`);
  }
  t.end();
});

t.test('the sandbox reproduction refuses what it does not know', (t) => {
  const dirs = { runtimeDir: '/run/x', stateDir: '/var/lib/x', cgroupDir: '/sys/fs/cgroup/x' };
  t.match(sandboxScript(props, dirs), /exec setpriv --nnp --inh-caps -all --bounding-set -all,\+net_admin,\+net_raw,\+net_bind_service -- "\$@"$/);
  t.throws(() => sandboxScript(new Map([...props, ['ProtectProc', ['invisible']]]), dirs), /ProtectProc is neither reproduced nor listed/);
  t.throws(() => sandboxScript(new Map([...props, ['ReadWritePaths', ['/etc/nginx']]]), dirs), /no mapping/);
  t.end();
});
