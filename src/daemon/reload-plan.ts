/**
 * What a reload changes: instances are matched by name. Unchanged (deep-equal settings) ones
 * are left running untouched; ones whose VIP list, virtual services and/or authentication alone
 * changed are updated in place (a master adds/removes just the VIP difference and re-applies its
 * load balancer rules, the next advert is signed and checked the new way, no transition: the
 * HMAC roll-out sweeps receive-only -> permissive -> enforce and key rotations are hitless);
 * otherwise changed ones restart (stop cleanly, start with the
 * new settings); removed ones stop; added ones start. Pure.
 */
import { isDeepStrictEqual } from 'node:util';
import type { InstanceConfig } from '../core/config/types.js';

export interface ReloadPlan {
  readonly unchanged: readonly string[];
  /** Same settings but the VIP list, the virtual services and/or auth: updated in place. */
  readonly inPlace: readonly InstanceConfig[];
  readonly restart: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Names to stop, in order: restarted and removed instances. */
  readonly stop: readonly string[];
  /** Configs to start: restarted (new settings) and added instances. */
  readonly start: readonly InstanceConfig[];
}

export function diffConfigs(current: readonly InstanceConfig[], next: readonly InstanceConfig[]): ReloadPlan {
  const byName = new Map(current.map((i) => [i.name, i]));
  const unchanged: string[] = [];
  const inPlace: InstanceConfig[] = [];
  const restart: string[] = [];
  const added: string[] = [];
  const start: InstanceConfig[] = [];
  for (const inst of next) {
    const old = byName.get(inst.name);
    if (old === undefined) {
      added.push(inst.name);
      start.push(inst);
    } else if (isDeepStrictEqual(old, inst)) {
      unchanged.push(inst.name);
    } else if (isDeepStrictEqual({ ...old, vips: [], virtualServices: [], auth: null }, { ...inst, vips: [], virtualServices: [], auth: null })) {
      inPlace.push(inst);
    } else {
      restart.push(inst.name);
      start.push(inst);
    }
  }
  const nextNames = new Set(next.map((i) => i.name));
  const removed = current.filter((i) => !nextNames.has(i.name)).map((i) => i.name);
  return { unchanged, inPlace, restart, added, removed, stop: [...restart, ...removed], start };
}
