import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { activeActiveConfigs, pairConfigs, writeActiveActive } from '../../../src/cli/init.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { packageRoot } from '../../../src/adapters/package-info.js';

const opts = { interface: 'eth1', external: 'eth0', vips: ['192.0.2.10/24', '192.0.2.11/24'], vrid: 51, advertInterval: '1s', vrrpVersion: 3 as const };

t.test('active-active: opposite priorities, preempt on, valid on both hosts', (t) => {
  const { a, b } = activeActiveConfigs(opts);
  const ra = parseConfigYaml(a);
  const rb = parseConfigYaml(b);
  if (!ra.ok || !rb.ok) throw new Error('generated configs must validate');
  t.match(ra.config.instances, [{ name: 'vip1', vrid: 51, priority: 150, preempt: true, vips: [{ cidr: '192.0.2.10/24' }] }, { name: 'vip2', vrid: 52, priority: 100, preempt: true, vips: [{ cidr: '192.0.2.11/24' }] }]);
  t.match(rb.config.instances, [{ name: 'vip1', vrid: 51, priority: 100 }, { name: 'vip2', vrid: 52, priority: 150 }]);
  t.end();
});

t.test('the committed examples are what the command writes', (t) => {
  const { a, b } = activeActiveConfigs(opts);
  t.equal(readFileSync(join(packageRoot(), 'examples', 'active-active', 'host-a.yaml'), 'utf8'), a);
  t.equal(readFileSync(join(packageRoot(), 'examples', 'active-active', 'host-b.yaml'), 'utf8'), b);
  t.end();
});

t.test('bad input is refused with the reason; existing files are kept without --force', (t) => {
  t.throws(() => activeActiveConfigs({ ...opts, vips: ['192.0.2.10/24'] }), { code: 'HA_ERR_INVALID_ARGUMENT', message: /exactly two --vip/ });
  t.throws(() => activeActiveConfigs({ ...opts, vrid: 255 }), { message: /--vrid must be 1\.\.254/ });
  t.throws(() => activeActiveConfigs({ ...opts, vips: ['192.0.2.10/24', 'nonsense'] }), { code: 'HA_ERR_CONFIG', message: /instances\[1\]\.vips\[0\]/ });
  const dir = t.testdir({ 'host-a.yaml': 'mine' });
  t.throws(() => writeActiveActive(opts, dir, false), { message: /already exist; pass --force/ });
  t.equal(readFileSync(join(dir, 'host-a.yaml'), 'utf8'), 'mine', 'untouched');
  t.same(writeActiveActive(opts, dir, true), [join(dir, 'host-a.yaml'), join(dir, 'host-b.yaml')]);
  t.end();
});

t.test('the default pair: host A preferred, no preemption, an http check on the local web server, valid on both hosts', (t) => {
  const { a, b } = pairConfigs({ ...opts, vips: ['192.0.2.10/24'] });
  const ra = parseConfigYaml(a);
  const rb = parseConfigYaml(b);
  if (!ra.ok || !rb.ok) throw new Error('generated pair invalid');
  const [ia, ib] = [ra.config.instances[0], rb.config.instances[0]];
  t.match(ia, { vrid: 51, priority: 150, preempt: false, vips: [{ cidr: '192.0.2.10/24' }], interface: 'eth1', external: 'eth0', checks: [{ type: 'http', url: 'http://127.0.0.1/' }] });
  t.match(ib, { vrid: 51, priority: 100, preempt: false, vips: [{ cidr: '192.0.2.10/24' }] });
  t.throws(() => pairConfigs({ ...opts, vips: [] }), { code: 'HA_ERR_INVALID_ARGUMENT', message: /at least one --vip/ });
  t.throws(() => pairConfigs({ ...opts, vips: ['nonsense'] }), { code: 'HA_ERR_CONFIG', message: /instances\[0\]\.vips\[0\]/ });
  t.end();
});
