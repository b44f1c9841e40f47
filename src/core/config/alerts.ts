/**
 * `alerts:` (top level): where the agent tells a person about danger, and how often at most.
 *
 *     alerts:
 *       targets:
 *         - { type: webhook, url: "http://127.0.0.1:9093/api/v2/alerts" }        # Alertmanager
 *         - { type: webhook, url: "https://chat.example/hooks/T0K3N", format: chat }
 *         - { type: syslog }                                  # this host's syslog/journald
 *         - { type: syslog, address: "192.0.2.5:514", facility: local3 }   # RFC 5424 over UDP
 *       rate-limit: { burst: 5, per: 1m }                     # per kind of alert and instance
 *
 * A webhook URL may carry a token (chat tools put it in the path): it is a secret, shown only as
 * its origin. No DNS is needed for a syslog address (an IP literal); a webhook host may be a name.
 */
import { parseAddress } from '../net/address.js';
import { Collector, isRecord, type PathSegment } from './collector.js';
import { LIMITS } from './limits.js';
import { SYSLOG_FACILITIES, type SyslogFacility } from '../alerts/format.js';
import type { RateLimit } from '../alerts/rate-limit.js';

export type WebhookFormat = 'alertmanager' | 'chat';

export type AlertTarget =
  | { readonly type: 'webhook'; readonly url: string; readonly format: WebhookFormat; readonly timeoutMs: number }
  | { readonly type: 'syslog'; readonly facility: SyslogFacility; readonly address: { readonly host: string; readonly port: number } | undefined };

export interface AlertsConfig {
  readonly targets: readonly AlertTarget[];
  readonly rateLimit: RateLimit;
}

export const NO_ALERTS: AlertsConfig = Object.freeze({ targets: Object.freeze([]), rateLimit: Object.freeze({ burst: 5, perMs: 60_000 }) });
/** Most targets in one config. */
export const MAX_ALERT_TARGETS = LIMITS.alertTargets;

/** `http(s)://host/...` origin for logs and status: the path and query may hold a token. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

function webhook(c: Collector, r: Record<string, unknown>, p: readonly PathSegment[]): AlertTarget | undefined {
  c.unknownKeys(r, new Set(['type', 'url', 'format', 'timeout']), p);
  const url = c.str(r, 'url', p);
  if (url === undefined) return c.fail([...p, 'url'], 'is required (http:// or https://)');
  let parsed: URL | undefined;
  try { parsed = new URL(url); } catch { parsed = undefined; }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    return c.fail([...p, 'url'], 'must be an http:// or https:// URL');
  }
  const format = r['format'] ?? 'alertmanager';
  if (format !== 'alertmanager' && format !== 'chat') return c.fail([...p, 'format'], `must be alertmanager or chat, got ${JSON.stringify(format)}`);
  const timeoutMs = c.durationMs(r, 'timeout', p) ?? 5000;
  if (timeoutMs < 100 || timeoutMs > 60_000) return c.fail([...p, 'timeout'], 'must be from 100ms to 1m');
  return Object.freeze({ type: 'webhook', url, format, timeoutMs });
}

function syslog(c: Collector, r: Record<string, unknown>, p: readonly PathSegment[]): AlertTarget | undefined {
  c.unknownKeys(r, new Set(['type', 'facility', 'address']), p);
  const facility = r['facility'] ?? 'daemon';
  if (typeof facility !== 'string' || !(SYSLOG_FACILITIES as readonly string[]).includes(facility)) {
    return c.fail([...p, 'facility'], `must be one of ${SYSLOG_FACILITIES.join(', ')}, got ${JSON.stringify(facility)}`);
  }
  const text = c.str(r, 'address', p);
  if (text === undefined) return Object.freeze({ type: 'syslog', facility: facility as SyslogFacility, address: undefined });
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3] ?? 514);
  if (m === null || host === undefined || !parseAddress(host).ok || port < 1 || port > 65_535) {
    return c.fail([...p, 'address'], `"${text}" is not ADDRESS[:PORT] (an IP literal, e.g. 192.0.2.5:514 or [2001:db8::5]:514)`);
  }
  return Object.freeze({ type: 'syslog', facility: facility as SyslogFacility, address: Object.freeze({ host, port }) });
}

export function parseAlerts(c: Collector, raw: unknown, path: readonly PathSegment[]): AlertsConfig {
  if (raw === undefined || raw === null) return NO_ALERTS;
  if (!isRecord(raw)) {
    c.fail(path, 'must be a mapping like { targets: [{ type: webhook, url: "http://..." }], rate-limit: { burst: 5, per: 1m } }');
    return NO_ALERTS;
  }
  c.unknownKeys(raw, new Set(['targets', 'rate-limit']), path);
  const list = c.list(raw, 'targets', path) ?? [];
  if (list.length > MAX_ALERT_TARGETS) {
    c.limit([...path, 'targets'], `has ${list.length} targets; at most ${MAX_ALERT_TARGETS}`);
    return NO_ALERTS;
  }
  const targets: AlertTarget[] = [];
  list.forEach((r, i) => {
    const p = [...path, 'targets', i];
    if (!isRecord(r)) return c.fail(p, 'must be a mapping with a type (webhook, syslog)');
    const t = r['type'] === 'webhook' ? webhook(c, r, p) : r['type'] === 'syslog' ? syslog(c, r, p) : c.fail([...p, 'type'], `must be webhook or syslog, got ${JSON.stringify(r['type'])}`);
    if (t !== undefined) targets.push(t);
    return undefined;
  });
  let rateLimit = NO_ALERTS.rateLimit;
  const rl = raw['rate-limit'];
  if (rl !== undefined) {
    const p = [...path, 'rate-limit'];
    if (!isRecord(rl)) c.fail(p, 'must be a mapping like { burst: 5, per: 1m }');
    else {
      c.unknownKeys(rl, new Set(['burst', 'per']), p);
      const burst = c.int(rl, 'burst', p, 1, 1000) ?? rateLimit.burst;
      const perMs = c.durationMs(rl, 'per', p) ?? rateLimit.perMs;
      if (perMs < 1000 || perMs > 86_400_000) c.fail([...p, 'per'], 'must be from 1s to 24h');
      rateLimit = Object.freeze({ burst, perMs });
    }
  }
  return Object.freeze({ targets: Object.freeze(targets), rateLimit });
}
