/**
 * A part of the agent loaded at its first use, for the parts a config may not need (load
 * balancer, alerts, etcd client, metrics): an agent that never uses one never pays for its
 * code (each module's source and functions stay in V8's heap for the life of the process).
 *
 * Contract of `lazyImport(part, load)`:
 * - `get()` runs `load` once; concurrent and later calls share its result.
 * - A failed load rejects with HaagentError('HA_ERR_LOAD') naming `part`, with the cause; it is
 *   not remembered, so the next `get()` tries again (a reload can retry a feature after a
 *   transient failure such as EMFILE). It never throws synchronously.
 * - `loaded()` is the module once a load succeeded, else undefined (for code that must stay
 *   synchronous and was preceded by an awaited `get()`).
 * - It does not check what the module exports: `load` picks the exports and its type says what
 *   they are.
 */
import { errorMessage, HaagentError } from '../core/errors.js';

export interface LazyModule<T> {
  /** What the part is, for messages ("load balancer"). */
  readonly part: string;
  /** Loads the part (once), resolving with it; rejects with HA_ERR_LOAD. */
  get(): Promise<T>;
  /** The part if already loaded. */
  loaded(): T | undefined;
}

/** The part, which an earlier awaited `get()` loaded; HA_ERR_LOAD naming it if none did. */
export function loadedPart<T>(part: LazyModule<T>): T {
  const m = part.loaded();
  if (m === undefined) throw new HaagentError('HA_ERR_LOAD', `the ${part.part} was used before it was loaded`);
  return m;
}

export function lazyImport<T>(part: string, load: () => Promise<T>): LazyModule<T> {
  let value: T | undefined;
  let pending: Promise<T> | undefined;
  return {
    part,
    get(): Promise<T> {
      if (value !== undefined) return Promise.resolve(value);
      pending ??= Promise.resolve().then(load).then(
        (m) => {
          value = m;
          return m;
        },
        (cause: unknown) => {
          pending = undefined;
          const detail = errorMessage(cause);
          throw new HaagentError('HA_ERR_LOAD', `cannot load the ${part}: ${detail}`, { cause });
        },
      );
      return pending;
    },
    loaded: () => value,
  };
}
