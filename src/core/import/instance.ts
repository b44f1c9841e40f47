/**
 * `vrrp_instance NAME { ... }` -> one haagent instance (a plain mapping in config-file
 * spelling). keepalived's defaults are written out where haagent's differ (VRRP version 2,
 * priority 100, preempt on, rise/fall 1), so the imported instance behaves like the original
 * whatever haagent's own defaults are. Every option not mapped is reported through the Sink.
 */
import type { PathSegment } from '../config/collector.js';
import { IFNAME } from '../config/collector.js';
import { parseAddress } from '../net/address.js';
import { decodeKeyValue } from '../config/auth.js';
import { commandLine } from './command.js';
import type { KaNode } from './parse.js';
import { duration, where, type Sink } from './sink.js';
import { trackFiles, trackInterfaces, trackScripts, type CheckTarget, type ScriptDef, type TrackFileDef, type WeightRule } from './track.js';

export interface GarpDefaults {
  burst?: number | undefined;
  burstIntervalMs?: number | undefined;
  gnaIntervalMs?: number | undefined;
  refreshMs?: number | undefined;
}

export interface Defs {
  readonly scripts: ReadonlyMap<string, ScriptDef>;
  readonly files: ReadonlyMap<string, TrackFileDef>;
  /** global_defs vrrp_version, when set. */
  readonly version: 2 | 3 | undefined;
  readonly garp: GarpDefaults;
  /** Instances in a vrrp_sync_group without sync_group_tracking_weight: their own weights are ignored. */
  readonly unweightedMembers: ReadonlySet<string>;
}

/** An instance while it is built; `out` is printed once sync groups and services are added. */
export interface InstanceBuild extends CheckTarget {
  readonly node: KaNode;
  readonly name: string;
  readonly out: Record<string, unknown>;
  readonly hooks: Record<string, unknown>;
  /** The VIP addresses (canonical), for matching virtual_server blocks. */
  readonly vips: string[];
  family: 4 | 6;
  basePriority: number;
}

const HOOKS: Readonly<Record<string, string>> = { notify_master: 'master', notify_backup: 'backup', notify_fault: 'fault', notify_stop: 'stop' };
const NOTIFY_STATES: Readonly<Record<string, string>> = { master: 'MASTER', backup: 'BACKUP', fault: 'FAULT', stop: 'STOP' };

function vips(sink: Sink, b: InstanceBuild, block: KaNode, iface: string | undefined, path: readonly PathSegment[]): { external?: string; label?: string } {
  let external: string | undefined;
  let label: string | undefined;
  for (const entry of block.children ?? []) {
    const [addr = '', prefix] = entry.name.split('/');
    const a = parseAddress(addr);
    if (!a.ok) { sink.warn(entry, path, a.reason); continue; }
    const bits = a.family === 4 ? 32 : 128;
    const len = prefix === undefined ? bits : Number(prefix);
    if (!/^\d{1,3}$/.test(prefix ?? '0') || len > bits) { sink.warn(entry, path, `prefix /${prefix ?? ''} does not fit an IPv${a.family} address`); continue; }
    if (b.vips.length > 0 && a.family !== b.family) { sink.warn(entry, path, `IPv${a.family} beside IPv${b.family} addresses: haagent needs one instance per address family`); continue; }
    let dev: string | undefined;
    let lab: string | undefined;
    let skip = false;
    for (let i = 0; i < entry.args.length; i += 2) {
      const k = entry.args[i];
      const v = entry.args[i + 1];
      if (k === 'dev' && v !== undefined) dev = v;
      else if (k === 'label' && v !== undefined) lab = v;
      else if (k === 'no_track') { sink.warn(entry, path, '"no_track" not mapped: haagent watches every VIP'); i -= 1; }
      else { sink.warn(entry, path, `"${k ?? ''}${v === undefined ? '' : ` ${v}`}" not mapped (haagent adds the address with its prefix only)`); }
    }
    const target = dev ?? iface;
    if (dev !== undefined && !IFNAME.test(dev)) { sink.warn(entry, path, `"${dev}" is not a valid interface name`); skip = true; }
    else if (target !== undefined && target !== (external ?? iface)) {
      if (external === undefined && b.vips.length === 0) external = target;
      else { sink.warn(entry, path, `on ${target}, but this instance's other VIPs are on ${external ?? iface ?? '?'}: haagent puts an instance's VIPs on one NIC (make a separate instance)`); skip = true; }
    }
    if (lab !== undefined) {
      if (a.family === 6) sink.warn(entry, path, 'labels exist for IPv4 addresses only');
      else if (label !== undefined && label !== lab) sink.warn(entry, path, `label ${lab}: haagent gives all VIPs of an instance one label (${label})`);
      else label = lab;
    }
    if (skip) continue;
    if (b.vips.includes(a.address)) { sink.warn(entry, path, 'is listed twice'); continue; }
    b.family = a.family;
    b.vips.push(a.address);
    (b.out['vips'] as string[]).push(`${a.address}/${len}`);
  }
  return { ...(external === undefined ? {} : { external }), ...(label === undefined ? {} : { label }) };
}

function peers(sink: Sink, block: KaNode, path: readonly PathSegment[]): string[] {
  const out: string[] = [];
  for (const entry of block.children ?? []) {
    const a = parseAddress(entry.name);
    if (!a.ok) { sink.warn(entry, path, a.reason); continue; }
    if (a.family === 6 && !/^fe[89ab][0-9a-f]:/.test(a.address)) {
      sink.warn(entry, path, 'IPv6 peers must be the peer\'s link-local (fe80::) address on the heartbeat interface: adverts come from it');
      continue;
    }
    if (entry.args.length > 0) sink.warn(entry, path, `"${entry.args.join(' ')}" not mapped (haagent checks the TTL is 255)`);
    out.push(a.address);
  }
  return out;
}

function auth(sink: Sink, block: KaNode, path: readonly PathSegment[]): Record<string, unknown> | undefined {
  let type: string | undefined;
  let pass: string | undefined;
  for (const o of block.children ?? []) {
    if (o.name === 'auth_type') type = sink.arg(o, path);
    else if (o.name === 'auth_pass') pass = sink.arg(o, path);
    else sink.warn(o, path, 'not mapped');
  }
  if (type !== 'PASS') return sink.warn(block, path, `auth_type ${type ?? '(none)'}: only PASS maps (haagent has no IPsec AH authentication)`);
  if (pass === undefined || pass === '') return sink.warn(block, path, 'auth_type PASS without auth_pass');
  // keepalived sends the first 8 bytes of a longer password; haagent refuses a longer one.
  const bytes = new TextEncoder().encode(pass);
  if (bytes.length <= 8) return { type: 'pass', password: pass };
  // A byte 10xxxxxx continues a UTF-8 character: the 8-byte cut would split it, and haagent's
  // password is text, so keepalived's 8 bytes cannot be written (the password is never shown).
  if (((bytes[8] ?? 0) & 0xc0) === 0x80) {
    return sink.warn(block, path, 'auth_pass is longer than 8 bytes and keepalived uses its first 8, which end inside a multi-byte character: haagent cannot write that password; set auth on every host (keepalived and haagent) to a password of at most 8 bytes');
  }
  sink.note(path, `${where(block.at)}: auth_pass is longer than 8 bytes: keepalived uses its first 8, and so does this config`);
  return { type: 'pass', password: new TextDecoder().decode(bytes.subarray(0, 8)) };
}

/**
 * `auth_hmac { key ID VALUE; active_key ID; anti_replay; time_window; mode }` (keepalived 2.4)
 * -> `auth: { type: hmac, ... }`. Only what is written is mapped (haagent's defaults are
 * keepalived's). Without a usable active_key keepalived disables the extension: so does this.
 * Key values are copied, never shown in a warning.
 */
function hmacAuth(sink: Sink, block: KaNode, path: readonly PathSegment[]): Record<string, unknown> | undefined {
  const keys: Record<string, string> = {};
  const out: Record<string, unknown> = { type: 'hmac', keys };
  let active: number | undefined;
  for (const o of block.children ?? []) {
    if (o.name === 'key') {
      const [id, value] = o.args;
      if (id === undefined || value === undefined || o.args.length !== 2) { sink.warn(o, path, 'needs a key id and one value'); continue; }
      if (!/^\d{1,3}$/.test(id) || Number(id) < 1 || Number(id) > 255) { sink.warn(o, path, 'key id must be an integer from 1 to 255'); continue; }
      if (keys[String(Number(id))] !== undefined) { sink.warn(o, path, `key id ${Number(id)} is defined twice; keepalived keeps the first`); continue; }
      if (value.startsWith('file:')) {
        if (!value.startsWith('file:/') || value.includes('${')) { sink.warn(o, path, 'a file: key needs an absolute path (keepalived\'s ${_ENV ...} expansion is not mapped: write the path)'); continue; }
      } else {
        const v = decodeKeyValue(value);
        if (!v.ok) { sink.warn(o, path, `key ${Number(id)} ${v.problem.startsWith('is ') ? v.problem : `is not usable: ${v.problem}`}; keepalived rejects it too`); continue; }
      }
      keys[String(Number(id))] = value;
    } else if (o.name === 'active_key') {
      active = sink.int(o, path, 1, 255);
    } else if (o.name === 'anti_replay') {
      const v = sink.arg(o, path);
      if (v === 'time' || v === 'monotonic') out['anti-replay'] = v;
      else if (v !== undefined) sink.warn(o, path, 'must be time or monotonic');
    } else if (o.name === 'time_window') {
      const s = sink.int(o, path, 1, 300);
      if (s !== undefined) out['time-window'] = `${s}s`;
    } else if (o.name === 'mode') {
      const v = sink.arg(o, path);
      if (v === 'enforce' || v === 'permissive' || v === 'receive-only') out['mode'] = v;
      else if (v !== undefined) sink.warn(o, path, 'must be enforce, permissive or receive-only');
    } else {
      sink.warn(o, path, 'not mapped');
    }
  }
  if (active === undefined || keys[String(active)] === undefined) {
    return sink.warn(block, path, `active_key ${active ?? '(none)'} is not one of the usable keys: keepalived disables auth_hmac then, and so does this config`);
  }
  out['active-key'] = active;
  return out;
}

function hook(sink: Sink, b: InstanceBuild, o: KaNode, name: string, argv: readonly string[] | undefined, path: readonly PathSegment[]): void {
  if (argv === undefined) return;
  if (b.hooks[name] !== undefined) { sink.warn(o, path, `a ${name} hook is already set: haagent runs one command per transition`); return; }
  b.hooks[name] = [...argv];
}

/** Maps one vrrp_instance block; tracking of sync groups and services are added by the caller. */
export function mapInstance(sink: Sink, node: KaNode, index: number, defs: Defs): InstanceBuild {
  const path: PathSegment[] = ['instances', index];
  const name = node.args[0] ?? `instance${index}`;
  if (node.args.length !== 1) sink.warn(node, path, 'a vrrp_instance takes exactly one name');
  if (name.length > 64) sink.warn(node, path, `the name is longer than haagent's 64 characters; cut to ${name.slice(0, 64)}`);
  // Keys in the order they are printed; those left undefined are not printed.
  const out: Record<string, unknown> = {
    name: name.slice(0, 64), vrid: undefined, role: undefined, interface: undefined, external: undefined, vips: [],
    'vip-label': undefined, 'vrrp-version': undefined, 'advert-interval': undefined, preempt: undefined,
    'preempt-delay': undefined, peers: undefined, auth: undefined, garp: undefined,
  };
  const b: InstanceBuild = {
    node, name, out, hooks: {}, vips: [], family: 4, basePriority: 100,
    path, checks: [], names: new Set(), raise: 0,
  };
  let iface: string | undefined;
  let version: number | undefined;
  let advertMs = 1000;
  let preempt = true;
  let nopreemptNode: KaNode | undefined;
  let delayNode: KaNode | undefined;
  let checksumNode: KaNode | undefined;
  let ownerIgnoreNode: KaNode | undefined;
  let state: string | undefined;
  let legacyAuth: KaNode | undefined;
  let hmacNode: KaNode | undefined;
  const garp: GarpDefaults = { ...defs.garp };
  const later: KaNode[] = [];
  for (const o of node.children ?? []) {
    switch (o.name) {
      case 'interface': iface = sink.arg(o, path); break;
      case 'virtual_router_id': out['vrid'] = sink.int(o, path, 1, 255); break;
      case 'priority': b.basePriority = sink.int(o, path, 1, 255) ?? b.basePriority; break;
      case 'advert_int': advertMs = sink.seconds(o, path, 255_000) ?? advertMs; break;
      case 'version': case 'vrrp_version': version = sink.int(o, path, 2, 3); break;
      case 'state': state = sink.arg(o, path); if (state !== undefined && state !== 'MASTER' && state !== 'BACKUP') { sink.warn(o, path, 'must be MASTER or BACKUP'); state = undefined; } break;
      case 'nopreempt': preempt = false; nopreemptNode = o; break;
      case 'preempt': preempt = true; break;
      case 'preempt_delay': { const ms = sink.seconds(o, path, 1000_000); if (ms !== undefined) { out['preempt-delay'] = duration(ms); delayNode = ms > 0 ? o : undefined; } break; }
      case 'unicast_src_ip': sink.warn(o, path, 'haagent sends from the heartbeat interface\'s own (primary) address; make sure that is this address'); break;
      case 'unicast_peer': out['peers'] = peers(sink, o, path); break;
      case 'v3_checksum_as_v2': checksumNode = o; break;
      case 'owner_ignore_adverts': ownerIgnoreNode = o; break;
      case 'authentication': { legacyAuth = o; if (hmacNode === undefined) { const a = auth(sink, o, path); if (a !== undefined) out['auth'] = a; } break; }
      case 'auth_hmac': {
        hmacNode = o;
        if (legacyAuth !== undefined) sink.warn(legacyAuth, path, 'auth_hmac replaces the legacy authentication block (keepalived drops it too)');
        out['auth'] = hmacAuth(sink, o, [...path, 'auth']);
        break;
      }
      case 'garp_master_repeat': garp.burst = sink.int(o, path, 0, 100) ?? garp.burst; break;
      case 'garp_interval': garp.burstIntervalMs = sink.seconds(o, path, 60_000) ?? garp.burstIntervalMs; break;
      case 'gna_interval': garp.gnaIntervalMs = sink.seconds(o, path, 60_000) ?? garp.gnaIntervalMs; break;
      case 'garp_master_refresh': garp.refreshMs = sink.seconds(o, path, 86_400_000) ?? garp.refreshMs; break;
      case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': {
        const h = HOOKS[o.name] ?? 'master';
        hook(sink, b, o, h, sink.command(o, commandLine(o), [...path, 'hooks']), path);
        break;
      }
      case 'virtual_ipaddress': case 'track_script': case 'track_interface': case 'track_file': case 'notify':
        later.push(o);
        break;
      default:
        sink.warn(o, path, 'not mapped: haagent has no such setting');
    }
  }
  // After the scalar options: VIPs need the interface, notify needs the state hooks set first.
  let placement: { external?: string; label?: string } = {};
  // The owner rule wins, as in keepalived (a weighted interface of an owner is not tracked at all).
  const rule: WeightRule = b.basePriority === 255 ? 'owner' : defs.unweightedMembers.has(name) ? 'sync-member' : 'weighted';
  for (const o of later) {
    if (o.name === 'virtual_ipaddress') placement = vips(sink, b, o, iface, [...path, 'vips']);
    else if (o.name === 'track_script') trackScripts(sink, o, defs.scripts, b, rule);
    else if (o.name === 'track_interface') trackInterfaces(sink, o, b, rule);
    else if (o.name === 'track_file') trackFiles(sink, o, defs.files, b, rule);
  }
  for (const o of later.filter((x) => x.name === 'notify')) {
    const argv = sink.command(o, commandLine(o), [...path, 'hooks']);
    if (argv === undefined) continue;
    sink.warn(o, [...path, 'hooks'], 'keepalived calls it as SCRIPT INSTANCE NAME STATE PRIORITY; the hooks below pass the first three arguments, the priority is in $HAAGENT_PRIORITY');
    for (const [h, st] of Object.entries(NOTIFY_STATES)) hook(sink, b, o, h, [...argv, 'INSTANCE', name, st], path);
  }
  if (iface === undefined) sink.warn(node, path, 'has no interface');
  out['interface'] = iface;
  if (placement.external !== undefined && placement.external !== iface) out['external'] = placement.external;
  if (placement.label !== undefined) out['vip-label'] = placement.label;
  if (state !== undefined) out['role'] = state === 'MASTER' ? 'master' : 'backup';
  // keepalived's own consistency rules, so the import behaves as keepalived ran the file.
  if (!preempt && nopreemptNode !== undefined && (b.basePriority === 255 || state === 'MASTER')) {
    sink.warn(nopreemptNode, path, b.basePriority === 255
      ? 'priority 255 (address owner) always preempts: keepalived ignores nopreempt, and so does this config'
      : 'state MASTER: keepalived ignores nopreempt with an initial state MASTER, and so does this config');
    preempt = true;
  }
  if (delayNode !== undefined && (state === 'MASTER' || !preempt)) {
    sink.warn(delayNode, path, state === 'MASTER'
      ? 'state MASTER: keepalived ignores preempt_delay with an initial state MASTER, and so does this config'
      : 'nopreempt: keepalived ignores preempt_delay when nopreempt is set, and so does this config');
    out['preempt-delay'] = undefined;
  }
  // keepalived speaks VRRPv2 unless told otherwise; IPv6 is VRRPv3 only.
  let v = version ?? defs.version ?? 2;
  if (b.family === 6 && v === 2) {
    if (version !== undefined) sink.warn(node, path, 'IPv6 VIPs with version 2: VRRPv2 carries IPv4 only; vrrp-version 3 is used');
    v = 3;
  }
  out['vrrp-version'] = v;
  // keepalived checks no TTL on unicast, and its IPv6 unicast adverts leave with the kernel's
  // default hop limit (64): the imported instance accepts its peers' adverts the same way.
  if (b.family === 6 && Array.isArray(out['peers']) && out['peers'].length > 0) out['unicast-ttl-check'] = false;
  if (checksumNode !== undefined) {
    // keepalived: VRRPv3 over IPv4 checksummed without the pseudo-header (RFC 9568 5.2.8's form).
    if (v === 3 && b.family !== 6) out['v3-checksum'] = 'message';
    else sink.warn(checksumNode, path, 'applies to VRRPv3 over IPv4 only; keepalived ignores it here, and so does this config');
  }
  if (ownerIgnoreNode !== undefined) {
    if (b.basePriority === 255) out['owner-ignore-adverts'] = true;
    else sink.warn(ownerIgnoreNode, path, 'applies to the address owner (priority 255) only; keepalived ignores it here, and so does this config');
  }
  if (v === 2 && advertMs % 1000 !== 0) {
    // keepalived rounds to the nearest whole second (a half up), at least 1 s.
    const rounded = Math.max(1000, Math.round(advertMs / 1000) * 1000);
    sink.warn(node, path, `advert_int ${advertMs / 1000}: VRRPv2 advertises whole seconds; ${rounded / 1000}s used, the nearest whole second as keepalived rounds it (set version 3 on both hosts for sub-second intervals)`);
    advertMs = rounded;
  } else if (v === 3) {
    // VRRPv3 carries centiseconds, 1..4095: keepalived rounds to the nearest and clamps.
    const fitted = Math.min(40_950, Math.max(10, Math.round(advertMs / 10) * 10));
    if (fitted !== advertMs) sink.warn(node, path, `advert_int ${advertMs / 1000}: VRRPv3 advertises whole centiseconds from 0.01 to 40.95 seconds; ${duration(fitted)} used, as keepalived does`);
    advertMs = fitted;
  }
  out['advert-interval'] = duration(advertMs);
  out['preempt'] = preempt;
  if (hmacNode !== undefined && legacyAuth !== undefined && legacyAuth.at.line > hmacNode.at.line) {
    sink.warn(legacyAuth, path, 'auth_hmac replaces the legacy authentication block (keepalived drops it too)');
  }
  if ((out['auth'] as { type?: unknown } | undefined)?.type === 'pass' && v === 3) {
    sink.warn(node, path, 'authentication: VRRPv3 has none (keepalived ignores it too); dropped');
    out['auth'] = undefined;
  }
  const g: Record<string, unknown> = {};
  if (garp.burst !== undefined) g['burst'] = garp.burst;
  const gap = b.family === 6 ? garp.gnaIntervalMs : garp.burstIntervalMs;
  if (gap !== undefined) g['burst-interval'] = duration(gap);
  if (garp.refreshMs !== undefined) g['refresh'] = duration(garp.refreshMs);
  if (Object.keys(g).length > 0) out['garp'] = g;
  return b;
}

/** The finished mapping of `b`: priority (with the raise of positive weights), checks, hooks. */
export function finishInstance(sink: Sink, b: InstanceBuild): Record<string, unknown> {
  let priority = b.basePriority;
  // An owner's checks all have weight 0 here (the weighted ones were left out, as keepalived
  // ignores them): each puts it in FAULT while down, as in keepalived.
  if (b.raise > 0) {
    priority = b.basePriority + b.raise;
    if (priority > 254) {
      sink.warn(b.node, b.path, `priority ${b.basePriority} + positive weights ${b.raise} = ${priority}: capped at 254, so a failing check lowers it by less than in keepalived`);
      priority = 254;
    } else {
      sink.note(b.path, `priority ${b.basePriority} in keepalived, raised by the positive track weights (${b.raise})`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b.out)) {
    if (k === 'vrrp-version') out['priority'] = priority;
    if (v !== undefined) out[k] = v;
  }
  if (b.checks.length > 0) out['checks'] = b.checks;
  if (Object.keys(b.hooks).length > 0) out['hooks'] = b.hooks;
  return out;
}
