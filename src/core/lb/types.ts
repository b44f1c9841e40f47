/**
 * Virtual services for the kernel load balancer on the VIP: what the master asks
 * nftables to balance. Plain data; the config layer produces it, buildRuleset (ruleset.ts)
 * turns it into one nftables JSON transaction.
 */

/**
 * How new connections are spread over the up real servers:
 * - `round-robin`: `numgen inc mod N`, strictly in turn (weights ignored);
 * - `weighted`: `numgen random mod W` over ranges sized by weight (W = sum of the up weights,
 *   divided by their greatest common divisor);
 * - `source-hash`: `jhash ip saddr mod N` with a fixed seed, so one client address keeps one
 *   server (weights ignored; the mapping changes when the set of up servers changes).
 */
export type Scheduler = 'round-robin' | 'weighted' | 'source-hash';

export const SCHEDULERS: readonly Scheduler[] = ['round-robin', 'weighted', 'source-hash'];

export interface RealServer {
  /** IPv4 (dotted quad) or IPv6 address, of the VIP's family. */
  readonly address: string;
  /** TCP port on the real server (1..65535). */
  readonly port: number;
  /** Share under the `weighted` scheduler, integer 1..100. */
  readonly weight: number;
  /** The health verdict: only up servers receive new connections. */
  readonly up: boolean;
}

export interface VirtualService {
  /** The VIP: IPv4 dotted quad or IPv6 text; the service's real servers are of its family. */
  readonly vip: string;
  /** TCP port on the VIP (1..65535). */
  readonly port: number;
  readonly protocol: 'tcp';
  readonly scheduler: Scheduler;
  /** In config order: the order fixes each server's slot in the nftables map. */
  readonly realServers: readonly RealServer[];
  /**
   * Source address (of the VIP's family) for traffic forwarded to the real servers, so replies
   * come back through the balancer. Absent: masquerade, i.e. the address of the interface the
   * packet leaves by.
   */
  readonly snatAddress?: string;
}

/** A JSON value as libnftables reads it. */
export type NftJson = string | number | boolean | null | readonly NftJson[] | { readonly [key: string]: NftJson };

/** One command of a libnftables JSON transaction (`{ add: { table: ... } }`, ...). */
export type NftCommand = { readonly [verb: string]: NftJson };

/** The document `nft -j -f FILE` reads: all commands are applied as one atomic transaction. */
export interface NftRuleset {
  readonly nftables: readonly NftCommand[];
}
