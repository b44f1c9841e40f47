/**
 * systemd readiness/status notification (sd_notify(3), Type=notify units) through the native
 * addon (native/sd_notify.c), without libsystemd.
 *
 * Contract: `notifySystemd(state)` sends `state` as one datagram to $NOTIFY_SOCKET, read at each
 * call (an absolute path, or '@name' for the abstract namespace). `state` is newline-separated
 * assignments, e.g. 'READY=1', 'STOPPING=1', 'STATUS=2 instances, 1 MASTER',
 * `RELOADING=1\nMONOTONIC_USEC=${...}`; it is sent as is, not validated. Returns false and does
 * nothing when NOTIFY_SOCKET is unset or empty (not started by systemd with Type=notify), true
 * once the datagram is sent. It does not unset NOTIFY_SOCKET (hooks and exec checks never get
 * it, see child-env.ts; systemd would ignore them under NotifyAccess=main) and never blocks: a
 * full receiver queue is an error. Every failure (addon missing, bad NOTIFY_SOCKET, ENOENT,
 * ECONNREFUSED, EAGAIN...) is a `HaagentError('HA_ERR_CONTROL')` with the native error (`code`,
 * `errno`, `syscall`) as `cause`; callers usually log it and carry on.
 */
import { HaagentError } from '../core/errors.js';
import { loadBinding } from './packet-socket.js';

/** The addon's export, as documented in native/sd_notify.c. */
interface SdNotifyBinding {
  sdNotify(socketPath: string, message: string): number;
}

/** "ENOENT: ..." from a native error, for messages. */
function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.startsWith(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

function binding(): SdNotifyBinding {
  let native: unknown;
  try {
    native = loadBinding();
  } catch (cause) {
    throw new HaagentError('HA_ERR_CONTROL', `cannot notify systemd: ${describe(cause)}`, { cause });
  }
  if (typeof (native as Partial<SdNotifyBinding>).sdNotify !== 'function') {
    throw new HaagentError(
      'HA_ERR_CONTROL',
      'cannot notify systemd: the native addon has no sdNotify (rebuild it: `npx node-gyp rebuild -C native`)',
    );
  }
  return native as SdNotifyBinding;
}

/** Sends `state` to the service manager; false when not running under a Type=notify unit. */
export function notifySystemd(state: string): boolean {
  const socketPath = process.env['NOTIFY_SOCKET'];
  if (socketPath === undefined || socketPath === '') return false;
  const native = binding();
  try {
    native.sdNotify(socketPath, state);
  } catch (cause) {
    const first = state.split('\n', 1)[0] ?? '';
    throw new HaagentError('HA_ERR_CONTROL', `cannot notify systemd (${first}) via ${socketPath}: ${describe(cause)}`, { cause });
  }
  return true;
}
