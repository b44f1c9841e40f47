/**
 * The parts of the daemon that only some configs use, each loaded at its first use (see
 * src/adapters/lazy-import.ts). An agent with plain VRRP instances loads none of them; a reload that turns
 * one on loads it then. Every other module refers to these parts by type only (`import type`),
 * which loads nothing.
 *
 * `instanceParts(inst)` loads what one instance needs before it starts; code that must stay
 * synchronous afterwards reads the part with `loaded()`.
 */
import type { InstanceConfig } from '../core/config/types.js';
import { lazyImport } from '../adapters/lazy-import.js';

export { loadedPart, type LazyModule } from '../adapters/lazy-import.js';

/** The Prometheus endpoint and prom-client (`metrics-listen`). */
export const metricsPart = lazyImport('metrics endpoint', () => import('./metrics.js'));

/** The nftables / TCP-proxy load balancer (`virtual-services`). */
export const balancerPart = lazyImport('load balancer', () => import('./balancer.js'));

/** Alert delivery (`alerts.targets`). */
export const alerterPart = lazyImport('alert delivery', () => import('./alerter.js'));

/** The etcd gateway client and lease keeper (`election: etcd | vrrp+etcd`). */
export const etcdClientPart = lazyImport('etcd client', async () => {
  const [gateway, keeper] = await Promise.all([import('../adapters/etcd/gateway.js'), import('../adapters/etcd/lease-keeper.js')]);
  return { EtcdGateway: gateway.EtcdGateway, LeaseKeeper: keeper.LeaseKeeper };
});

/** The witness monitor (`witness`). */
export const witnessPart = lazyImport('witness monitor', () => import('../adapters/witness.js'));

/** conntrackd and the floating SNAT address (`conntrack-sync`). */
export const conntrackPart = lazyImport('conntrack sync', async () => {
  const [sync, floating] = await Promise.all([import('./conntrack-sync.js'), import('./floating-address.js')]);
  return { ConntrackSync: sync.ConntrackSync, floatingAddress: floating.floatingAddress };
});

/** The peer link: hellos over UDP on the instances' `paths`. */
export const peerLinkPart = lazyImport('peer link', () => import('./peer-link.js'));

/** Takeover guard commands (`takeover.guards`). */
export const guardsPart = lazyImport('takeover guards', () => import('./guard-runner.js'));

/** Whether `inst` is elected on etcd (the same test as EtcdShared.uses, without loading it). */
function electedOnEtcd(inst: InstanceConfig): boolean {
  return inst.election === 'vrrp+etcd' || inst.election === 'etcd';
}

/**
 * Loads every part `inst` uses that is not loaded yet; rejects with HA_ERR_LOAD naming the
 * first part that failed (nothing of the instance has started then).
 */
export async function instanceParts(inst: InstanceConfig): Promise<void> {
  const wanted = [
    electedOnEtcd(inst) ? etcdClientPart : undefined,
    inst.witness.length > 0 ? witnessPart : undefined,
    inst.conntrackSync !== undefined ? conntrackPart : undefined,
    (inst.takeover?.guards.length ?? 0) > 0 ? guardsPart : undefined,
    inst.paths.length > 0 ? peerLinkPart : undefined,
  ];
  for (const part of wanted) if (part !== undefined) await part.get();
}
