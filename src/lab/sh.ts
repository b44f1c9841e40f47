/** Runs a command from an argument vector (never a shell) and returns stdout; throws HA_ERR_LAB with stderr. */
import { execFile } from 'node:child_process';
import { HaagentError } from '../core/errors.js';

export function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new HaagentError('HA_ERR_LAB', `${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

export const ip = (...args: string[]): Promise<string> => run('ip', args);
