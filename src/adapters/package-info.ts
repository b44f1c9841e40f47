/**
 * The package's root and version, read from its package.json. The root is the nearest ancestor
 * directory of this file whose package.json is named "haagent", so it is found from src/adapters/
 * (tests, TS loader) and from dist/src/adapters/ (compiled) alike. An unreadable or malformed
 * package.json on the way is not ours: the walk goes on above it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HaagentError } from '../core/errors.js';

function isHaagentManifest(path: string): boolean {
  if (!existsSync(path)) return false;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown }).name === 'haagent';
  } catch {
    return false;
  }
}

let root: string | undefined;

/** The package root; throws HA_ERR_INTERNAL when no ancestor holds haagent's package.json. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (isHaagentManifest(join(dir, 'package.json'))) return (root = dir);
    if (dirname(dir) === dir) throw new HaagentError('HA_ERR_INTERNAL', `cannot find the haagent package root (package.json named haagent) above ${here}`);
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
