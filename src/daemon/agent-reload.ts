/**
 * Reload (SIGHUP, `haagent reload`) on the bound instances: the new config is loaded and
 * validated first, and a bad one is refused with the running config kept. Unchanged instances
 * are not touched (no transition, no VIP flap); ones whose VIP list or virtual services alone
 * changed are updated in place; other changed ones restart; removed ones leave cleanly; added
 * ones start (see reload-plan.ts for the plan).
 */
import { vipCidrs } from '../core/net/address.js';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { errorMessage, HaagentError } from '../core/errors.js';
import type { AgentConfig, InstanceConfig } from '../core/config/types.js';
import type { BalancerPort } from './lazy-balancer.js';
import type { SelfFence } from './self-fence.js';
import type { Bound } from './bound-instance.js';
import type { EventBus } from './event-bus.js';
import type { Heartbeats } from './heartbeats.js';
import { diffConfigs } from './reload-plan.js';

/** What a reload works on: the agent's instances and shared parts. */
export interface ReloadHost {
  readonly log: Logger;
  readonly events: EventBus;
  readonly balancer: BalancerPort;
  readonly fence: SelfFence;
  readonly heartbeats: Heartbeats;
  /** The config running now, and the one the agent started with (socket, metrics address). */
  readonly running: AgentConfig;
  readonly started: AgentConfig;
  /** The bound instances; replaced (not mutated) when one is removed. */
  bound: Bound[];
  startInstance(inst: InstanceConfig): Promise<void>;
  stopInstance(b: Bound): Promise<void>;
  /** Makes `next` the running config (and its alert targets the live ones). */
  commit(next: AgentConfig): void;
}

/** Loads the config with `load`, applies it to `host`; returns the one-line summary. */
export async function reloadAgent(host: ReloadHost, load: (() => AgentConfig) | undefined): Promise<string> {
  if (load === undefined) throw new HaagentError('HA_ERR_CONTROL', 'this agent has no config source to reload from');
  let next: AgentConfig;
  try {
    next = load();
  } catch (err) {
    const detail = errorMessage(err);
    host.events.publish({ type: 'reload', ok: false, detail });
    host.log.error({ err }, 'reload refused: the running config stays');
    throw new HaagentError('HA_ERR_CONFIG', `reload refused, the running config stays: ${detail}`, { cause: err });
  }
  const plan = diffConfigs(host.running.instances, next.instances);
  await host.heartbeats.resolve(plan.start);
  host.heartbeats.open();
  for (const name of plan.stop) {
    const b = host.bound.find((x) => x.config.name === name);
    if (b === undefined) continue;
    await host.stopInstance(b);
    host.bound = host.bound.filter((x) => x !== b);
  }
  for (const inst of plan.start) await host.startInstance(inst);
  for (const inst of plan.inPlace) updateInPlace(host, inst);
  host.commit({ ...next, socketPath: host.running.socketPath, metricsListen: host.running.metricsListen });
  const notes: string[] = [];
  if (next.socketPath !== host.started.socketPath) notes.push('socket path changes need a restart');
  if (next.metricsListen !== host.started.metricsListen) notes.push('metrics listen address changes need a restart');
  const detail = `reloaded: ${plan.unchanged.length} unchanged, ${plan.inPlace.length} updated in place (${plan.inPlace.map((i) => i.name).join(', ') || '-'}), ${plan.restart.length} restarted (${plan.restart.join(', ') || '-'}), `
    + `${plan.added.length} added (${plan.added.join(', ') || '-'}), ${plan.removed.length} removed (${plan.removed.join(', ') || '-'})`
    + (notes.length > 0 ? `; ${notes.join('; ')}` : '');
  host.events.publish({ type: 'reload', ok: true, detail });
  // Names only: the instance configs hold secrets (VRRP password, HMAC keys).
  host.log.info({ plan: { unchanged: plan.unchanged, inPlace: plan.inPlace.map((i) => i.name), restart: plan.restart, added: plan.added, removed: plan.removed } }, detail);
  return detail;
}

/** The VIP list, virtual services and/or auth of a running instance changed: no restart, no transition. */
function updateInPlace(host: ReloadHost, inst: InstanceConfig): void {
  const i = host.bound.findIndex((x) => x.config.name === inst.name);
  const b = host.bound[i];
  if (b === undefined) return;
  host.bound[i] = { ...b, config: inst };
  if (!isDeepStrictEqual(b.config.vips, inst.vips)) {
    const d = b.runner.updateVips(inst);
    b.announcer.setVips(inst.vips);
    b.hooks.setVips(vipCidrs(inst.vips));
    b.peer.update(inst); // peers compare VIP lists through the fingerprint
    void host.fence.update(inst); // never rejects
    host.log.info({ instance: inst.name, added: d.added, removed: d.removed, state: b.runner.vrrpState }, 'VIP list changed by reload');
  }
  if (!isDeepStrictEqual(b.config.auth, inst.auth)) {
    // Same VIPs: the runner only takes the new config, which the send path signs with; the
    // intake reads the bound config replaced above.
    if (isDeepStrictEqual(b.config.vips, inst.vips)) b.runner.updateVips(inst);
    b.peer.update(inst); // the fingerprint covers the v2 password
    host.log.info({ instance: inst.name, auth: inst.auth.type, mode: inst.auth.type === 'hmac' ? inst.auth.mode : undefined, state: b.runner.vrrpState }, 'authentication changed by reload: applied in place');
  }
  if (!isDeepStrictEqual(b.config.virtualServices, inst.virtualServices)) {
    host.balancer.update(inst);
    host.log.info({ instance: inst.name, services: inst.virtualServices.length, state: b.runner.vrrpState }, 'virtual services changed by reload');
  }
}
