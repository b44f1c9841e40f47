/**
 * nftables rulesets for the kernel load balancer, as libnftables JSON
 * (`man libnftables-json`), built purely from data: the adapter (src/adapters/nft.ts) hands the
 * document to `nft -j -f FILE`, which applies it as ONE atomic transaction.
 *
 * Everything lives in our own table `table inet haagent` (one table for IPv4 and IPv6
 * services); no command names any other table, so other rulesets on the host are never flushed
 * or touched. buildRuleset (re)defines the table whole: `add table` (no-op when it exists),
 * `flush table` (drops our previous rules), then `add chain` x3 and one `add rule` per service
 * and chain (F = ip or ip6, the VIP's family):
 *
 *   prerouting  nat, hook prerouting, priority dstnat (-100):
 *     F daddr VIP tcp dport PORT dnat F to <selector> map { slot : addr . port, ... }
 *   output      nat, hook output, priority dstnat (-100): the same rules, for connections the
 *               balancer itself opens to the VIP
 *   postrouting nat, hook postrouting, priority srcnat (100):
 *     ct status dnat ct original F daddr VIP meta l4proto tcp ct original proto-dst PORT
 *       masquerade | snat F to SNAT_ADDRESS
 *     (source NAT only for connections our DNAT rule sent to a real server, so the real
 *      server answers the balancer, which un-NATs the reply to the client)
 *   input       nat, hook input, priority srcnat (100), only when a service has `floatingSnat`:
 *     the same match, `snat F to SNAT_ADDRESS`, for connections DNATed to this node's own
 *     real server: with conntrack sync every balanced connection is NATed to the floating
 *     address, so its conntrack entry works unchanged on whichever node is master
 *   no-reset    filter, hook input, priority filter (0), only with `floatingSnat` services:
 *     F daddr VIP tcp dport PORT ct state invalid drop
 *     (while two nodes hand a connection over, the old master sees only one direction of it,
 *      its conntrack marks the packets invalid, and they would reach its own stack on the VIP,
 *      which answers with a reset; dropped instead, they are retransmitted to the new master)
 *
 * The JSON forms are those `nft -j list table inet haagent` prints for the text rules above
 * (nftables 1.0.6): in the inet family every dnat/snat names its family, the conntrack address
 * key is "ip daddr"/"ip6 daddr", and `ct original proto-dst` needs the `meta l4proto` match
 * before it (`ct protocol` does not give nft the port's type there).
 *
 * A service with exactly one up real server gets a plain `dnat F to addr:port`. A service with
 * NO up real server gets no rule at all: connections to VIP:PORT then go to the balancer's own
 * stack, answered by a local listener on that port if there is one, otherwise refused (RST).
 * Existing connections keep their conntrack NAT binding when a server goes down or the ruleset
 * is re-applied; only new connections follow the new rules.
 *
 * What this deliberately does not do: check that the VIP is on the host (only the master
 * applies a ruleset; the backup has none), UDP, or persistence beyond source-hash.
 * `flush table` keeps chains a previous version of this module may have created and this one
 * no longer does; within one version the chain set is fixed.
 */
import { ipFamily } from '../packet/ip.js';
import { serviceName } from './name.js';
import type { NftCommand, NftJson, NftRuleset, RealServer, UpFlags, VirtualService } from './types.js';
import { validateServices } from './validate.js';

export const TABLE_FAMILY = 'inet';
/** Where versions before the inet table kept their rules: cleaned at start like a stale table. */
export const LEGACY_TABLE_FAMILY = 'ip';
export type TableFamily = typeof TABLE_FAMILY | typeof LEGACY_TABLE_FAMILY;
export const TABLE_NAME = 'haagent';
/** nftables' named priorities for nat chains (dstnat, srcnat). */
export const PRIORITY_DSTNAT = -100;
export const PRIORITY_SRCNAT = 100;
/**
 * Fixed jhash seed: without one the kernel picks a random seed per rule, so every re-apply (and
 * the backup after a takeover) would move clients to other servers.
 */
export const SOURCE_HASH_SEED = 0x68616167; // "haag"

/** nftables' name of an address family in rules: ip (IPv4) or ip6. */
type NftFamily = 'ip' | 'ip6';

function nftFamily(address: string): NftFamily {
  return ipFamily(address) === 6 ? 'ip6' : 'ip';
}

const table = { family: TABLE_FAMILY, name: TABLE_NAME } as const;

function chain(name: string, hook: string, prio: number, type = 'nat'): NftCommand {
  return { add: { chain: { family: TABLE_FAMILY, table: TABLE_NAME, name, type, hook, prio, policy: 'accept' } } };
}

/** nftables' named priority of filter chains. */
const PRIORITY_FILTER = 0;

function rule(chainName: string, comment: string, expr: readonly NftJson[]): NftCommand {
  return { add: { rule: { family: TABLE_FAMILY, table: TABLE_NAME, chain: chainName, comment, expr } } };
}

function match(left: NftJson, right: NftJson, op = '=='): NftJson {
  return { match: { op, left, right } };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The map from selector value to server for the weighted scheduler: server i owns a range of
 * width weight_i / g (g = gcd of the up weights), in config order. Returns the modulus too.
 */
export function weightedSlots(servers: readonly RealServer[]): { mod: number; slots: { from: number; to: number; server: RealServer }[] } {
  const g = servers.reduce((acc, s) => gcd(acc, s.weight), 0);
  let next = 0;
  const slots = servers.map((server) => {
    const from = next;
    next += server.weight / g;
    return { from, to: next - 1, server };
  });
  return { mod: next, slots };
}

function target(s: RealServer): NftJson {
  return { concat: [s.address, s.port] };
}

/** The DNAT statement for the up servers of `svc` (at least one). */
function dnat(svc: VirtualService, family: NftFamily, up: readonly RealServer[]): NftJson {
  const [only] = up;
  if (up.length === 1 && only !== undefined) return { dnat: { family, addr: only.address, port: only.port } };
  let key: NftJson;
  let elems: NftJson[];
  switch (svc.scheduler) {
    case 'round-robin':
      key = { numgen: { mode: 'inc', mod: up.length, offset: 0 } };
      elems = up.map((s, i) => [i, target(s)]);
      break;
    case 'source-hash':
      key = { jhash: { mod: up.length, seed: SOURCE_HASH_SEED, expr: { payload: { protocol: family, field: 'saddr' } } } };
      elems = up.map((s, i) => [i, target(s)]);
      break;
    case 'weighted': {
      const { mod, slots } = weightedSlots(up);
      key = { numgen: { mode: 'random', mod, offset: 0 } };
      elems = slots.map(({ from, to, server }) => [from === to ? from : { range: [from, to] }, target(server)]);
      break;
    }
  }
  return { dnat: { family, addr: { map: { key, data: { set: elems } } } } };
}

/**
 * The transaction that makes `table inet haagent` balance exactly `services` (see the module
 * comment), each over its real servers that `up` marks up (`up[i][j]` for
 * `services[i].realServers[j]`). Deterministic: the same arguments give the same document,
 * services and servers in the order given. Every service given gets rules, whatever its `mode`:
 * the caller passes the nftables-mode ones.
 *
 * Contract: the services are validated config (parseServices, src/core/config/services.ts),
 * which guarantees every field (addresses of the VIP's family, ports, tcp, a known scheduler,
 * weights within MIN_WEIGHT..MAX_WEIGHT); they are not checked again here. What the config
 * cannot guarantee for this list is checked (validate.ts): a vip:port given twice, a real
 * server listed twice, verdicts that do not match the services. Those throw
 * HA_ERR_INVALID_ARGUMENT before anything is built, so nft never sees them.
 */
export function buildRuleset(services: readonly VirtualService[], up: UpFlags): NftRuleset {
  validateServices(services, up);
  const dstnatRules: NftCommand[] = [];
  const outputRules: NftCommand[] = [];
  const srcnatRules: NftCommand[] = [];
  const inputRules: NftCommand[] = [];
  const noResetRules: NftCommand[] = [];
  for (const [i, svc] of services.entries()) {
    const upServers = svc.realServers.filter((_, j) => up[i]?.[j] === true);
    if (upServers.length === 0) continue;
    const family = nftFamily(svc.vip);
    const name = serviceName(svc);
    const comment = `haagent ${name} ${svc.scheduler}`;
    const expr = [
      match({ payload: { protocol: family, field: 'daddr' } }, svc.vip),
      match({ payload: { protocol: 'tcp', field: 'dport' } }, svc.port),
      dnat(svc, family, upServers),
    ];
    dstnatRules.push(rule('prerouting', comment, expr));
    outputRules.push(rule('output', comment, expr));
    const nat: NftJson = svc.snat === undefined ? { masquerade: null } : { snat: { family, addr: svc.snat } };
    const balanced = [
      match({ ct: { key: 'status' } }, 'dnat', 'in'),
      match({ ct: { key: `${family} daddr`, dir: 'original' } }, svc.vip),
      match({ meta: { key: 'l4proto' } }, 'tcp'),
      match({ ct: { key: 'proto-dst', dir: 'original' } }, svc.port),
    ];
    srcnatRules.push(rule('postrouting', `haagent ${name} replies via the balancer`, [...balanced, nat]));
    if (svc.floatingSnat === true) {
      inputRules.push(rule('input', `haagent ${name} local server via the floating address`, [...balanced, nat]));
      noResetRules.push(rule('no-reset', `haagent ${name} no reset for a connection without state`, [
        match({ payload: { protocol: family, field: 'daddr' } }, svc.vip),
        match({ payload: { protocol: 'tcp', field: 'dport' } }, svc.port),
        match({ ct: { key: 'state' } }, 'invalid', 'in'),
        { drop: null },
      ]));
    }
  }
  return {
    nftables: [
      { add: { table } },
      { flush: { table } },
      chain('prerouting', 'prerouting', PRIORITY_DSTNAT),
      chain('output', 'output', PRIORITY_DSTNAT),
      chain('postrouting', 'postrouting', PRIORITY_SRCNAT),
      ...dstnatRules,
      ...outputRules,
      ...srcnatRules,
      ...(inputRules.length === 0 ? [] : [chain('input', 'input', PRIORITY_SRCNAT), ...inputRules]),
      ...(noResetRules.length === 0 ? [] : [chain('no-reset', 'input', PRIORITY_FILTER, 'filter'), ...noResetRules]),
    ],
  };
}

/**
 * The transaction that removes `table inet haagent` (or `table ip haagent` with `family` ip, the
 * legacy table) and everything in it, whether or not it exists: `add table` (no-op when
 * present) then `delete table`, atomically. Leaves nothing.
 */
export function emptyRuleset(family: TableFamily = TABLE_FAMILY): NftRuleset {
  const t = { family, name: TABLE_NAME };
  return { nftables: [{ add: { table: t } }, { delete: { table: t } }] };
}
