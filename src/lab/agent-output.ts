/**
 * What a lab agent prints, kept for the lab's reports: its JSON log lines (a line that is not
 * JSON is kept as `{ msg }`), and its stderr appended as one `{ stderr }` entry when it exits.
 * Deliberately not bounded: a lab agent lives for one demo or test run.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface AgentOutput {
  /** Parsed JSON log lines, in order (a line that is not JSON as `{ msg }`). */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

export function collectAgentOutput(child: ChildProcess): AgentOutput {
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  if (child.stdout !== null) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try { logs.push(JSON.parse(line) as Record<string, unknown>); } catch { logs.push({ msg: line }); }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    if (stderr !== '') logs.push({ stderr });
    resolve(code);
  }));
  return { logs, exited };
}
