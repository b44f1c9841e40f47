/** TCP connect check: healthy when a connection to host:port is established (then closed at once). */
import { connect, type Socket } from 'node:net';
import type { CheckConfig } from '../../core/config/types.js';
import { abortDetail, errorText, settleOnce, stopwatch, type CheckResult } from './common.js';

export type TcpCheck = Extract<CheckConfig, { type: 'tcp' }>;

/** "127.0.0.1:80", "[::1]:80". */
export function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function run(check: TcpCheck, signal: AbortSignal): Promise<CheckResult> {
  const elapsed = stopwatch();
  const what = `connect ${endpoint(check.host, check.port)}`;
  return settleOnce(signal, (finish, onAbort) => {
    if (signal.aborted) {
      finish({ ok: false, detail: `${what}: ${abortDetail(signal, check.timeoutMs)}`, latencyMs: elapsed() });
      return;
    }
    const socket: Socket = connect({ host: check.host, port: check.port });
    const done = (ok: boolean, reason: string): void => {
      finish({ ok, detail: `${what}: ${reason}`, latencyMs: elapsed() });
      socket.destroy();
    };
    onAbort(() => done(false, abortDetail(signal, check.timeoutMs)));
    socket.once('connect', () => done(true, 'connected'));
    socket.on('error', (err) => done(false, errorText(err)));
  });
}
