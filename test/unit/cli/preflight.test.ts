import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preflight, realHost, type HostProbe } from '../../../src/cli/preflight.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const yaml = `
instances:
  - name: web
    vrid: 51
    interface: eth1
    external: eth0
    vips: [192.0.2.10/24, 192.0.2.11/24]
    checks:
      - { name: script, type: exec, command: [/usr/local/bin/check-web] }
      - { name: nic, type: interface, interface: bond0 }
    hooks:
      master: [/bin/true]
      backup: [/etc/haagent/notify]
`;

function host(over: Partial<HostProbe>): HostProbe {
  return {
    interfaceExists: (n) => ['eth0', 'eth1', 'lo'].includes(n),
    programProblem: (p) => (p === '/bin/true' ? undefined : p === '/etc/haagent/notify' ? 'is not executable' : 'does not exist'),
    addresses: () => new Map([['192.0.2.11', ['eth3']], ['192.0.2.10', ['eth0']]]),
    hasNft: () => true,
    ...over,
  };
}

t.test('warnings name the key path and what start would hit', async (t) => {
  const r = parseConfigYaml(yaml);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  t.same(preflight(r.config, host({})), [
    'instances[0].checks[0].command: /usr/local/bin/check-web does not exist',
    'instances[0].checks[1].interface: interface "bond0" does not exist on this host (start would refuse)',
    'instances[0].hooks.backup: /etc/haagent/notify is not executable',
    'instances[0].vips[1]: 192.0.2.11 is already configured on eth3 (not on eth0, where the agent puts it)',
  ]);
  t.same(preflight(r.config, host({ interfaceExists: () => false })).filter((w) => /interface "/.test(w)), [
    'instances[0].interface: interface "eth1" does not exist on this host (start would refuse)',
    'instances[0].external: interface "eth0" does not exist on this host (start would refuse)',
    'instances[0].checks[1].interface: interface "bond0" does not exist on this host (start would refuse)',
  ]);
});

t.test('the real host probe', async (t) => {
  t.equal(realHost.interfaceExists('lo'), true);
  t.equal(realHost.interfaceExists('no-such-nic0'), false);
  t.equal(realHost.programProblem(process.execPath), undefined);
  t.equal(realHost.programProblem('/no/such/program'), 'does not exist');
  t.equal(realHost.programProblem('/etc'), 'is not a regular file');
  const dir = mkdtempSync(join(tmpdir(), 'haagent-preflight-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'plain'), '#!/bin/sh\n', { mode: 0o644 });
  t.equal(realHost.programProblem(join(dir, 'plain')), 'is not executable');
  t.ok(realHost.addresses().has('127.0.0.1'), 'loopback is listed');
});
