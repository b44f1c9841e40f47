/**
 * The one declaration of a virtual service (a `vip:port/tcp` balanced over real servers, by the
 * kernel or by the userspace proxy), with its scheduler names and weight bounds. The config
 * layer parses `virtual-services:` into it (src/core/config/services.ts, with located errors);
 * buildRuleset (ruleset.ts) and the daemon's balancer and proxy read it. Plain data.
 *
 * A real server's health verdict (up or down) is runtime state, not part of this shape: it is
 * handed over beside it, as `UpFlags`.
 */

/** How the service is served: kernel DNAT (nftables, default) or the agent's userspace TCP proxy. */
export const SERVICE_MODES = ['nftables', 'proxy'] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];

/**
 * How new connections are spread over the up real servers:
 * - `round-robin`: `numgen inc mod N`, strictly in turn (weights ignored);
 * - `weighted`: `numgen random mod W` over ranges sized by weight (W = sum of the up weights,
 *   divided by their greatest common divisor);
 * - `source-hash`: `jhash ip saddr mod N` with a fixed seed, so one client address keeps one
 *   server (weights ignored; the mapping changes when the set of up servers changes).
 */
export const SCHEDULERS = ['round-robin', 'weighted', 'source-hash'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

/** A real server's share under the `weighted` scheduler: an integer MIN_WEIGHT..MAX_WEIGHT. */
export const MIN_WEIGHT = 1;
export const MAX_WEIGHT = 100;

/**
 * One real server. `Check` is the type of its health check: the config's CheckConfig (this
 * layer does not look at it, so it does not import the config's types).
 */
export interface RealServer<Check = unknown> {
  /** IPv4 (dotted quad) or IPv6 address, of the VIP's family. */
  readonly address: string;
  /** TCP port on the real server (1..65535). */
  readonly port: number;
  /** Share under the `weighted` scheduler, integer MIN_WEIGHT..MAX_WEIGHT. */
  readonly weight: number;
  /** Health check of this real server (its own rise/fall); absent = always up. */
  readonly check: Check | undefined;
}

export interface VirtualService<Check = unknown> {
  readonly mode: ServiceMode;
  /** The VIP: IPv4 dotted quad or IPv6 text; the service's real servers are of its family. */
  readonly vip: string;
  /** TCP port on the VIP (1..65535). */
  readonly port: number;
  readonly protocol: 'tcp';
  readonly scheduler: Scheduler;
  /** In config order: the order fixes each server's slot in the nftables map. */
  readonly realServers: readonly RealServer<Check>[];
  /**
   * Source address (of the VIP's family) for traffic forwarded to the real servers, so replies
   * come back through the balancer. Absent: masquerade, i.e. the address of the interface the
   * packet leaves by (the proxy: the address the kernel picks for the connection).
   */
  readonly snat: string | undefined;
  /**
   * `snat` is a floating address (it moves with mastership, conntrack sync is on): connections
   * this node delivers to its own real server are source-NATed to it too, so every balanced
   * connection looks the same to its real server whichever node balances it. Absent = false.
   */
  readonly floatingSnat?: boolean;
}

/**
 * The health verdicts that go with a list of services: `up[i][j]` is true when
 * `services[i].realServers[j]` is up (receives new connections). Same lengths as the services.
 */
export type UpFlags = readonly (readonly boolean[])[];

/** A JSON value as libnftables reads it. */
export type NftJson = string | number | boolean | null | readonly NftJson[] | { readonly [key: string]: NftJson };

/** One command of a libnftables JSON transaction (`{ add: { table: ... } }`, ...). */
export type NftCommand = { readonly [verb: string]: NftJson };

/** The document `nft -j -f FILE` reads: all commands are applied as one atomic transaction. */
export interface NftRuleset {
  readonly nftables: readonly NftCommand[];
}
