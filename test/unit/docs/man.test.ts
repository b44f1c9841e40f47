/**
 * The committed man pages are exactly what `npm run man` generates from the CLI's --help and the
 * config key registry, so they cannot drift; the example in haagent.yaml(5) is a valid config.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot, packageVersion } from '../../../src/adapters/package-info.js';
import { validateConfig } from '../../../src/core/config/validate.js';
import { CONFIG_KEY_GROUPS } from '../../../src/core/config/keys.js';
import { cliCommands, haagent8, haagentYaml5, YAML5_EXAMPLE } from '../../tools/man-pages.js';

const man = (f: string): string => readFileSync(join(packageRoot(), 'docs', 'man', f), 'utf8');

if (!existsSync(join(packageRoot(), 'dist', 'src', 'cli', 'main.js'))) {
  t.plan(0, 'dist/ is not built: run `npm run build` (npm test does)');
} else {
  t.test('docs/man/haagent.8 equals the generator output (run `npm run man` after changing the CLI)', (t) => {
    const page = haagent8(packageVersion());
    t.equal(man('haagent.8'), page);
    for (const c of cliCommands()) t.match(page, `.SS haagent ${c.replace(/-/g, '\\-')}`, `command ${c} documented`);
    t.end();
  });
}

t.test('docs/man/haagent.yaml.5 equals the generator output (run `npm run man` after changing keys.ts)', (t) => {
  const page = haagentYaml5(packageVersion());
  t.equal(man('haagent.yaml.5'), page);
  for (const g of CONFIG_KEY_GROUPS) for (const k of g.keys) t.match(page, `.B ${k.key.replace(/-/g, '\\-')}\n`, `${g.path}.${k.key} documented`);
  t.end();
});

t.test('the example of haagent.yaml(5) is a valid config', (t) => {
  const r = validateConfig(parse(YAML5_EXAMPLE) as unknown);
  t.same(r.ok ? [] : r.errors.map((e) => e.message), []);
  t.end();
});
