/**
 * diffConfigs (src/daemon/reload-plan.ts): which instances a reload leaves alone, updates in
 * place (VIP list and/or virtual services only), restarts, adds or removes. Configs come from
 * the real YAML parser, so every field the agent compares is present.
 */
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import { diffConfigs } from '../../../src/daemon/reload-plan.js';

function instances(yaml: string): readonly InstanceConfig[] {
  const r = parseConfigYaml(`instances:\n${yaml}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config.instances;
}

const svc = (port: number, server: string): string =>
  `    virtual-services: [{ port: ${port}, real-servers: [{ address: ${server}, check: { type: tcp } }] }]\n`;
const inst = (name: string, vrid: number, extra = '', vips = '[10.0.0.100/24]'): string =>
  `  - name: ${name}\n    vrid: ${vrid}\n    interface: eth0\n    vips: ${vips}\n${extra}`;

t.test('identical configs: everything unchanged', async (t) => {
  const a = instances(inst('a', 1, svc(80, '10.0.0.11')) + inst('b', 2, '', '[10.0.0.101/24]'));
  const plan = diffConfigs(a, instances(inst('a', 1, svc(80, '10.0.0.11')) + inst('b', 2, '', '[10.0.0.101/24]')));
  t.same(plan, { unchanged: ['a', 'b'], inPlace: [], restart: [], added: [], removed: [], stop: [], start: [] });
});

t.test('VIPs and/or virtual services only: updated in place, not restarted', async (t) => {
  const before = instances(inst('vips', 1) + inst('svcs', 2, svc(80, '10.0.0.11'), '[10.0.0.101/24]') + inst('both', 3, svc(80, '10.0.0.11'), '[10.0.0.102/24]'));
  const after = instances(
    inst('vips', 1, '', '[10.0.0.100/24, 10.0.0.110/24]')
    + inst('svcs', 2, svc(80, '10.0.0.12') + '', '[10.0.0.101/24]')
    + inst('both', 3, svc(81, '10.0.0.11'), '[10.0.0.102/24, 10.0.0.112/24]'),
  );
  const plan = diffConfigs(before, after);
  t.same(plan.inPlace.map((i) => i.name), ['vips', 'svcs', 'both']);
  t.same(plan.restart, []);
  t.same(plan.stop, []);
  t.same(plan.start, []);
  t.equal(plan.inPlace[1]?.virtualServices[0]?.realServers[0]?.address, '10.0.0.12', 'the new settings are carried');
});

t.test('services removed altogether, or added to an instance without any: in place too', async (t) => {
  const plan = diffConfigs(instances(inst('a', 1, svc(80, '10.0.0.11')) + inst('b', 2)), instances(inst('a', 1) + inst('b', 2, svc(80, '10.0.0.11'))));
  t.same(plan.inPlace.map((i) => i.name), ['a', 'b']);
  t.same(plan.restart, []);
});

t.test('any other change restarts the instance (even with the services changed too); added and removed', async (t) => {
  const plan = diffConfigs(
    instances(inst('a', 1, svc(80, '10.0.0.11')) + inst('gone', 2, '', '[10.0.0.101/24]')),
    instances(inst('a', 1, `    priority: 200\n${svc(81, '10.0.0.11')}`) + inst('new', 3, '', '[10.0.0.103/24]')),
  );
  t.same(plan.restart, ['a']);
  t.same(plan.inPlace, []);
  t.same(plan.added, ['new']);
  t.same(plan.removed, ['gone']);
  t.same(plan.stop, ['a', 'gone'], 'restarted then removed, stopped in that order');
  t.same(plan.start.map((i) => i.name), ['a', 'new']);
});

t.test('authentication alone (HMAC mode sweep, key rotation, password): updated in place', async (t) => {
  const k = (mode: string, active = 1): string => `    auth: { type: hmac, keys: { 1: "hex:${'11'.repeat(32)}", 2: "hex:${'22'.repeat(32)}" }, active-key: ${active}, mode: ${mode} }\n`;
  const before = instances(inst('sweep', 1, k('receive-only')) + inst('rotate', 2, k('enforce'), '[10.0.0.101/24]'));
  const plan = diffConfigs(before, instances(inst('sweep', 1, k('permissive')) + inst('rotate', 2, k('enforce', 2), '[10.0.0.101/24]')));
  t.same(plan.inPlace.map((i) => i.name), ['sweep', 'rotate']);
  t.same(plan.restart, []);
  t.match(plan.inPlace[1]?.auth, { type: 'hmac', activeKey: 2 }, 'the new settings are carried');
  const other = diffConfigs(before, instances(inst('sweep', 1, k('permissive') + '    priority: 120\n') + inst('rotate', 2, k('enforce'), '[10.0.0.101/24]')));
  t.same(other.restart, ['sweep'], 'with another change too: restarted as before');
});
