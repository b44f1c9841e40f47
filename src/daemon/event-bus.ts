/** The agent's event bus: every AgentEvent is published here (logs, `haagent events`, metrics). */
import { EventEmitter } from 'node:events';
import type { AgentEvent } from '../core/control/events.js';
import { isoTime } from '../adapters/iso-time.js';

type Without<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** An event as its publisher hands it over: the bus stamps `at`. */
export type UnstampedEvent = Without<AgentEvent, 'at'>;

export class EventBus extends EventEmitter {
  constructor() {
    super();
    // Every `haagent events` client and the metrics server subscribe; do not warn at 10.
    this.setMaxListeners(0);
  }

  /** Listeners of one event type (`on`): kept apart, so they cost nothing to the other types. */
  private readonly typed = new Map<AgentEvent['type'], Set<(ev: AgentEvent) => void>>();

  /**
   * Stamps the event with the wall-clock time and emits it as 'event' to every subscriber, and
   * to the listeners of its type. An event nobody listens to is neither stamped nor built (a
   * master publishes one per advert sent).
   */
  publish(ev: UnstampedEvent): void {
    const all = this.listenerCount('event') > 0;
    const typed = this.typed.get(ev.type);
    if (!all && typed === undefined) return;
    const stamped = { at: isoTime(), ...ev } as AgentEvent;
    if (all) this.emit('event', stamped);
    if (typed !== undefined) for (const listener of [...typed]) listener(stamped);
  }

  /** Every event; returns the unsubscribe function. */
  subscribe(listener: (ev: AgentEvent) => void): () => void {
    this.on('event', listener);
    return () => this.off('event', listener);
  }

  /** Events of type `type` only; returns the unsubscribe function. */
  subscribeTo<K extends AgentEvent['type']>(type: K, listener: (ev: Extract<AgentEvent, { type: K }>) => void): () => void {
    const set = this.typed.get(type) ?? new Set();
    const l = listener as (ev: AgentEvent) => void;
    set.add(l);
    this.typed.set(type, set);
    return () => {
      set.delete(l);
      if (set.size === 0 && this.typed.get(type) === set) this.typed.delete(type);
    };
  }
}
