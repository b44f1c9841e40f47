/**
 * Errors of the rtnetlink adapter. Every failure leaves the adapter as a
 * `NetlinkError` (code HA_ERR_NETLINK) whose message names the interface and address,
 * with the kernel's errno kept visible as `errno` (positive) and `errnoCode` ('EEXIST').
 */
import { getSystemErrorName } from 'node:util';
import { errorMessage, HaagentError } from '../../core/errors.js';

/** A kernel-reported failure: `errno` is positive (EEXIST = 17), `code` its name. */
export class NetlinkErrnoError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall = 'netlink';

  constructor(errno: number, what: string) {
    let code = `E${errno}`;
    try { code = getSystemErrorName(-errno); } catch { /* unknown errno: keep E<n> */ }
    super(`${what}: ${code}`);
    this.name = 'NetlinkErrnoError';
    this.errno = errno;
    this.code = code;
  }
}

export class NetlinkError extends HaagentError {
  /** positive errno reported by the kernel, when the failure came from it */
  readonly errno: number | undefined;
  /** errno name ('EEXIST', 'ENODEV', ...), when known */
  readonly errnoCode: string | undefined;

  constructor(message: string, cause: unknown) {
    const errnoCode = errnoCodeOf(cause);
    const detail = errnoCode ?? errorMessage(cause);
    super('HA_ERR_NETLINK', `${message}: ${detail}`, { cause });
    this.name = 'NetlinkError';
    this.errnoCode = errnoCode;
    this.errno = errnoOf(cause);
  }
}

function walk(err: unknown, pick: (e: Error) => unknown): unknown {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const v = pick(e);
    if (v !== undefined) return v;
    e = e.cause;
  }
  return undefined;
}

/** errno name of a failure ('ENODEV'), looking through `cause` chains. */
export function errnoCodeOf(err: unknown): string | undefined {
  const v = walk(err, (e) => {
    const c = (e as { errnoCode?: unknown; code?: unknown }).errnoCode ?? (e as { code?: unknown }).code;
    return typeof c === 'string' && /^E[A-Z0-9]+$/.test(c) ? c : undefined;
  });
  return typeof v === 'string' ? v : undefined;
}

function errnoOf(err: unknown): number | undefined {
  const v = walk(err, (e) => {
    const n = (e as { errno?: unknown }).errno;
    return typeof n === 'number' ? Math.abs(n) : undefined;
  });
  return typeof v === 'number' ? v : undefined;
}
