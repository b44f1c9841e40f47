/** The polled checkers by type. `interface` checks are not polled: see ./interface.ts. */
import type { CheckConfig } from '../../core/config/types.js';
import type { CheckResult } from './common.js';
import { run as runExec, type ExecOptions } from './exec.js';
import { run as runFile } from './file.js';
import { run as runHttp } from './http.js';
import { run as runTcp } from './tcp.js';

export type { CheckResult } from './common.js';
export type PolledCheck = Exclude<CheckConfig, { type: 'interface' }>;

export function isPolled(check: CheckConfig): check is PolledCheck {
  return check.type !== 'interface';
}

export type { ExecOptions } from './exec.js';

/** Runs one polled check; never rejects. `exec` is for exec checks (environment, containment). */
export function runCheck(check: PolledCheck, signal: AbortSignal, exec: ExecOptions = {}): Promise<CheckResult> {
  switch (check.type) {
    case 'http': return runHttp(check, signal);
    case 'tcp': return runTcp(check, signal);
    case 'exec': return runExec(check, signal, exec);
    case 'file': return runFile(check, signal);
  }
}
