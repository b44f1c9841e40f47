/**
 * The prom-client side of the metrics: builds its own Registry (never the global one) with
 * prom-client's default process/nodejs metrics and one metric per entry of
 * src/daemon/metric-defs.ts, in the table's order. `refresh(status)` applies one status()
 * snapshot (status gauges rebuilt from scratch, mirrored counters advanced, per-instance item
 * gauges reconciled); `onEvent(ev)` applies one AgentEvent. Neither catches what the read
 * functions throw: the caller decides (a scrape answers 500, an event is dropped).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentStatus } from '../core/control/types.js';
import type { AgentEvent } from '../core/control/events.js';
import { METRICS, type InstanceItemGaugeDef, type Labels, type Sample } from './metric-defs.js';

export interface Metrics {
  readonly registry: Registry;
  refresh(status: AgentStatus): void;
  onEvent(ev: AgentEvent): void;
}

/**
 * A prom-client Counter that mirrors externally kept, monotonically growing counts: `sync`
 * adds each series' increase since the last sync and removes series no longer reported.
 */
class MirroredCounter {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly counter: Counter,
    private readonly labelNames: readonly string[],
  ) {}

  sync(samples: readonly Sample[]): void {
    const seen = new Set<string>();
    for (const { labels, value } of samples) {
      if (!Number.isFinite(value) || value < 0) continue;
      const key = JSON.stringify(this.labelNames.map((n) => labels[n]));
      seen.add(key);
      const prev = this.last.get(key);
      // First sight: the whole count; a decrease: the source was reset, count from zero.
      const delta = prev === undefined || value < prev ? value : value - prev;
      this.counter.inc(labels, delta);
      this.last.set(key, value);
    }
    for (const key of [...this.last.keys()]) {
      if (seen.has(key)) continue;
      const values = JSON.parse(key) as string[];
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => {
        labels[n] = values[i] ?? '';
      });
      this.counter.remove(labels);
      this.last.delete(key);
    }
  }
}

/**
 * A gauge of per-instance items (health checks): set by events, and by status() for the
 * instances that report their items there; it remembers which series exist so that items and
 * instances removed by a reload can go.
 */
class InstanceItemGauge {
  private readonly items = new Map<string, Set<string>>();

  constructor(
    private readonly def: InstanceItemGaugeDef,
    private readonly gauge: Gauge,
  ) {}

  onEvent(ev: AgentEvent): void {
    const s = this.def.fromEvent(ev);
    if (s !== undefined) this.set(s.instance, s.item, s.value);
  }

  refresh(status: AgentStatus): void {
    for (const inst of status.instances) {
      const reported = this.def.fromStatus(inst);
      if (reported === undefined) continue;
      const current = new Set(reported.map((r) => r.item));
      for (const item of this.items.get(inst.name) ?? []) {
        if (!current.has(item)) this.forget(inst.name, item);
      }
      for (const r of reported) this.set(inst.name, r.item, r.value);
    }
    const instances = new Set(status.instances.map((i) => i.name));
    for (const [instance, items] of [...this.items]) {
      if (!instances.has(instance)) for (const item of [...items]) this.forget(instance, item);
    }
  }

  private labels(instance: string, item: string): Labels {
    return { instance, [this.def.key]: item };
  }

  private set(instance: string, item: string, value: number): void {
    this.gauge.set(this.labels(instance, item), value);
    let names = this.items.get(instance);
    if (names === undefined) this.items.set(instance, (names = new Set()));
    names.add(item);
  }

  private forget(instance: string, item: string): void {
    this.gauge.remove(this.labels(instance, item));
    const names = this.items.get(instance);
    names?.delete(item);
    if (names?.size === 0) this.items.delete(instance);
  }
}

/** The registry and every metric of {@link METRICS}. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const statusSteps: Array<(status: AgentStatus) => void> = [];
  const eventSteps: Array<(ev: AgentEvent) => void> = [];
  // Status gauges are reset before anything is read, so a snapshot never mixes with the last one.
  const resets: Array<() => void> = [];

  for (const def of METRICS) {
    const common = { name: def.name, help: def.help, labelNames: def.labelNames, registers };
    switch (def.type) {
      case 'status-gauge': {
        const gauge = new Gauge(common);
        resets.push(() => gauge.reset());
        statusSteps.push((status) => {
          for (const s of def.samples(status)) gauge.set(s.labels, s.value);
        });
        break;
      }
      case 'mirrored-counter': {
        const mirror = new MirroredCounter(new Counter(common), def.labelNames);
        statusSteps.push((status) => mirror.sync(def.samples(status)));
        break;
      }
      case 'event-counter': {
        const counter = new Counter(common);
        eventSteps.push((ev) => {
          const labels = def.labels(ev);
          if (labels !== undefined) counter.inc(labels);
        });
        break;
      }
      case 'event-histogram': {
        const histogram = new Histogram({ ...common, buckets: [...def.buckets] });
        eventSteps.push((ev) => {
          const s = def.observe(ev);
          if (s !== undefined) histogram.observe(s.labels, s.value);
        });
        break;
      }
      case 'instance-item-gauge': {
        const items = new InstanceItemGauge(def, new Gauge(common));
        statusSteps.push((status) => items.refresh(status));
        eventSteps.push((ev) => items.onEvent(ev));
        break;
      }
    }
  }

  return {
    registry,
    refresh(status) {
      for (const reset of resets) reset();
      for (const step of statusSteps) step(status);
    },
    onEvent(ev) {
      for (const step of eventSteps) step(ev);
    },
  };
}
