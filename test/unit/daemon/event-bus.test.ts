/**
 * EventBus: subscribers of every event and listeners of one type; an event nobody listens to
 * is not built at all.
 */
import t from 'tap';
import { EventBus } from '../../../src/daemon/event-bus.js';
import type { AgentEvent } from '../../../src/core/control/events.js';

const transition = { type: 'transition', instance: 'web', vrid: 51, from: 'BACKUP', to: 'MASTER', reason: 'r' } as const;
const sent = { type: 'advert-sent', instance: 'web' } as const;

t.test('subscribe gets every event, stamped; subscribeTo only its type', async (t) => {
  const bus = new EventBus();
  const all: AgentEvent[] = [];
  const transitions: AgentEvent[] = [];
  const off = bus.subscribe((ev) => all.push(ev));
  const offT = bus.subscribeTo('transition', (ev) => transitions.push(ev));
  bus.publish(sent);
  bus.publish(transition);
  t.same(all.map((e) => e.type), ['advert-sent', 'transition']);
  t.same(transitions.map((e) => e.type), ['transition']);
  t.match(transitions[0], { ...transition, at: /^\d{4}-\d\d-\d\dT/ });
  t.equal(all[1], transitions[0], 'one stamped object for both');
  off();
  offT();
  bus.publish(transition);
  t.equal(all.length, 2);
  t.equal(transitions.length, 1);
});

t.test('with only typed listeners, other events are not stamped (no clock read)', async (t) => {
  const bus = new EventBus();
  const seen: string[] = [];
  bus.subscribeTo('transition', (ev) => seen.push(ev.to));
  const realDate = globalThis.Date;
  let reads = 0;
  globalThis.Date = class extends realDate { constructor() { super(); reads += 1; } } as DateConstructor;
  try {
    bus.publish(sent);
    t.equal(reads, 0, 'advert-sent with no listener for it: nothing built');
    bus.publish(transition);
    t.equal(reads, 1);
  } finally {
    globalThis.Date = realDate;
  }
  t.same(seen, ['MASTER']);
});

t.test('a listener unsubscribing another during an event does not skip anyone', async (t) => {
  const bus = new EventBus();
  const calls: string[] = [];
  let offB: () => void = () => undefined;
  bus.subscribeTo('transition', () => { calls.push('a'); offB(); });
  offB = bus.subscribeTo('transition', () => calls.push('b'));
  bus.publish(transition);
  bus.publish(transition);
  t.same(calls, ['a', 'b', 'a']);
});
