/**
 * A parsed keepalived.conf -> a haagent config (plain values in config-file spelling), the
 * comments to print above its parts, and a warning for every option not mapped (or not mapped
 * exactly). Pure; never throws. The result is not validated here: the caller runs it through
 * parseConfigYaml, as the operator's `check-config` would.
 *
 * Top-level blocks: vrrp_instance (instance.ts), vrrp_script and vrrp_track_file (track.ts),
 * global_defs (below), vrrp_sync_group (below), virtual_server (services.ts). Anything else is
 * reported.
 */
import type { PathSegment } from '../config/collector.js';
import { LIMITS } from '../config/limits.js';
import type { KaNode } from './parse.js';
import { finishInstance, mapInstance, type Defs, type GarpDefaults, type InstanceBuild } from './instance.js';
import { mapServices } from './services.js';
import { Sink, where, type ImportComment, type ImportWarning, type MapOptions } from './sink.js';
import { scriptDef, trackFileDef, trackInterfaces, trackScripts, trackFiles, type ScriptDef, type TrackFileDef, type WeightRule } from './track.js';

export type { ImportComment, ImportWarning, MapOptions } from './sink.js';

export interface ImportResult {
  readonly config: Record<string, unknown>;
  readonly comments: readonly ImportComment[];
  readonly warnings: readonly ImportWarning[];
}

function globalDefs(sink: Sink, node: KaNode): { version: 2 | 3 | undefined; garp: GarpDefaults } {
  const path: PathSegment[] = [];
  let version: 2 | 3 | undefined;
  const garp: GarpDefaults = {};
  for (const o of node.children ?? []) {
    switch (o.name) {
      case 'vrrp_version': { const v = sink.int(o, path, 2, 3); if (v === 2 || v === 3) version = v; break; }
      case 'vrrp_garp_master_repeat': garp.burst = sink.int(o, path, 0, 100) ?? garp.burst; break;
      case 'vrrp_garp_interval': garp.burstIntervalMs = sink.seconds(o, path, 60_000) ?? garp.burstIntervalMs; break;
      case 'vrrp_gna_interval': garp.gnaIntervalMs = sink.seconds(o, path, 60_000) ?? garp.gnaIntervalMs; break;
      case 'vrrp_garp_master_refresh': garp.refreshMs = sink.seconds(o, path, 86_400_000) ?? garp.refreshMs; break;
      case 'router_id': sink.warn(o, path, 'haagent has no router id (logs and alerts name the host and the instance)'); break;
      case 'script_user':
        sink.warn(o, path, 'haagent runs hooks and checks as its own user (root) with a minimal environment; drop privileges inside the scripts (e.g. setpriv or runuser)');
        break;
      case 'enable_script_security':
        sink.warn(o, path, 'haagent does not check script ownership; keep scripts root-owned and not writable by others');
        break;
      default: sink.warn(o, path, 'not mapped: haagent has no such global setting');
    }
  }
  return { version, garp };
}

/** The sync group options that let members keep their own weighted tracking (global_tracking is the old name). */
const TRACKING_WEIGHT: ReadonlySet<string> = new Set(['sync_group_tracking_weight', 'global_tracking']);

/** Names of the instances in a vrrp_sync_group without sync_group_tracking_weight. */
function unweightedMembers(nodes: readonly KaNode[]): Set<string> {
  const names = new Set<string>();
  for (const n of nodes) {
    if (n.name !== 'vrrp_sync_group' || (n.children ?? []).some((o) => TRACKING_WEIGHT.has(o.name))) continue;
    for (const g of (n.children ?? []).filter((o) => o.name === 'group')) for (const m of g.children ?? []) names.add(m.name);
  }
  return names;
}

/**
 * `vrrp_sync_group NAME { group { A B } track_* ... }`: the group's tracking is added to every
 * member. What does not map: members moving together (a member's FAULT or takeover does not move
 * the others in haagent) and group notify scripts.
 */
function syncGroup(sink: Sink, node: KaNode, builds: readonly InstanceBuild[], defs: Defs): void {
  const members: InstanceBuild[] = [];
  for (const g of (node.children ?? []).filter((o) => o.name === 'group')) {
    for (const m of g.children ?? []) {
      const b = builds.find((x) => x.name === m.name);
      if (b === undefined) sink.warn(m, [], `vrrp_sync_group ${node.args[0] ?? ''}: no vrrp_instance named "${m.name}"`);
      else members.push(b);
    }
  }
  const why = 'haagent has no sync groups: each member fails over on its own (the group\'s tracking is copied to every member, so a shared check moves them together; a member\'s own FAULT does not move the others)';
  sink.warn(node, members[0]?.path ?? [], why);
  for (const m of members.slice(1)) sink.note(m.path, `NOT MAPPED ${where(node.at)}: vrrp_sync_group ${node.args[0] ?? ''}: ${why}`);
  // keepalived clears the weights of the group's tracking when a member is an address owner.
  const rule: WeightRule = members.some((m) => m.basePriority === 255) ? 'owner-group' : 'weighted';
  for (const o of node.children ?? []) {
    if (o.name === 'group' || TRACKING_WEIGHT.has(o.name)) continue; // applied to the members' own tracking
    for (const m of members) {
      if (o.name === 'track_script') trackScripts(sink, o, defs.scripts, m, rule);
      else if (o.name === 'track_interface') trackInterfaces(sink, o, m, rule);
      else if (o.name === 'track_file') trackFiles(sink, o, defs.files, m, rule);
    }
    if (!['track_script', 'track_interface', 'track_file'].includes(o.name)) {
      sink.warn(o, members[0]?.path ?? [], o.name.startsWith('notify') ? 'group notify scripts do not map: use each member\'s hooks' : 'not mapped');
    }
  }
}

/** Maps the parsed nodes; never throws. */
export function mapKeepalived(nodes: readonly KaNode[], options: MapOptions = {}): ImportResult {
  const sink = new Sink(options);
  const scripts = new Map<string, ScriptDef>();
  const files = new Map<string, TrackFileDef>();
  let version: 2 | 3 | undefined;
  let garp: GarpDefaults = {};
  for (const n of nodes) {
    if (n.children === undefined) continue;
    const name = n.args[0];
    if (n.name === 'vrrp_script' && name !== undefined) scripts.set(name, scriptDef(sink, n));
    else if (n.name === 'vrrp_track_file' && name !== undefined) files.set(name, trackFileDef(sink, n));
    else if (n.name === 'global_defs') ({ version, garp } = globalDefs(sink, n));
  }
  const defs: Defs = { scripts, files, version, garp, unweightedMembers: unweightedMembers(nodes) };
  const builds: InstanceBuild[] = [];
  for (const n of nodes) {
    if (n.name !== 'vrrp_instance' || n.children === undefined) continue;
    if (builds.length >= LIMITS.instances) { sink.warn(n, [], `more than ${LIMITS.instances} instances: the rest are left out`); break; }
    sink.note(['instances', builds.length], `from vrrp_instance ${n.args[0] ?? ''} (${where(n.at)})`);
    builds.push(mapInstance(sink, n, builds.length, defs));
  }
  for (const n of nodes) {
    if (n.name === 'vrrp_sync_group') syncGroup(sink, n, builds, defs);
  }
  mapServices(sink, nodes.filter((n) => n.name === 'virtual_server'), builds);
  for (const n of nodes) {
    if (['vrrp_instance', 'vrrp_script', 'vrrp_track_file', 'global_defs', 'vrrp_sync_group', 'virtual_server'].includes(n.name) && n.children !== undefined) continue;
    sink.warn(n, [], n.children === undefined ? 'not mapped (an option outside any block)' : 'not mapped: haagent has no such block');
  }
  const instances = builds.map((b) => finishInstance(sink, b));
  return { config: { instances }, comments: sink.comments, warnings: sink.warnings };
}
