/**
 * keepalived tracking -> haagent checks: `vrrp_script` definitions, and an instance's (or sync
 * group's) `track_script`, `track_interface` and `track_file`.
 *
 * Weights, exactly: keepalived's weight 0 puts the instance in FAULT while the tracked thing is
 * down, as haagent's weight 0 does. A negative weight -N subtracts N while down: haagent weight
 * N. A positive weight +N adds N while up: the same priorities come out of haagent weight N with
 * the instance's priority raised by N (up: base + N; down: base). keepalived clamps the
 * effective priority to 1..254 as haagent does; only a raised priority over 254 is not exact
 * (reported). Where keepalived itself ignores or clears weights (an address owner, sync group
 * members), the same is done here and reported: see WeightRule.
 */
import type { PathSegment } from '../config/collector.js';
import { IFNAME } from '../config/collector.js';
import { duration, safeName, uniqueName, where, type Sink } from './sink.js';
import { commandLine } from './command.js';
import type { KaNode } from './parse.js';

export interface ScriptDef {
  readonly node: KaNode;
  /** Undefined when the script could not be mapped (already reported). */
  readonly command: readonly string[] | undefined;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  readonly weight: number;
}

export interface TrackFileDef {
  readonly node: KaNode;
  readonly path: string | undefined;
  readonly weight: number;
}

/** An instance's checks as they are built (the mapper owns the objects until printing). */
export interface CheckTarget {
  readonly path: readonly PathSegment[];
  readonly checks: Record<string, unknown>[];
  readonly names: Set<string>;
  /** Sum of positive keepalived weights: added to the priority. */
  raise: number;
}

/**
 * Which weights keepalived honours for a tracking entry (its vrrp_complete_instance and sync
 * group set-up):
 * - `weighted`: all of them;
 * - `owner`: an address owner's (priority 255) own tracking: weighted scripts and interfaces are
 *   not tracked, a track_file weight 1 (the default) becomes 0, another weight is not tracked;
 * - `sync-member`: a vrrp_sync_group member's own tracking when the group has no
 *   sync_group_tracking_weight: weighted scripts are not tracked, interfaces get weight 0, track
 *   files as for an owner;
 * - `owner-group`: a sync group's own tracking when a member is an address owner: every weight
 *   becomes 0.
 * A weight made 0 means FAULT while down, in keepalived as in haagent.
 */
export type WeightRule = 'weighted' | 'owner' | 'sync-member' | 'owner-group';

const RULE_REASON: Readonly<Record<Exclude<WeightRule, 'weighted'>, string>> = {
  owner: 'keepalived ignores weighted tracking for an address owner (priority 255)',
  'sync-member': 'keepalived ignores weighted tracking of a vrrp_sync_group member unless the group sets sync_group_tracking_weight',
  'owner-group': 'keepalived clears the weights of a sync group\'s tracking when a member has priority 255',
};

/** keepalived's weight range (vrrp_script and track_* weights). */
const MAX_KA_WEIGHT = 253;

/** `vrrp_script NAME { ... }` -> its definition; problems are reported at the top of the output. */
export function scriptDef(sink: Sink, node: KaNode): ScriptDef {
  const path: PathSegment[] = [];
  let line: string | undefined;
  let lineNode: KaNode = node;
  let intervalMs = 1000;
  let timeoutMs: number | undefined;
  let timeoutNode: KaNode = node;
  let rise = 1;
  let fall = 1;
  let weight = 0;
  for (const o of node.children ?? []) {
    switch (o.name) {
      case 'script':
        lineNode = o;
        line = commandLine(o);
        break;
      case 'interval': intervalMs = sink.seconds(o, path, 3_600_000) ?? intervalMs; break;
      case 'timeout': timeoutNode = o; timeoutMs = sink.seconds(o, path, 3_600_000) ?? timeoutMs; break;
      case 'rise': rise = sink.int(o, path, 1, 100) ?? rise; break;
      case 'fall': fall = sink.int(o, path, 1, 100) ?? fall; break;
      case 'weight': {
        if (o.args.includes('reverse')) sink.warn(o, path, `vrrp_script ${node.args[0] ?? ''}: "reverse" (a weight applied the other way round) has no haagent equivalent; ignored`);
        const w = sink.int({ ...o, args: o.args.filter((a) => a !== 'reverse') }, path, -MAX_KA_WEIGHT, MAX_KA_WEIGHT);
        weight = w ?? weight;
        break;
      }
      default:
        sink.warn(o, path, `vrrp_script ${node.args[0] ?? ''}: not mapped (haagent checks have no such setting)`);
    }
  }
  if (intervalMs < 100) {
    sink.warn(node, path, `vrrp_script ${node.args[0] ?? ''}: interval ${intervalMs} ms raised to 100ms (the shortest haagent check interval)`);
    intervalMs = 100;
  }
  // keepalived kills a script that runs longer than its timeout (default: the interval);
  // haagent needs the timeout within the interval.
  const fittedMs = Math.max(10, Math.min(timeoutMs ?? intervalMs, intervalMs));
  if (timeoutMs !== undefined && fittedMs !== timeoutMs) {
    sink.warn(timeoutNode, path, `vrrp_script ${node.args[0] ?? ''}: timeout ${timeoutMs / 1000}s does not fit haagent (10ms up to the interval, ${duration(intervalMs)}); ${duration(fittedMs)} used, so a slow script fails sooner than in keepalived`);
  }
  timeoutMs = fittedMs;
  let command: readonly string[] | undefined;
  if (line === undefined) sink.warn(node, path, `vrrp_script ${node.args[0] ?? ''} has no script line`);
  else command = sink.command(lineNode, line, path);
  return { node, command, intervalMs, timeoutMs, rise, fall, weight };
}

/** `vrrp_track_file NAME { file PATH; weight W }` -> its definition. */
export function trackFileDef(sink: Sink, node: KaNode): TrackFileDef {
  let path: string | undefined;
  let weight = 1;
  for (const o of node.children ?? []) {
    if (o.name === 'file') path = sink.arg(o, []);
    else if (o.name === 'weight') weight = sink.int(o, [], -MAX_KA_WEIGHT, MAX_KA_WEIGHT) ?? weight;
    else sink.warn(o, [], `vrrp_track_file ${node.args[0] ?? ''}: not mapped`);
  }
  return { node, path, weight };
}

/** `weight N` among a track entry's arguments (undefined when absent); "reverse" is reported. */
function entryWeight(sink: Sink, entry: KaNode, path: readonly PathSegment[]): number | undefined | 'bad' {
  let weight: number | undefined;
  for (let i = 0; i < entry.args.length; i += 1) {
    const a = entry.args[i];
    if (a === 'weight') {
      const v = entry.args[i + 1] ?? '';
      if (!/^-?\d+$/.test(v) || Math.abs(Number(v)) > MAX_KA_WEIGHT) {
        sink.warn(entry, path, `weight must be an integer from -${MAX_KA_WEIGHT} to ${MAX_KA_WEIGHT}`);
        return 'bad';
      }
      weight = Number(v);
      i += 1;
    } else if (a === 'reverse') {
      sink.warn(entry, path, '"reverse" (a weight applied the other way round) has no haagent equivalent; not tracked');
      return 'bad';
    } else {
      sink.warn(entry, path, `"${a}" not mapped`);
    }
  }
  return weight;
}

function add(sink: Sink, t: CheckTarget, entry: KaNode, check: Record<string, unknown>, kaWeight: number): void {
  const index = t.checks.length;
  const path = [...t.path, 'checks', index];
  check['weight'] = Math.abs(kaWeight);
  t.checks.push(check);
  const what = `${where(entry.at)}: ${entry.name}`;
  if (kaWeight > 0) {
    t.raise += kaWeight;
    sink.note(path, `${what}: keepalived weight +${kaWeight} (added while up) = priority raised by ${kaWeight}, lowered by ${kaWeight} while down`);
  } else if (kaWeight < 0) {
    sink.note(path, `${what}: keepalived weight ${kaWeight} (subtracted while down)`);
  } else {
    sink.note(path, `${what}: keepalived weight 0: FAULT while down`);
  }
}

/** `track_script { NAME [weight W] ... }` -> exec checks on `t`, weights as `rule` allows. */
export function trackScripts(sink: Sink, block: KaNode, scripts: ReadonlyMap<string, ScriptDef>, t: CheckTarget, rule: WeightRule = 'weighted'): void {
  for (const entry of block.children ?? []) {
    const def = scripts.get(entry.name);
    if (def === undefined) { sink.warn(entry, t.path, `no vrrp_script named "${entry.name}"`); continue; }
    if (def.command === undefined) { sink.warn(entry, t.path, `vrrp_script ${entry.name} could not be mapped (see the top of this file)`); continue; }
    const w = entryWeight(sink, entry, t.path);
    if (w === 'bad') continue;
    let weight = w ?? def.weight;
    if (weight !== 0 && rule !== 'weighted') {
      if (rule !== 'owner-group') { sink.warn(entry, t.path, `weight ${weight}: ${RULE_REASON[rule]}; not tracked`); continue; }
      sink.warn(entry, t.path, `weight ${weight}: ${RULE_REASON[rule]}; weight 0 used (FAULT while failing)`);
      weight = 0;
    }
    add(sink, t, entry, {
      name: uniqueName(safeName(entry.name, 'script'), t.names), type: 'exec', command: [...def.command],
      interval: duration(def.intervalMs), timeout: duration(def.timeoutMs), rise: def.rise, fall: def.fall,
    }, weight);
  }
}

/** `track_interface { IFNAME [weight W] ... }` -> interface checks on `t` (FAULT while down unless weighted), weights as `rule` allows. */
export function trackInterfaces(sink: Sink, block: KaNode, t: CheckTarget, rule: WeightRule = 'weighted'): void {
  for (const entry of block.children ?? []) {
    if (!IFNAME.test(entry.name)) { sink.warn(entry, t.path, 'is not a valid interface name'); continue; }
    const w = entryWeight(sink, entry, t.path);
    if (w === 'bad') continue;
    let weight = w ?? 0;
    if (weight !== 0 && rule !== 'weighted') {
      if (rule === 'owner') { sink.warn(entry, t.path, `weight ${weight}: ${RULE_REASON[rule]}; not tracked`); continue; }
      sink.warn(entry, t.path, `weight ${weight}: ${RULE_REASON[rule]}; weight 0 used (FAULT while down)`);
      weight = 0;
    }
    add(sink, t, entry, { name: uniqueName(safeName(`if-${entry.name}`, 'interface'), t.names), type: 'interface', interface: entry.name }, weight);
  }
}

/**
 * `track_file { NAME [weight W] }` -> file checks. keepalived adds value x weight; haagent's
 * file check adds the value itself, so only weight 1 maps (other weights are reported).
 */
export function trackFiles(sink: Sink, block: KaNode, files: ReadonlyMap<string, TrackFileDef>, t: CheckTarget, rule: WeightRule = 'weighted'): void {
  for (const entry of block.children ?? []) {
    const def = files.get(entry.name);
    if (def === undefined) { sink.warn(entry, t.path, `no vrrp_track_file named "${entry.name}"`); continue; }
    if (def.path === undefined || !def.path.startsWith('/')) { sink.warn(entry, t.path, `vrrp_track_file ${entry.name} has no absolute file path`); continue; }
    const w = entryWeight(sink, entry, t.path);
    if (w === 'bad') continue;
    const weight = w ?? def.weight;
    if (weight !== 0 && rule !== 'weighted') {
      // keepalived makes weight 1 (or, in a group, any weight) 0: FAULT while the value is not 0. haagent has no such file check.
      const zero = weight === 1 || rule === 'owner-group';
      sink.warn(entry, t.path, `weight ${weight}: ${RULE_REASON[rule]}; ${zero ? 'keepalived uses weight 0 (FAULT while the file holds a value other than 0), which haagent\'s file check cannot do' : 'keepalived does not track it'}; not tracked`);
      continue;
    }
    if (weight !== 1) { sink.warn(entry, t.path, `weight ${weight}: keepalived adds the file's value times the weight; haagent adds the value itself (weight 1 only)`); continue; }
    const index = t.checks.length;
    t.checks.push({ name: uniqueName(safeName(`file-${entry.name}`, 'file'), t.names), type: 'file', path: def.path });
    sink.note([...t.path, 'checks', index], `${where(entry.at)}: track_file ${entry.name}: the file's value is added to the priority (weight 1); in haagent a missing or unreadable file is a failed check: FAULT`);
  }
}
