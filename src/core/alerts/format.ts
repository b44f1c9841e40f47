/**
 * Alert bodies as the receivers want them:
 * - Prometheus Alertmanager's API v2 (`POST /api/v2/alerts`): a JSON array of
 *   `{ labels, annotations, startsAt, endsAt?, generatorURL? }`; labels identify the alert
 *   (alertname, severity, instance, node), annotations carry the text.
 * - chat tools' incoming webhooks (Slack, Mattermost, Rocket.Chat): `{ "text": "..." }`.
 * - syslog (RFC 5424) lines, for a remote collector over UDP.
 */
import type { Alert, AlertSeverity } from './alert.js';

export interface AlertContext {
  /** This node's name (host name). */
  readonly node: string;
  /** Alerts of the same key folded into this one by the rate limit. */
  readonly suppressedBefore: number;
}

function text(a: Alert, ctx: AlertContext): string {
  const folded = ctx.suppressedBefore > 0 ? ` (+${ctx.suppressedBefore} similar suppressed by the rate limit)` : '';
  return `[${a.severity}] haagent on ${ctx.node}: ${a.summary}${folded}`;
}

export function alertmanagerBody(a: Alert, ctx: AlertContext): string {
  const labels: Record<string, string> = { alertname: `haagent_${a.kind.replace(/[^A-Za-z0-9_]/g, '_')}`, severity: a.severity, node: ctx.node, service: 'haagent' };
  if (a.instance !== null) labels['vrrp_instance'] = a.instance;
  return JSON.stringify([{
    labels,
    annotations: { summary: a.summary, description: text(a, ctx) },
    startsAt: a.at,
    ...(a.firing ? {} : { endsAt: a.at }),
  }]);
}

export function chatBody(a: Alert, ctx: AlertContext): string {
  return JSON.stringify({ text: text(a, ctx) });
}

/** syslog severities (RFC 5424 §6.2.1). */
const SYSLOG_SEVERITY: Readonly<Record<AlertSeverity, number>> = { critical: 2, warning: 4, info: 6 };

export const SYSLOG_FACILITIES = ['daemon', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'] as const;
export type SyslogFacility = (typeof SYSLOG_FACILITIES)[number];
const FACILITY_CODE: Readonly<Record<SyslogFacility, number>> = {
  daemon: 3, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** The syslog priority name `logger -p` takes, e.g. `daemon.crit`. */
export function syslogPriorityName(facility: SyslogFacility, severity: AlertSeverity): string {
  return `${facility}.${severity === 'critical' ? 'crit' : severity === 'warning' ? 'warning' : 'info'}`;
}

/** The alert as the message text of a syslog line (no header). */
export function syslogMessage(a: Alert, ctx: AlertContext): string {
  return text(a, ctx);
}

/** One RFC 5424 line: `<PRI>1 TIMESTAMP HOST haagent PID KIND - MSG`. */
export function rfc5424Line(a: Alert, ctx: AlertContext, facility: SyslogFacility, pid: number): string {
  const pri = FACILITY_CODE[facility] * 8 + SYSLOG_SEVERITY[a.severity];
  const host = ctx.node.replace(/[^\x21-\x7e]/g, '_').slice(0, 255) || '-';
  const msgid = a.kind.replace(/[^\x21-\x7e]/g, '_').slice(0, 32) || '-';
  return `<${pri}>1 ${a.at} ${host} haagent ${pid} ${msgid} - ${syslogMessage(a, ctx)}`;
}
