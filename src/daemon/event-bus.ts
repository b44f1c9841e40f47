/** The agent's event bus: every AgentEvent is published here (logs, `haagent events`, metrics). */
import { EventEmitter } from 'node:events';
import type { AgentEvent } from '../core/control/events.js';

type Without<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** An event as its publisher hands it over: the bus stamps `at`. */
export type UnstampedEvent = Without<AgentEvent, 'at'>;

export class EventBus extends EventEmitter {
  constructor() {
    super();
    // Every `haagent events` client and the metrics server subscribe; do not warn at 10.
    this.setMaxListeners(0);
  }

  /** Stamps the event with the wall-clock time and emits it as 'event'. */
  publish(ev: UnstampedEvent): void {
    if (this.listenerCount('event') === 0) return;
    this.emit('event', { at: new Date().toISOString(), ...ev } as AgentEvent);
  }

  subscribe(listener: (ev: AgentEvent) => void): () => void {
    this.on('event', listener);
    return () => this.off('event', listener);
  }
}
