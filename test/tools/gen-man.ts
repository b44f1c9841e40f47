/**
 * `npm run man`: writes docs/man/haagent.8 and docs/man/haagent.yaml.5 (see man-pages.ts).
 * Needs the built CLI (the npm script builds first).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, packageVersion } from '../../src/adapters/package-info.js';
import { haagent8, haagentYaml5 } from './man-pages.js';

const dir = join(packageRoot(), 'docs', 'man');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'haagent.8'), haagent8(packageVersion()));
writeFileSync(join(dir, 'haagent.yaml.5'), haagentYaml5(packageVersion()));
process.stdout.write(`wrote ${join(dir, 'haagent.8')} and ${join(dir, 'haagent.yaml.5')}\n`);
