/**
 * Control-socket protocol shared by the daemon and the CLI: one JSON object per line, each way.
 *
 * Requests and replies:
 *   {"command":"status"}                              -> {"ok":true,"status":AgentStatus}
 *   {"command":"maintenance","on":true,"instance"?:N} -> {"ok":true,"message":"..."}
 *   {"command":"switchover","instance"?:N}            -> {"ok":true,"message":"..."}
 *   {"command":"promote","force":true,"instance"?:N}  -> {"ok":true,"message":"..."} (refused while a master is heard)
 *   {"command":"reload"}                              -> {"ok":true,"message":"..."}
 *   {"command":"events","types"?:[...]}               -> {"ok":true,"message":"subscribed"} then one
 *                                                        {"event":AgentEvent} line per event, until
 *                                                        the client closes the connection
 * Any failure: {"ok":false,"error":{"code":"HA_ERR_...","message":"..."}}
 *
 * The `--json` output of `haagent status` is exactly AgentStatus. Fields are only ever added,
 * never renamed or removed (stable for scripts).
 */
import type { TakeoverBlockReason, VrrpState } from '../fsm/types.js';

import { ALL_EVENT_TYPES, type AgentEvent } from './events.js';

export const CONTROL_COMMANDS = ['status', 'maintenance', 'switchover', 'reload', 'events', 'promote'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export type ControlRequest =
  | { readonly command: 'status' }
  | { readonly command: 'maintenance'; readonly on: boolean; readonly instance?: string }
  | { readonly command: 'switchover'; readonly instance?: string }
  /** Take over now past the guards, the cold-start wait and the backoff; `force` must be true. */
  | { readonly command: 'promote'; readonly force: true; readonly instance?: string }
  | { readonly command: 'reload' }
  | { readonly command: 'events'; readonly types?: readonly AgentEvent['type'][] };

export interface TransitionStatus {
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: string;
  /** Wall-clock time of the transition, ISO 8601. */
  readonly at: string;
}

export interface InstanceStatus {
  readonly name: string;
  readonly vrid: number;
  readonly state: VrrpState;
  readonly priority: number;
  readonly effectivePriority: number;
  readonly interface: string;
  readonly external: string;
  readonly vrrpVersion: 2 | 3;
  readonly advertIntervalMs: number;
  readonly preempt: boolean;
  readonly vips: readonly string[];
  /** This node's primary address on the heartbeat interface. */
  readonly address: string;
  /** The current master: ourselves when MASTER, the peer we hear when BACKUP, else null. */
  readonly master: { readonly address: string; readonly priority: number; readonly self: boolean } | null;
  readonly timeInStateMs: number;
  readonly transitions: readonly TransitionStatus[];
  readonly advertsSent: number;
  readonly advertsReceived: number;
  readonly drops: Readonly<Record<string, number>>;
  readonly faults: readonly string[];
  /** Kernel lifetime (s) of the VIPs while master, refreshed with each advert; 0 = forever. */
  readonly vipLifetimeSec: number;
  /** Fencing epoch this node took when it last became master (0 = never); see README. */
  readonly epoch: number;
  /** The highest epoch reported by a peer. */
  readonly maxEpochSeen: number;
  /**
   * The epoch held is on disk. false: its write failed (disk full, read-only...); the node acts
   * on the epoch held in memory and retries the write (see README, fencing epochs).
   */
  readonly epochPersisted?: boolean;
  /**
   * The epoch file's problem, when there is one: the failing write (file and errno), a corrupt
   * file found at start and where it was moved (for the life of the process), the epoch bound.
   */
  readonly epochStateError?: string;
  /** The last failed lease refresh, if the latest one failed. */
  readonly vipLeaseError?: string;
  /**
   * The self-fence (self-fence key): on for this instance, in the kernel now (master), its
   * element timeout (ms after the last advert that a dead master goes dark), the backup
   * priority that timeout is made for and where it comes from (self-fence-backup-priority:
   * 'config'; learned from peers' hellos: 'peers'; any backup, 254: 'any'), the last failure.
   */
  readonly selfFence?: {
    readonly enabled: boolean; readonly armed: boolean; readonly timeoutMs: number;
    readonly backupPriority: number; readonly backupPriorityFrom: 'config' | 'peers' | 'any'; readonly error?: string;
  };
  /** Operator maintenance (never becomes MASTER while on). */
  readonly maintenance: boolean;
  /** This instance's config fingerprint (VRID, VIPs, interval, version, auth), sent in hellos. */
  readonly fingerprint?: string;
  /** haagent peers heard over the hello paths (`paths`), with their config fingerprint match. */
  readonly peers?: readonly PeerStatus[];
  /**
   * VRRP senders whose adverts are dropped because their settings differ from ours (address
   * list, v2 interval, version): live peers this node will not hear. Absent when there are none.
   */
  readonly vrrpMismatches?: readonly { readonly from: string; readonly reason: string; readonly theirs: readonly string[]; readonly dropped: number; readonly lastSeenAgoMs: number }[];
  /** No peer on any path and no witness reachable: this node holds no VIP. */
  readonly isolated?: boolean;
  readonly witness?: readonly { readonly target: string; readonly ok: boolean | null; readonly detail: string }[];
  /** Transitions since start (the list above keeps only the last ones). */
  readonly transitionsTotal: number;
  readonly checks: readonly CheckSummary[];
  /** Last hook runs, newest last. */
  readonly hooks: readonly HookRunStatus[];
  /** The instance's virtual services (load balancer on the VIP) and their real servers. */
  readonly services?: readonly VirtualServiceStatus[];
  /** Where a takeover stands (guards, cold start, backoff, demote hook). */
  readonly takeover?: TakeoverStatus;
  /** Election on etcd (absent for plain VRRP): etcd reachable, the holder of the leader key and its epoch. */
  readonly election?: ElectionStatus;
  /** Connection-state sync (conntrackd), when the instance has `conntrack-sync`. */
  readonly conntrackSync?: ConntrackSyncStatus;
}

/** Status `election` of an instance elected on etcd. */
export interface ElectionStatus {
  readonly mode: 'vrrp+etcd' | 'etcd';
  /** The last read of the instance's keys worked. */
  readonly reachable: boolean;
  /** Address of the leader key's holder at the last read; absent = free (or never read). */
  readonly holder?: string;
  /** The holder's epoch (the key's create revision). */
  readonly holderEpoch?: number;
  /** MASTER kept while etcd could not be reached (etcd-unreachable: keep). */
  readonly keptWithoutEtcd?: boolean;
}

/**
 * The instance's conntrackd: whether it runs, whether the peer is heard on the sync link, the
 * cache sizes from its statistics and the last commit (takeover). Counts are null until the
 * first statistics were read.
 */
export interface ConntrackSyncStatus {
  readonly running: boolean;
  readonly pid: number | null;
  /** Times conntrackd was started again after it exited. */
  readonly restarts: number;
  /** A sync packet from the peer arrived within the last PEER_SILENCE_MS. */
  readonly peerReachable: boolean;
  /** The link conntrackd sends on now (a redundant one after a failover). */
  readonly activeLink: string | null;
  /** This node's connections (sent to the peer). */
  readonly internalEntries: number | null;
  /** The peer's connections (committed into the kernel at a takeover). */
  readonly externalEntries: number | null;
  readonly lastCommit: { readonly ok: boolean; readonly durationMs: number; readonly at: string; readonly detail?: string } | null;
  /** The last problem (conntrackd exited, a command failed), cleared when it works again. */
  readonly error?: string;
}

/** One takeover guard's last run (status `takeover.guards`). */
export interface GuardRunStatus {
  readonly name: string;
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly outputTail: string;
  /** Why it could not be started, when it could not. */
  readonly error?: string;
}

/** Why a takeover this node wants is held back. */
export type { TakeoverBlockReason };

/**
 * The takeover rules of an instance (guards, cold start, promotion backoff, ordered demotion):
 * `blocked` while this node would take over but may not yet, with the reason and since when;
 * the last guard results when it has guards.
 */
export interface TakeoverStatus {
  readonly blocked: boolean;
  readonly reason?: TakeoverBlockReason;
  readonly detail?: string;
  /** Wall-clock time the block began, ISO 8601. */
  readonly since?: string;
  readonly guards?: readonly GuardRunStatus[];
}

export interface VirtualServiceStatus {
  readonly vip: string;
  readonly port: number;
  readonly protocol: 'tcp';
  readonly mode: 'nftables' | 'proxy';
  readonly scheduler: string;
  /** Served by this node now (it is MASTER of the instance). */
  readonly active: boolean;
  readonly realServers: readonly RealServerStatus[];
  /** While active: the last failure to apply the nftables rules, or the proxy's listen failure. */
  readonly error?: string;
}

export interface RealServerStatus {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  /** In the rotation (its check passes, or it has none). */
  readonly up: boolean;
  readonly check: { readonly type: string; readonly status: string; readonly detail: string | null } | null;
}

export interface PeerStatus {
  readonly node: string;
  readonly state: VrrpState;
  readonly priority: number;
  readonly epoch: number;
  readonly vrrpAddress: string;
  /** false = the peer's VRID/VIPs/interval/version/auth differ from ours (two masters ahead). */
  readonly fingerprintMatch: boolean;
  readonly lastSeenAgoMs: number;
  /** Path (interface) -> ms since a hello last came over it. */
  readonly paths: Readonly<Record<string, number>>;
}

export interface CheckSummary {
  readonly name: string;
  readonly type: string;
  readonly status: 'healthy' | 'failing' | 'unknown';
  readonly weight: number;
  readonly rise: number;
  readonly fall: number;
  readonly consecutiveOk: number;
  readonly consecutiveFail: number;
  /** `file` checks: the value currently added to the priority; else null. */
  readonly value: number | null;
  readonly lastResult: {
    readonly ok: boolean;
    readonly detail: string;
    readonly latencyMs: number;
    /** `file` checks that read an integer; else null. */
    readonly value: number | null;
    /** Wall-clock time of the result, ISO 8601. */
    readonly at: string;
    /** The agent's monotonic clock at the result. */
    readonly atMs: number;
    /** How long ago the result came in. */
    readonly ageMs: number;
  } | null;
}

export interface HookRunStatus {
  readonly hook: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly ok: boolean;
  readonly outputTail: string;
  /** How the hook was contained: "cgroup" (its own cgroup) or "process-group" (the fallback). */
  readonly containment?: string;
}

export interface AgentStatus {
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly instances: readonly InstanceStatus[];
  /** Packets dropped before any instance could be chosen (bad header, checksum, unknown VRID), by reason, per interface. */
  readonly interfaceDrops: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * Peer hellos dropped since start, by reason (`hello-unknown-source`, `hello-bad-mac`,
   * `hello-replay`, `hello-epoch-jump`...), for all instances; absent when no instance has paths.
   */
  readonly helloDrops?: Readonly<Record<string, number>>;
  /** Where the running config came from, and when it was last (re)loaded. */
  readonly configSource: string;
  readonly configLoadedAt: string;
  /** How hooks and exec checks are contained: "cgroup" or "process-group" (the fallback), and why. */
  readonly containment?: { readonly mode: string; readonly detail: string };
}

export type ControlReply =
  | { readonly ok: true; readonly status: AgentStatus }
  | { readonly ok: true; readonly message: string }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

const EVENT_TYPES = ALL_EVENT_TYPES;

/** Longest request line the parser reads, in UTF-16 code units (the server bounds it in bytes first). */
export const MAX_REQUEST_CHARS = 64 * 1024;
/**
 * Deepest bracket nesting a request may have. The deepest valid request (`events` with `types`)
 * has 2; anything past this is refused before JSON.parse ever sees it.
 */
export const MAX_REQUEST_DEPTH = 8;
/** Longest excerpt of client input quoted back in an error message, in characters. */
const EXCERPT_CHARS = 40;

/** A refused request: HA_ERR_LIMIT when over a bound, HA_ERR_INVALID_ARGUMENT when malformed. */
export interface ControlRequestError {
  readonly ok: false;
  readonly code: 'HA_ERR_LIMIT' | 'HA_ERR_INVALID_ARGUMENT';
  /** Names the problem; quotes at most EXCERPT_CHARS of the input, with control and format characters escaped. */
  readonly message: string;
}

export type ControlRequestResult = { readonly ok: true; readonly request: ControlRequest } | ControlRequestError;

const invalid = (message: string): ControlRequestError => ({ ok: false, code: 'HA_ERR_INVALID_ARGUMENT', message });
const overLimit = (message: string): ControlRequestError => ({ ok: false, code: 'HA_ERR_LIMIT', message });

/**
 * The 0-based index of the bracket that first takes the nesting past `maxDepth`, or -1.
 * Brackets inside JSON strings do not count. One pass, constant memory; it does not check that
 * the text is JSON (JSON.parse does that afterwards, on text known to be shallow).
 */
export function nestingPastDepth(text: string, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return -1;
}

/**
 * A short, printable rendering of a client-supplied value for an error message: a string is
 * quoted, cut to EXCERPT_CHARS and has its control, format and unassigned characters escaped;
 * other values are named by type (an array by its length). Never serializes a whole value, so
 * it is bounded whatever the input and cannot recurse.
 */
export function excerpt(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > EXCERPT_CHARS ? `${value.slice(0, EXCERPT_CHARS)}...` : value;
    const quoted = JSON.stringify(cut);
    return quoted.replace(/[\p{C}\p{Zl}\p{Zp}]/gu, (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length} item(s)`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Parses one request line. Never throws, whatever the string: a line longer than
 * MAX_REQUEST_CHARS or nested deeper than MAX_REQUEST_DEPTH is refused (HA_ERR_LIMIT) before
 * it is parsed; malformed requests get HA_ERR_INVALID_ARGUMENT. Messages quote the input only
 * through `excerpt`. Extra fields are ignored.
 */
export function parseControlRequest(line: string): ControlRequestResult {
  if (line.length > MAX_REQUEST_CHARS) return overLimit(`request is ${line.length} characters long; at most ${MAX_REQUEST_CHARS}`);
  const deep = nestingPastDepth(line, MAX_REQUEST_DEPTH);
  if (deep >= 0) return overLimit(`request nests brackets deeper than ${MAX_REQUEST_DEPTH} levels (at character ${deep + 1}); requests are flat objects`);
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return invalid('request is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return invalid('request must be a JSON object');
  const r = v as Record<string, unknown>;
  const command = Object.hasOwn(r, 'command') ? r['command'] : undefined;
  if (command === undefined) return invalid(`request has no "command" (known: ${CONTROL_COMMANDS.join(', ')})`);
  if (typeof command !== 'string' || !(CONTROL_COMMANDS as readonly string[]).includes(command)) {
    return invalid(`unknown command ${excerpt(command)} (known: ${CONTROL_COMMANDS.join(', ')})`);
  }
  const instance = Object.hasOwn(r, 'instance') ? r['instance'] : undefined;
  if (instance !== undefined && (typeof instance !== 'string' || instance === '')) return invalid(`"instance" must be a non-empty string, got ${excerpt(instance)}`);
  const inst = instance === undefined ? {} : { instance };
  switch (command as ControlCommand) {
    case 'status':
      return { ok: true, request: { command: 'status' } };
    case 'reload':
      return { ok: true, request: { command: 'reload' } };
    case 'switchover':
      return { ok: true, request: { command: 'switchover', ...inst } };
    case 'promote': {
      const force = Object.hasOwn(r, 'force') ? r['force'] : undefined;
      if (force !== true) return invalid(`promote overrides the takeover guards and needs "force": true, got ${excerpt(force)}`);
      return { ok: true, request: { command: 'promote', force: true, ...inst } };
    }
    case 'maintenance': {
      const on = Object.hasOwn(r, 'on') ? r['on'] : undefined;
      if (typeof on !== 'boolean') return invalid(`maintenance needs "on": true or false, got ${excerpt(on)}`);
      return { ok: true, request: { command: 'maintenance', on, ...inst } };
    }
    case 'events': {
      const types = Object.hasOwn(r, 'types') ? r['types'] : undefined;
      if (types === undefined) return { ok: true, request: { command: 'events' } };
      const known = EVENT_TYPES as readonly string[];
      const bad = Array.isArray(types) ? (types as unknown[]).find((x) => typeof x !== 'string' || !known.includes(x)) : types;
      if (!Array.isArray(types) || bad !== undefined) {
        return invalid(`"types" must be a list of: ${EVENT_TYPES.join(', ')}; got ${excerpt(bad)}`);
      }
      return { ok: true, request: { command: 'events', types: types as AgentEvent['type'][] } };
    }
  }
}
