/**
 * Control-socket protocol shared by the daemon and the CLI: one JSON object per line, each way.
 *
 * Request:  {"command":"status"}
 * Reply:    {"ok":true,"status":AgentStatus} | {"ok":false,"error":{"code":"HA_ERR_...","message":"..."}}
 *
 * The `--json` output of `haagent status` is exactly AgentStatus. Fields are only ever added,
 * never renamed or removed (stable for scripts).
 */
import type { VrrpState } from '../fsm/types.js';

export const CONTROL_COMMANDS = ['status'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface ControlRequest {
  readonly command: ControlCommand;
}

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
}

export interface AgentStatus {
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly instances: readonly InstanceStatus[];
  /** Packets dropped before any instance could be chosen (bad header, checksum, unknown VRID), by reason, per interface. */
  readonly interfaceDrops: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export type ControlReply =
  | { readonly ok: true; readonly status: AgentStatus }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

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
  return { ok: true, request: { command: command as ControlCommand } };
}
