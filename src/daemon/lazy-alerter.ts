/**
 * The agent's alert delivery, loaded (alerter.ts, its sinks and formats) only once the config
 * has alert targets; until then this stands in for it.
 *
 * Contract (as Alerter's, see alerter.ts):
 * - `update(config)` with targets starts the load; once loaded, the real Alerter gets the latest
 *   config and the events that arrived while it loaded (at most MAX_QUEUED_EVENTS, in order;
 *   beyond that they are dropped and counted in the log line), then every call.
 * - `targets` names the targets only once loaded (empty before); the agent logs them after
 *   `ready()`.
 * - A failed load is logged with HA_ERR_LOAD; the queued events are dropped, the agent runs on,
 *   and the next `update` with targets tries again.
 */
import type { Logger } from 'pino';
import type { AlertsConfig } from '../core/config/alerts.js';
import type { AgentEvent } from '../core/control/events.js';
import type { Alerter } from './alerter.js';
import { alerterPart, type LazyModule } from './lazy-parts.js';
import { errorMessage } from '../core/errors.js';

/** Events kept while the alerter loads (a load takes milliseconds; this only bounds memory). */
export const MAX_QUEUED_EVENTS = 256;

export type AlerterPort = Pick<Alerter, 'update' | 'onEvent' | 'flush' | 'targets'>;

export class LazyAlerter implements AlerterPort {
  private real: Alerter | undefined;
  private loading: Promise<void> | undefined;
  private queued: AgentEvent[] = [];
  private dropped = 0;

  /** `deps` as Alerter's; `part`: where Alerter is loaded from (default: alerter.ts; a fake in unit tests). */
  constructor(
    private config: AlertsConfig,
    private readonly deps: ConstructorParameters<typeof Alerter>[1] & { readonly log: Logger },
    private readonly part: LazyModule<{ readonly Alerter: typeof Alerter }> = alerterPart,
  ) {
    this.update(config);
  }

  update(config: AlertsConfig): void {
    this.config = config;
    if (this.real !== undefined) this.real.update(config);
    else if (config.targets.length > 0) this.loading ??= this.load().finally(() => { this.loading = undefined; });
  }

  get targets(): readonly string[] {
    return this.real?.targets ?? [];
  }

  /** Resolves once a load under way has ended (loaded or failed). */
  async ready(): Promise<void> {
    await this.loading;
  }

  onEvent(ev: AgentEvent): void {
    if (this.real !== undefined) return this.real.onEvent(ev);
    if (this.loading === undefined) return; // no targets: nothing to tell
    if (this.queued.length < MAX_QUEUED_EVENTS) this.queued.push(ev);
    else this.dropped++;
  }

  async flush(): Promise<void> {
    await this.loading;
    await this.real?.flush();
  }

  private async load(): Promise<void> {
    const queued = (): AgentEvent[] => {
      const q = this.queued;
      this.queued = [];
      return q;
    };
    try {
      const { Alerter } = await this.part.get();
      const real = new Alerter(this.config, this.deps);
      this.real = real;
      for (const ev of queued()) real.onEvent(ev);
      if (this.dropped > 0) this.deps.log.warn({ dropped: this.dropped }, 'events dropped while alert delivery loaded');
    } catch (err) {
      this.deps.log.error({ err, dropped: queued().length }, `${errorMessage(err)}: alerts are not delivered`);
    }
    this.dropped = 0;
  }
}
