/**
 * The self-fence of a master, built purely from data: an nftables ruleset (text, for `nft -f`)
 * in our own table `table netdev haagent_fence` that makes a killed or frozen master go dark
 * within milliseconds, with no userspace work per advert.
 *
 * How: a set `alive4` (`alive6`) holds the master's VIPs with a per-element timeout. On the
 * egress hook of the heartbeat NIC, this node's own outgoing VRRP advert (priority > 0) jumps by
 * its VRID, through a verdict map, to its instance's chain, which `update`s every VIP's element
 * with a fresh timeout: the kernel refreshes the fence itself as each advert leaves, at the cost
 * of one map lookup per packet however many instances are fenced. Rules on the egress and ingress
 * hooks of the heartbeat and VIP NICs drop ARP and IPv4/IPv6 packets from (egress) or to
 * (ingress) a fenced VIP whose element is gone. While adverts leave, nothing is dropped; once
 * they stop (agent killed, frozen, its timers starved), the VIP goes dark `timeoutMs` after the
 * last one, before the fastest backup's Master_Down_Interval has run out (fenceTimeoutMs).
 *
 * Why netdev: sets belong to one table, and only a netdev table sees both the IP adverts and
 * the ARP replies (an inet table never sees ARP, an arp table never sees VRRP). Why text, not
 * libnftables JSON like the balancer: nft 1.0.x's JSON parser reads element timeouts in whole
 * seconds, the text syntax in milliseconds.
 *
 * fenceScript gives ONE atomic transaction that replaces the table whole (create, delete,
 * define), with every armed instance's elements present and fresh: the caller rebuilds it on
 * every arm, disarm and VIP change. Deliberately not checked here: that the NICs exist (nft
 * refuses the transaction), or that the VIPs are on the host.
 */
import { HaagentError } from '../errors.js';
import type { AddressFamily, VrrpVersion } from '../fsm/types.js';
import { masterDownIntervalMs } from '../fsm/timers.js';

export const FENCE_TABLE_FAMILY = 'netdev';
export const FENCE_TABLE_NAME = 'haagent_fence';

/** `self-fence` setting: auto = on at intervals of at least FENCE_AUTO_MIN_INTERVAL_CS. */
export type SelfFenceSetting = 'auto' | 'on' | 'off';
export const SELF_FENCE_SETTINGS: readonly SelfFenceSetting[] = ['auto', 'on', 'off'];

/**
 * 'auto' turns the fence on from 50 ms adverts up. Below, the room a live master has for a
 * late advert before it fences itself (timeout - interval, see fenceTimeoutMs) is at most
 * 30 ms, which a loaded host's scheduling delays reach: 'on' still forces it there.
 */
export const FENCE_AUTO_MIN_INTERVAL_CS = 5;

/**
 * How much earlier than the fastest backup's Master_Down_Interval the fence expires (ms): covers
 * the kernel's set-timeout granularity (one jiffy, 10 ms at HZ=100, 4 ms at HZ=250: the timeout
 * is rounded up to it and the expiry is noticed on a tick) with room to spare.
 */
export const FENCE_MARGIN_MS = 20;

/**
 * The highest priority a backup can run with (255 is the address owner, always master): the
 * fastest possible takeover, so the timeout made from it is safe whatever the backups run with.
 * `self-fence-backup-priority: auto` uses it unless something better is known.
 */
export const FENCE_ANY_BACKUP_PRIORITY = 254;

/** Rule size: the kernel takes at most 128 expressions per rule, each update costs two. */
export const FENCE_UPDATES_PER_RULE = 32;

/**
 * The element timeout (ms): max(2 x interval, Master_Down_Interval(backupPriority) - 20 ms).
 *
 * `backupPriority` is the highest effective priority (1..254) any backup of the instance runs
 * with, `version` the instance's VRRP version. A backup takes over Master_Down_Interval =
 * 3 x interval + Skew_Time(its own priority) after the last advert it heard (core/fsm/timers.ts),
 * and that advert left the master (and refreshed the fence) before it was heard: with this
 * timeout a dead master is dark FENCE_MARGIN_MS before the fastest backup takes over, so the
 * client never sees two MACs, and it is dark no earlier than it has to be (a lower backup
 * priority waits longer, so does its fence). With 254 (any backup): 3 x interval - 20 ms at
 * v3 intervals under 1.28 s (280 ms at 100 ms adverts).
 *
 * A live master fences itself only when an advert is more than timeout - interval late (180 ms
 * at 100 ms adverts and 254), close to where a backup takes over anyway. At short intervals the
 * floor of 2 x interval wins: the margin before Master_Down then shrinks to one interval (10 ms
 * at 10 ms adverts).
 *
 * Deliberately not checked: that the priority is in 1..254 and the interval in range (the
 * config guarantees both). Too high a priority is safe (the fence expires earlier than needed);
 * too LOW is not: a backup with a higher priority would take over up to the difference in
 * Skew_Time before the fence expires, with both MACs answering meanwhile.
 */
export function fenceTimeoutMs(advertIntervalCs: number, backupPriority: number, version: VrrpVersion): number {
  const i = advertIntervalCs * 10;
  return Math.max(2 * i, masterDownIntervalMs(backupPriority, advertIntervalCs, version) - FENCE_MARGIN_MS);
}

/**
 * Whether the setting fences an instance advertising every `advertIntervalCs`. An instance that
 * sends no VRRP adverts (elected on etcd) has nothing to refresh the fence with, so it is never
 * fenced this way (its etcd lease fences it instead; the config refuses `on` there).
 */
export function fenceEnabled(setting: SelfFenceSetting, advertIntervalCs: number, sendsAdverts = true): boolean {
  if (setting === 'off' || !sendsAdverts) return false;
  return setting === 'on' || advertIntervalCs >= FENCE_AUTO_MIN_INTERVAL_CS;
}

/** One armed instance: what its fence needs of its config. */
export interface FencedInstance {
  readonly vrid: number;
  readonly family: AddressFamily;
  /** Heartbeat NIC (adverts leave here). */
  readonly interface: string;
  /** VIP NIC. */
  readonly external: string;
  /** The VIPs' addresses (no prefix), canonical. */
  readonly addresses: readonly string[];
  readonly timeoutMs: number;
}

/** Interface names as the config accepts them; anything else would not be safe to quote. */
const SAFE_IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
/** Canonical addresses as the config produces them. */
const SAFE_ADDRESS = /^[0-9a-fA-F.:]{2,45}$/;

/** Throws HA_ERR_INTERNAL (a bug: the config guarantees both) for a name or address that could not be quoted safely. */
function checked(value: string, re: RegExp, what: string): string {
  if (!re.test(value)) throw new HaagentError('HA_ERR_INTERNAL', `self-fence: ${what} ${JSON.stringify(value)} cannot go into an nft script`);
  return value;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function aliveSet(name: string, type: string, elems: ReadonlyArray<{ address: string; timeoutMs: number }>): string {
  const elements = elems.length === 0 ? '' : ` elements = { ${elems.map((e) => `${e.address} timeout ${e.timeoutMs}ms`).join(', ')} };`;
  return `  set ${name} { type ${type}; flags dynamic,timeout; size 65535;${elements} }\n`;
}

function fencedSet(name: string, type: string, addresses: readonly string[]): string {
  const elements = addresses.length === 0 ? '' : ` elements = { ${addresses.join(', ')} };`;
  return `  set ${name} { type ${type};${elements} }\n`;
}

/** The update rules of one instance: its VIPs' elements get a fresh timeout. */
function updateRules(f: FencedInstance): string[] {
  const set = f.family === 4 ? '@alive4' : '@alive6';
  return chunks(f.addresses, FENCE_UPDATES_PER_RULE).map((part) =>
    part.map((a) => `update ${set} { ${a} timeout ${f.timeoutMs}ms }`).join(' '));
}

/** One refresh chain: the adverts of `family` and `vrid` leaving device number `dev`. */
interface RefreshChain {
  readonly name: string;
  readonly family: AddressFamily;
  readonly vrid: number;
  readonly rules: readonly string[];
}

/**
 * The refresh chains of the instances advertising on `dev` (number i), one per family and VRID
 * (instances sharing both share it), in a stable order.
 */
function refreshChains(armed: readonly FencedInstance[], dev: string, i: number): RefreshChain[] {
  const byKey = new Map<string, { family: AddressFamily; vrid: number; rules: string[] }>();
  for (const f of armed) {
    if (f.interface !== dev) continue;
    const key = `${f.family}/${f.vrid}`;
    const c = byKey.get(key) ?? { family: f.family, vrid: f.vrid, rules: [] };
    c.rules.push(...updateRules(f));
    byKey.set(key, c);
  }
  return [...byKey.values()]
    .sort((a, b) => a.family - b.family || a.vrid - b.vrid)
    .map((c) => ({ ...c, name: `r${i}v${c.family}x${c.vrid}` }));
}

/**
 * The refresh dispatch of an egress chain: a host's own VRRP advert (priority > 0) jumps by its
 * VRID through a verdict map to its instance's refresh chain, so each packet costs one lookup
 * whatever the number of instances (a rule per instance cost a match per instance per packet).
 */
function refreshDispatch(chains: readonly RefreshChain[]): string[] {
  const out: string[] = [];
  for (const family of [4, 6] as const) {
    const mine = chains.filter((c) => c.family === family);
    if (mine.length === 0) continue;
    const match = family === 4 ? 'ip protocol 112' : 'ip6 nexthdr 112';
    out.push(`${match} @th,16,8 != 0 @th,8,8 vmap { ${mine.map((c) => `${c.vrid} : jump ${c.name}`).join(', ')} }`);
  }
  return out;
}

const EGRESS_DROPS = [
  'arp saddr ip @fenced4 arp saddr ip != @alive4 counter drop',
  'ip saddr @fenced4 ip saddr != @alive4 counter drop',
  'ip6 saddr @fenced6 ip6 saddr != @alive6 counter drop',
];
const INGRESS_DROPS = [
  'ip daddr @fenced4 ip daddr != @alive4 counter drop',
  'ip6 daddr @fenced6 ip6 daddr != @alive6 counter drop',
];

function chain(name: string, hook: 'egress' | 'ingress', dev: string, rules: readonly string[]): string {
  return `  chain ${name} {\n    type filter hook ${hook} device "${dev}" priority 0; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
}

/** A regular chain (no hook): only reached by a jump. */
function plainChain(name: string, rules: readonly string[]): string {
  return `  chain ${name} {\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
}

/** The NICs of `armed`, sorted: chain i of each hook is on devices[i]. */
function devicesOf(armed: readonly FencedInstance[]): string[] {
  return [...new Set(armed.flatMap((f) => [checked(f.interface, SAFE_IFNAME, 'interface'), checked(f.external, SAFE_IFNAME, 'interface')]))].sort();
}

/**
 * The egress side of `dev` (number i): the refresh chains of the instances advertising there,
 * then the hooked chain: the refresh dispatch, then the drops.
 */
function egressChains(armed: readonly FencedInstance[], dev: string, i: number): string {
  const refresh = refreshChains(armed, dev, i);
  return refresh.map((c) => plainChain(c.name, c.rules)).join('') + chain(`out${i}`, 'egress', dev, [...refreshDispatch(refresh), ...EGRESS_DROPS]);
}

/**
 * The nft script that makes our table exactly the fence of `armed` (none: the table is
 * removed). Applied with `nft -f`, it is one transaction: either all of it holds or none.
 * Every VIP's element starts with its full timeout (the caller arms only a live master).
 */
export function fenceScript(armed: readonly FencedInstance[]): string {
  const table = `table ${FENCE_TABLE_FAMILY} ${FENCE_TABLE_NAME}`;
  // Create-then-delete: removing an absent table is not an error this way.
  let out = `${table} {}\ndelete ${table}\n`;
  if (armed.length === 0) return out;
  const v4 = armed.filter((f) => f.family === 4);
  const v6 = armed.filter((f) => f.family === 6);
  // One element per address (two instances listing the same VIP share it; the first one's timeout).
  const elems = (fs: readonly FencedInstance[]): Array<{ address: string; timeoutMs: number }> => {
    const seen = new Map<string, number>();
    for (const f of fs) for (const a of f.addresses) if (!seen.has(a)) seen.set(checked(a, SAFE_ADDRESS, 'address'), f.timeoutMs);
    return [...seen].map(([address, timeoutMs]) => ({ address, timeoutMs }));
  };
  const elems4 = elems(v4);
  const elems6 = elems(v6);
  out += `${table} {\n`;
  out += aliveSet('alive4', 'ipv4_addr', elems4);
  out += aliveSet('alive6', 'ipv6_addr', elems6);
  out += fencedSet('fenced4', 'ipv4_addr', elems4.map((e) => e.address));
  out += fencedSet('fenced6', 'ipv6_addr', elems6.map((e) => e.address));
  devicesOf(armed).forEach((dev, i) => {
    out += egressChains(armed, dev, i);
    out += chain(`in${i}`, 'ingress', dev, INGRESS_DROPS);
  });
  return `${out}}\n`;
}

/**
 * The nft script that changes only the timeouts of an applied fence: `armed` must be the
 * instances, NICs and VIPs of the last fenceScript applied, with new `timeoutMs`. Each egress
 * chain and refresh chain is flushed and refilled in one transaction; the sets and their elements are left
 * alone, so every VIP keeps the expiry its last advert gave it and the next advert refreshes
 * it with the new timeout. (Rebuilding the table would refresh every element when it is
 * applied, as an advert would, with no advert having left: a master killed right after
 * would stay alive in the kernel up to one interval past its backup's takeover.)
 * A shorter timeout therefore holds from the next advert on, one interval later at most.
 * Deliberately not checked here: that the table is as the last fenceScript left it (nft
 * refuses a missing table or chain; the caller then applies fenceScript); no instance armed
 * is a caller's bug (HA_ERR_INTERNAL).
 */
export function fenceRetimeScript(armed: readonly FencedInstance[]): string {
  if (armed.length === 0) throw new HaagentError('HA_ERR_INTERNAL', 'self-fence: nothing armed to retime');
  const table = `${FENCE_TABLE_FAMILY} ${FENCE_TABLE_NAME}`;
  const devices = devicesOf(armed);
  let out = devices.flatMap((dev, i) => [`out${i}`, ...refreshChains(armed, dev, i).map((c) => c.name)])
    .map((name) => `flush chain ${table} ${name}\n`).join('');
  out += `table ${table} {\n`;
  devices.forEach((dev, i) => { out += egressChains(armed, dev, i); });
  return `${out}}\n`;
}
