/**
 * Where alerts go: an HTTP(S) webhook (POST of a JSON body), a remote syslog collector (one RFC
 * 5424 datagram over UDP), or this host's syslog through logger(1), which writes to /dev/log
 * (journald or rsyslog read it); Node has no unix datagram sockets, and logger is part of every
 * Debian system (bsdutils).
 *
 * Contract: each function settles within its timeout, never throws synchronously, and rejects with
 * HaagentError('HA_ERR_ALERT') naming the target (a webhook by its origin only: its path may hold
 * a token). Nothing here retries or rate-limits: the alerter does.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { errorMessage, HaagentError } from '../core/errors.js';
import { webhookOrigin } from '../core/config/alerts.js';
import { ipFamily } from '../core/packet/ip.js';

export interface AlertSinks {
  webhook(url: string, body: string, timeoutMs: number): Promise<void>;
  syslogUdp(host: string, port: number, line: string): Promise<void>;
  syslogLocal(priority: string, message: string): Promise<void>;
}

const fail = (what: string, why: string, cause?: unknown): HaagentError => new HaagentError('HA_ERR_ALERT', `alert to ${what} failed: ${why}`, cause === undefined ? undefined : { cause });

async function webhook(url: string, body: string, timeoutMs: number): Promise<void> {
  const what = `webhook ${webhookOrigin(url)}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (cause) {
    throw fail(what, cause instanceof Error && cause.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : errorMessage(cause), cause);
  }
  await res.body?.cancel().catch(() => undefined);
  if (!res.ok) throw fail(what, `HTTP ${res.status}`);
}

function syslogUdp(host: string, port: number, line: string): Promise<void> {
  const what = `syslog udp ${ipFamily(host) === 6 ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    let sock;
    try {
      sock = createSocket(ipFamily(host) === 6 ? 'udp6' : 'udp4');
    } catch (cause) {
      reject(fail(what, String(cause), cause));
      return;
    }
    const s = sock;
    s.once('error', (cause) => { s.close(); reject(fail(what, cause.message, cause)); });
    // RFC 5426: one message per datagram; keep it under a common MTU.
    s.send(Buffer.from(line.slice(0, 1400)), port, host, (err) => {
      s.close();
      if (err) reject(fail(what, err.message, err));
      else resolve();
    });
  });
}

const LOGGER_TIMEOUT_MS = 5000;

function syslogLocal(priority: string, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('logger', ['-p', priority, '-t', 'haagent', '--', message], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/usr/bin:/bin' }, timeout: LOGGER_TIMEOUT_MS,
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => { if (err.length < 500) err += c; });
    child.once('error', (cause) => reject(fail('local syslog (logger)', cause.message, cause)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(fail('local syslog (logger)', `${signal === null ? `exit ${String(code)}` : `killed (${signal})`}${err === '' ? '' : `: ${err.trim()}`}`));
    });
  });
}

export const realAlertSinks: AlertSinks = { webhook, syslogUdp, syslogLocal };
