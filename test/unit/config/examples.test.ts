/**
 * Every config in examples/ is valid for this build (what `haagent check-config` runs), so the
 * files operators copy never drift from the parser. Also pins what the load-balancer pair says.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../../src/adapters/package-info.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return e.name.endsWith('.yaml') ? [p] : [];
  });
}

const root = join(packageRoot(), 'examples');
const files = yamlFiles(root);

t.test('the examples are there', async (t) => {
  t.ok(files.length >= 6, `${files.length} example configs: ${files.map((f) => relative(root, f)).join(', ')}`);
});

for (const file of files) {
  t.test(`${relative(root, file)} is valid`, async (t) => {
    const r = parseConfigYaml(readFileSync(file, 'utf8'));
    t.ok(r.ok, r.ok ? 'valid' : r.errors.map((e) => e.message).join('\n'));
  });
}

t.test('load-balancer pair: the same service on both hosts, opposite priorities', async (t) => {
  const [a, b] = ['host-a.yaml', 'host-b.yaml'].map((f) => {
    const r = parseConfigYaml(readFileSync(join(root, 'load-balancer', f), 'utf8'));
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    return r.config.instances[0];
  });
  t.same(a?.virtualServices, b?.virtualServices);
  t.match(a?.virtualServices[0], { vip: '192.0.2.10', port: 80, mode: 'nftables', scheduler: 'round-robin' });
  t.same(a?.virtualServices[0]?.realServers.map((r) => `${r.address}:${r.port} ${r.check?.type ?? '-'}`), ['10.0.0.1:8080 http', '10.0.0.2:8080 http']);
  t.ok((a?.priority ?? 0) > (b?.priority ?? 0), 'host A preferred');
});
