/**
 * Tells the administrator: every alert-worthy event (src/core/alerts/alert.ts) goes, rate-limited
 * per kind and instance, to each configured target (webhook, syslog).
 *
 * Contract: never throws into the event bus; a target that fails is logged (warn, its origin
 * only) and counted, never retried (the next alert of the kind will try again); at most
 * MAX_IN_FLIGHT deliveries at a time, alerts beyond that are dropped and counted, so a target that
 * hangs cannot make memory grow.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { alertOf, type Alert } from '../core/alerts/alert.js';
import { alertmanagerBody, chatBody, rfc5424Line, syslogMessage, syslogPriorityName, type AlertContext } from '../core/alerts/format.js';
import { admit, EMPTY_RATE_STATE, type RateState } from '../core/alerts/rate-limit.js';
import { webhookOrigin, type AlertsConfig, type AlertTarget } from '../core/config/alerts.js';
import type { AgentEvent } from '../core/control/events.js';
import { realAlertSinks, type AlertSinks } from '../adapters/alert-sinks.js';
import { errorMessage } from '../core/errors.js';

export const MAX_IN_FLIGHT = 32;

export interface AlerterStats {
  sent: number;
  failed: number;
  suppressed: number;
  dropped: number;
}

function targetName(t: AlertTarget): string {
  if (t.type === 'webhook') return `webhook ${webhookOrigin(t.url)}`;
  return t.address === undefined ? 'syslog (local)' : `syslog ${t.address.host}:${t.address.port}`;
}

export class Alerter {
  private rate: RateState = EMPTY_RATE_STATE;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  readonly stats: AlerterStats = { sent: 0, failed: 0, suppressed: 0, dropped: 0 };

  constructor(
    private config: AlertsConfig,
    private readonly deps: { readonly log: Logger; readonly clock: () => number; readonly node?: string; readonly sinks?: AlertSinks },
  ) {}

  /** A reload may change the targets and the rate limit; the rate state is kept. */
  update(config: AlertsConfig): void {
    this.config = config;
  }

  get targets(): readonly string[] {
    return this.config.targets.map(targetName);
  }

  /** Feeds one event (the event bus listener). */
  onEvent(ev: AgentEvent): void {
    if (this.config.targets.length === 0) return;
    const alert = alertOf(ev);
    if (alert === undefined) return;
    const a = admit(this.rate, `${alert.kind}/${alert.instance ?? ''}`, this.deps.clock(), this.config.rateLimit);
    this.rate = a.state;
    if (!a.admitted) {
      this.stats.suppressed++;
      return;
    }
    const ctx: AlertContext = { node: this.deps.node ?? hostname(), suppressedBefore: a.suppressedBefore };
    for (const t of this.config.targets) this.deliver(t, alert, ctx);
  }

  private deliver(t: AlertTarget, alert: Alert, ctx: AlertContext): void {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.stats.dropped++;
      return;
    }
    const sinks = this.deps.sinks ?? realAlertSinks;
    let p: Promise<void>;
    try {
      if (t.type === 'webhook') p = sinks.webhook(t.url, t.format === 'chat' ? chatBody(alert, ctx) : alertmanagerBody(alert, ctx), t.timeoutMs);
      else if (t.address !== undefined) p = sinks.syslogUdp(t.address.host, t.address.port, rfc5424Line(alert, ctx, t.facility, process.pid));
      else p = sinks.syslogLocal(syslogPriorityName(t.facility, alert.severity), syslogMessage(alert, ctx));
    } catch (err) {
      p = Promise.reject(err);
    }
    this.inFlight++;
    const tracked = p.then(
      () => { this.stats.sent++; },
      (err: unknown) => {
        this.stats.failed++;
        this.deps.log.warn({ target: targetName(t), alert: alert.kind, err: errorMessage(err) }, 'alert not delivered');
      },
    ).finally(() => {
      this.inFlight--;
      this.pending.delete(tracked);
    });
    this.pending.add(tracked);
  }

  /** Resolves when every delivery under way has settled (for shutdown and tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
