/** `owner-ignore-adverts`: the address owner's choice between RFC 9568 §7.1 as published and erratum 8298. */
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const yaml = (extra: string): string => `instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24]\n${extra}`;

t.test('defaults to false; true is accepted with priority 255', async (t) => {
  const d = parseConfigYaml(yaml('    priority: 255\n'));
  t.ok(d.ok && d.config.instances[0]?.ownerIgnoreAdverts === false, 'default: adverts processed (erratum 8298)');
  const on = parseConfigYaml(yaml('    priority: 255\n    owner-ignore-adverts: true\n'));
  t.ok(on.ok && on.config.instances[0]?.ownerIgnoreAdverts === true);
});

t.test('true without priority 255 is an error naming the key and the priority', async (t) => {
  const r = parseConfigYaml(yaml('    priority: 200\n    owner-ignore-adverts: true\n'));
  t.equal(r.ok, false);
  if (!r.ok) t.match(r.errors.map((e) => e.message).join('\n'), /owner-ignore-adverts.*address owner only \(priority 255\); this instance has priority 200/);
  const notBool = parseConfigYaml(yaml('    priority: 255\n    owner-ignore-adverts: sometimes\n'));
  t.equal(notBool.ok, false, 'not a boolean: rejected');
});
