/**
 * Events the agent publishes as they happen: the `haagent events` stream (one JSON object per
 * line), the logs and the Prometheus counters all come from these. Fields are only ever added.
 */
import type { TakeoverBlockReason, VrrpState } from '../fsm/types.js';

interface Base {
  /** Wall-clock time, ISO 8601. */
  readonly at: string;
}

export type AgentEvent =
  | (Base & { readonly type: 'transition'; readonly instance: string; readonly vrid: number; readonly from: VrrpState; readonly to: VrrpState; readonly reason: string })
  /** `check`: a check's status changed (unknown/healthy/failing); `check-run`: every result (per run, like per packet). */
  | (Base & {
      readonly type: 'check' | 'check-run';
      readonly instance: string;
      readonly check: string;
      readonly status: 'healthy' | 'failing' | 'unknown';
      readonly ok: boolean;
      readonly detail: string;
      readonly latencyMs: number;
    })
  | (Base & { readonly type: 'priority'; readonly instance: string; readonly effectivePriority: number; readonly faults: readonly string[] })
  | (Base & {
      readonly type: 'hook';
      readonly instance: string;
      readonly hook: string;
      readonly ok: boolean;
      readonly exitCode: number | null;
      readonly timedOut: boolean;
      readonly durationMs: number;
    })
  | (Base & { readonly type: 'advert-sent' | 'advert-received'; readonly instance: string })
  | (Base & { readonly type: 'drop'; readonly instance: string | null; readonly iface: string; readonly reason: string })
  | (Base & { readonly type: 'maintenance'; readonly instance: string; readonly on: boolean })
  | (Base & { readonly type: 'reload'; readonly ok: boolean; readonly detail: string })
  /** A load balancer real server entered (up) or left the rotation; service = vip:port/tcp, server = addr:port. */
  | (Base & { readonly type: 'real-server'; readonly instance: string; readonly service: string; readonly server: string; readonly up: boolean })
  /** The master applied its nftables rules (ok) or failed to (detail = nft's message). */
  | (Base & { readonly type: 'lb-rules'; readonly ok: boolean; readonly services: number; readonly detail: string })
  /**
   * The fencing epoch's file: a write failed (persisted false while the held epoch is only in
   * memory), a corrupt file was found at start, the bound was reached, or a retry worked (ok).
   */
  | (Base & { readonly type: 'epoch-state'; readonly instance: string; readonly ok: boolean; readonly persisted: boolean; readonly detail: string })
  /**
   * A dangerous condition an operator must hear about that is not a transition: `kind` names it
   * (see WARNING_KINDS); `active: false` says it has cleared.
   */
  | (Base & { readonly type: 'warning'; readonly instance: string | null; readonly kind: WarningKind; readonly active: boolean; readonly detail: string })
  /** A takeover this node wants is held back (active), or no longer is (active false, the last reason). */
  | (Base & { readonly type: 'takeover-blocked'; readonly instance: string; readonly reason: TakeoverBlockReason; readonly detail: string; readonly active: boolean })
  /** One takeover guard ran (one per guard per attempt). */
  | (Base & { readonly type: 'guard'; readonly instance: string; readonly guard: string; readonly ok: boolean; readonly exitCode: number | null; readonly timedOut: boolean; readonly durationMs: number })
  /** The operator forced a takeover past the guards (`haagent promote --force`). */
  | (Base & { readonly type: 'promote-forced'; readonly instance: string })
  /**
   * Connection-state sync: conntrackd started or exited (`daemon`), the peer became reachable
   * or silent on the sync link (`peer`), the peer's connections were committed at a takeover
   * (`commit`, with its duration).
   */
  | (Base & { readonly type: 'conntrack-sync'; readonly instance: string; readonly kind: 'daemon' | 'peer' | 'commit'; readonly ok: boolean; readonly detail: string; readonly durationMs?: number });

/** The conditions a `warning` event reports. */
export const WARNING_KINDS = ['config-mismatch', 'isolated'] as const;
export type WarningKind = (typeof WARNING_KINDS)[number];

/** Every event type, in the order `haagent events --all` lists them. */
export const ALL_EVENT_TYPES: readonly AgentEvent['type'][] = [
  'transition', 'check', 'check-run', 'priority', 'hook', 'advert-sent', 'advert-received', 'drop', 'maintenance', 'reload', 'real-server', 'lb-rules', 'epoch-state',
  'warning', 'takeover-blocked', 'guard', 'promote-forced', 'conntrack-sync',
];

/** Event types that `haagent events` prints by default (check-run, guard, advert-sent/received and drop are per run or packet). */
export const DEFAULT_EVENT_TYPES: readonly AgentEvent['type'][] = ALL_EVENT_TYPES.filter((t) => t !== 'check-run' && t !== 'guard' && t !== 'advert-sent' && t !== 'advert-received' && t !== 'drop');
