/**
 * The polled checkers by type. `interface` checks are not polled: see ./interface.ts. The http
 * checker is loaded at the first http check: it brings Node's http and https (TLS) modules,
 * which an agent without http checks never needs.
 */
import type { CheckConfig } from '../../core/config/types.js';
import type { CheckResult } from './common.js';
import { run as runExec, type ExecOptions } from './exec.js';
import { run as runFile } from './file.js';
import { run as runTcp } from './tcp.js';
import { lazyImport } from '../lazy-import.js';
import { errorMessage } from '../../core/errors.js';

export type { CheckResult } from './common.js';
export type PolledCheck = Exclude<CheckConfig, { type: 'interface' }>;

export function isPolled(check: CheckConfig): check is PolledCheck {
  return check.type !== 'interface';
}

export type { ExecOptions } from './exec.js';

/** The http checker, imported once; a failed import is tried again at the next check. */
const httpChecker = lazyImport('http checker', () => import('./http.js'));

/** Runs one polled check; never rejects. `exec` is for exec checks (environment, containment). */
export function runCheck(check: PolledCheck, signal: AbortSignal, exec: ExecOptions = {}): Promise<CheckResult> {
  switch (check.type) {
    case 'http': return httpChecker.get().then((m) => m.run(check, signal), (err: unknown) => ({
      ok: false, latencyMs: 0, detail: errorMessage(err),
    }));
    case 'tcp': return runTcp(check, signal);
    case 'exec': return runExec(check, signal, exec);
    case 'file': return runFile(check, signal);
  }
}
