/**
 * One base error class with stable machine codes (modelled on undici's lib/core/errors.js).
 * Never throw strings; wrap causes with `{ cause }`.
 */
/**
 * Every code, stable: scripts and the control protocol may rely on them (only ever added).
 * HA_ERR_STATE: a state file (fencing epoch) could not be read or written. HA_ERR_INSECURE: a
 * directory or file we would trust is not private to root. HA_ERR_LIMIT: an input is over a
 * documented bound (size, depth, count). HA_ERR_ALERT: an alert could not be delivered.
 * HA_ERR_ETCD: no etcd endpoint answered a call (or none answered it sensibly).
 * HA_ERR_SCHED: real-time scheduling or memory locking could not be applied.
 * HA_ERR_LOAD: a part of the agent loaded at its first use (load balancer, alerts, etcd client,
 * metrics) could not be loaded.
 */
export const HAAGENT_ERROR_CODES = [
  'HA_ERR_CONFIG', 'HA_ERR_INVALID_ARGUMENT', 'HA_ERR_ENCODE', 'HA_ERR_SOCKET', 'HA_ERR_NETLINK',
  'HA_ERR_ANNOUNCE', 'HA_ERR_CONTROL', 'HA_ERR_NO_AGENT', 'HA_ERR_LAB', 'HA_ERR_HOOK', 'HA_ERR_STATE',
  'HA_ERR_INSECURE', 'HA_ERR_LIMIT', 'HA_ERR_ALERT', 'HA_ERR_INTERNAL', 'HA_ERR_ETCD',
  'HA_ERR_SCHED', 'HA_ERR_LOAD',
] as const;

export type HaagentErrorCode = (typeof HAAGENT_ERROR_CODES)[number];

/** Whether `code` (e.g. read from the control socket) is one of ours. */
export function isHaagentErrorCode(code: unknown): code is HaagentErrorCode {
  return typeof code === 'string' && (HAAGENT_ERROR_CODES as readonly string[]).includes(code);
}

export class HaagentError extends Error {
  readonly code: HaagentErrorCode;

  constructor(code: HaagentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HaagentError';
    this.code = code;
  }
}

/**
 * The message of a thrown value for a log line or a detail: an Error's `message`, else the value's
 * string form (a thrown string, number, undefined). It does not look at `cause`, `code` or `stack`.
 */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A config problem, located by key path (`instances[0].vrid`) and, where known, file line. */
export class ConfigError extends HaagentError {
  readonly path: string;
  readonly line: number | undefined;

  constructor(path: string, message: string, line?: number) {
    super('HA_ERR_CONFIG', `${path}${line === undefined ? '' : ` (line ${line})`}: ${message}`);
    this.name = 'ConfigError';
    this.path = path;
    this.line = line;
  }
}
