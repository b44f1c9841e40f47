/**
 * Root/namespace gate for integration tests: the reason to skip, or undefined when the test
 * can run (root, `ip netns` works, the compiled tree exists).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/adapters/package-info.js';

export function skipReason(opts: { needsDist?: boolean; needs?: readonly string[] } = {}): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, raw sockets); CI runs as root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return '`ip netns` is not available (install iproute2)';
  }
  if (opts.needsDist === true && !existsSync(join(packageRoot(), 'dist', 'src', 'cli', 'main.js'))) {
    return 'dist/ is not built: run `npm run build` (npm test does)';
  }
  for (const cmd of opts.needs ?? []) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
    } catch {
      return `${cmd} is not installed (.ci/run installs it)`;
    }
  }
  return undefined;
}
