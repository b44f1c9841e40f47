/** Shared fixtures for the FSM unit tests: settings, a started instance, input shorthands. */
import { createInstance } from '../../../src/core/fsm/create.js';
import { step } from '../../../src/core/fsm/step.js';
import { vipOf } from '../../../src/core/net/address.js';
import type { AdvertInput, Effect, Input, InstanceSettings, InstanceState } from '../../../src/core/fsm/types.js';

export const OUR_ADDRESS = '10.0.0.2';
export const LOWER_ADDRESS = '10.0.0.1';
export const HIGHER_ADDRESS = '10.0.0.3';

export function settings(over: Partial<InstanceSettings> = {}): InstanceSettings {
  return Object.freeze({
    name: 'VI_1',
    vrid: 51,
    version: 3,
    family: 4,
    priority: 100,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayMs: 0,
    primaryAddress: OUR_ADDRESS,
    vips: [vipOf('10.0.0.100/24')],
    ...over,
  } satisfies InstanceSettings);
}

/** Recursively freeze, so a handler that mutates its input throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** step() on a frozen copy of the state: proves immutability in every test. */
export function stepFrozen(state: InstanceState, input: Input, nowMs: number): { state: InstanceState; effects: readonly Effect[] } {
  return step(deepFreeze(state), input, nowMs);
}

/** An instance after `start` at `nowMs`. */
export function started(over: Partial<InstanceSettings> = {}, nowMs = 0): InstanceState {
  return stepFrozen(createInstance(settings(over), nowMs), { type: 'start' }, nowMs).state;
}

/** A MASTER: an owner-less instance whose master-down timer fired. */
export function master(over: Partial<InstanceSettings> = {}, nowMs = 10_000): InstanceState {
  const b = started(over, 0);
  const deadline = b.timers['master-down'] ?? 0;
  const m = stepFrozen(b, { type: 'timer', timer: 'master-down' }, deadline).state;
  // Re-base the advert deadline on nowMs for readable assertions.
  return stepFrozen(m, { type: 'timer', timer: 'advert' }, Math.max(nowMs, m.timers.advert ?? 0)).state;
}

export function advert(from: string, priority: number, maxAdvertIntervalCs = 100): AdvertInput {
  return { type: 'advert', from, priority, maxAdvertIntervalCs };
}

export function kinds(effects: readonly Effect[]): string[] {
  return effects.map((e) => e.type);
}

export function transition(effects: readonly Effect[]): Extract<Effect, { type: 'state-changed' }> | undefined {
  return effects.find((e): e is Extract<Effect, { type: 'state-changed' }> => e.type === 'state-changed');
}
