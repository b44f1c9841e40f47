/**
 * Control-socket protocol shared by the daemon and the CLI: one JSON object per line, each way.
 *
 * Requests and replies:
 *   {"command":"status"}                              -> {"ok":true,"status":AgentStatus}
 *   {"command":"maintenance","on":true,"instance"?:N} -> {"ok":true,"message":"..."}
 *   {"command":"switchover","instance"?:N}            -> {"ok":true,"message":"..."}
 *   {"command":"reload"}                              -> {"ok":true,"message":"..."}
 *   {"command":"events","types"?:[...]}               -> {"ok":true,"message":"subscribed"} then one
 *                                                        {"event":AgentEvent} line per event, until
 *                                                        the client closes the connection
 * Any failure: {"ok":false,"error":{"code":"HA_ERR_...","message":"..."}}
 *
 * The `--json` output of `haagent status` is exactly AgentStatus. Fields are only ever added,
 * never renamed or removed (stable for scripts).
 */
import type { VrrpState } from '../fsm/types.js';

import { ALL_EVENT_TYPES, type AgentEvent } from './events.js';

export const CONTROL_COMMANDS = ['status', 'maintenance', 'switchover', 'reload', 'events'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export type ControlRequest =
  | { readonly command: 'status' }
  | { readonly command: 'maintenance'; readonly on: boolean; readonly instance?: string }
  | { readonly command: 'switchover'; readonly instance?: string }
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
  /** The last failed lease refresh, if the latest one failed. */
  readonly vipLeaseError?: string;
  /** Operator maintenance (never becomes MASTER while on). */
  readonly maintenance: boolean;
  /** This instance's config fingerprint (VRID, VIPs, interval, version, auth), sent in hellos. */
  readonly fingerprint?: string;
  /** haagent peers heard over the hello paths (`paths`), with their config fingerprint match. */
  readonly peers?: readonly PeerStatus[];
  /** No peer on any path and no witness reachable: this node holds no VIP. */
  readonly isolated?: boolean;
  readonly witness?: readonly { readonly target: string; readonly ok: boolean | null; readonly detail: string }[];
  /** Transitions since start (the list above keeps only the last ones). */
  readonly transitionsTotal: number;
  readonly checks: readonly CheckStatus[];
  /** Last hook runs, newest last. */
  readonly hooks: readonly HookRunStatus[];
  /** The instance's virtual services (load balancer on the VIP) and their real servers. */
  readonly services?: readonly VirtualServiceStatus[];
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

export interface CheckStatus {
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

/** Parses one request line; never throws. */
export function parseControlRequest(line: string): { ok: true; request: ControlRequest } | { ok: false; message: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { ok: false, message: 'request is not valid JSON' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, message: 'request must be a JSON object' };
  const command = (v as Record<string, unknown>)['command'];
  if (typeof command !== 'string' || !(CONTROL_COMMANDS as readonly string[]).includes(command)) {
    return { ok: false, message: `unknown command ${JSON.stringify(command)} (known: ${CONTROL_COMMANDS.join(', ')})` };
  }
  const r = v as Record<string, unknown>;
  const instance = r['instance'];
  if (instance !== undefined && (typeof instance !== 'string' || instance === '')) return { ok: false, message: '"instance" must be a non-empty string' };
  const inst = instance === undefined ? {} : { instance };
  switch (command as ControlCommand) {
    case 'status':
      return { ok: true, request: { command: 'status' } };
    case 'reload':
      return { ok: true, request: { command: 'reload' } };
    case 'switchover':
      return { ok: true, request: { command: 'switchover', ...inst } };
    case 'maintenance': {
      const on = r['on'];
      if (typeof on !== 'boolean') return { ok: false, message: 'maintenance needs "on": true or false' };
      return { ok: true, request: { command: 'maintenance', on, ...inst } };
    }
    case 'events': {
      const types = r['types'];
      if (types === undefined) return { ok: true, request: { command: 'events' } };
      if (!Array.isArray(types) || !types.every((x) => typeof x === 'string' && (EVENT_TYPES as readonly string[]).includes(x))) {
        return { ok: false, message: `"types" must be a list of: ${EVENT_TYPES.join(', ')}` };
      }
      return { ok: true, request: { command: 'events', types: types as AgentEvent['type'][] } };
    }
  }
}
