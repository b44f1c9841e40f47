/**
 * Which agent events deserve to reach a person (an alert), and how they read. Pure: the daemon
 * feeds events in and hands the alerts to its sinks (webhook, syslog) after rate limiting.
 *
 * Alerted: a transition into FAULT (critical) and into or out of MASTER (warning: the VIP moved),
 * a failed hook (critical for before-master and fault, warning otherwise), a failed reload
 * (warning), nftables rules that could not be applied (critical), a fencing epoch file that
 * cannot be written or was corrupt (critical; info when it works again), and every `warning`
 * event (config mismatch, isolation: critical while active, info once cleared), a takeover held
 * back (critical while it is: no node may serve the VIP; info once it no longer is) and a forced
 * promotion (warning: an operator overrode the takeover guards).
 * Deliberately not alerted: checks and priorities (a failing check shows up as its FAULT or as
 * the VIP moving), per-packet events, maintenance (an operator asked for it).
 */
import type { AgentEvent } from '../control/events.js';

export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface Alert {
  /** Stable name of the condition, e.g. `transition-fault`, `hook-failed`, `config-mismatch`. */
  readonly kind: string;
  readonly severity: AlertSeverity;
  /** Instance name, or null for the agent as a whole. */
  readonly instance: string | null;
  /** One line for a human. */
  readonly summary: string;
  /** Wall-clock time of the event, ISO 8601. */
  readonly at: string;
  /** False when the condition has cleared (Alertmanager's endsAt is then set). */
  readonly firing: boolean;
}

function make(ev: AgentEvent, kind: string, severity: AlertSeverity, instance: string | null, summary: string, firing = true): Alert {
  return Object.freeze({ kind, severity, instance, summary, at: ev.at, firing });
}

/** The alert for `ev`, or undefined when the event is not alert-worthy (see the module rules). */
export function alertOf(ev: AgentEvent): Alert | undefined {
  switch (ev.type) {
    case 'transition':
      if (ev.to === 'FAULT') return make(ev, 'transition-fault', 'critical', ev.instance, `${ev.instance} (VRID ${ev.vrid}) entered FAULT from ${ev.from}: ${ev.reason}`);
      if (ev.to === 'MASTER') return make(ev, 'transition-master', 'warning', ev.instance, `${ev.instance} (VRID ${ev.vrid}) became MASTER (was ${ev.from}): ${ev.reason}`);
      if (ev.from === 'MASTER') return make(ev, 'transition-left-master', 'warning', ev.instance, `${ev.instance} (VRID ${ev.vrid}) left MASTER for ${ev.to}: ${ev.reason}`);
      return undefined;
    case 'hook': {
      if (ev.ok) return undefined;
      const how = ev.timedOut ? 'timed out' : `exited ${ev.exitCode === null ? 'on a signal' : `with status ${ev.exitCode}`}`;
      const severity = ev.hook === 'before-master' || ev.hook === 'fault' ? 'critical' : 'warning';
      return make(ev, 'hook-failed', severity, ev.instance, `${ev.instance}: the ${ev.hook} hook ${how} after ${Math.round(ev.durationMs)} ms`);
    }
    case 'reload':
      return ev.ok ? undefined : make(ev, 'reload-refused', 'warning', null, `reload refused, the running config stays: ${ev.detail}`);
    case 'lb-rules':
      return ev.ok ? undefined : make(ev, 'lb-rules-failed', 'critical', null, `load balancer rules could not be applied: ${ev.detail}`);
    case 'epoch-state':
      return make(ev, 'epoch-state', ev.ok ? 'info' : 'critical', ev.instance, `${ev.instance}: ${ev.ok ? 'epoch file healthy again: ' : 'fencing epoch file problem: '}${ev.detail}`, !ev.ok);
    case 'warning':
      return make(ev, ev.kind, ev.active ? 'critical' : 'info', ev.instance, `${ev.instance === null ? '' : `${ev.instance}: `}${ev.active ? '' : 'cleared: '}${ev.detail}`, ev.active);
    case 'takeover-blocked':
      return make(ev, 'takeover-blocked', ev.active ? 'critical' : 'info', ev.instance,
        ev.active ? `${ev.instance}: takeover held back (${ev.reason}): ${ev.detail}` : `${ev.instance}: takeover no longer held back (${ev.reason})`, ev.active);
    case 'promote-forced':
      return make(ev, 'promote-forced', 'warning', ev.instance, `${ev.instance}: takeover forced by the operator (promote --force), past the takeover guards`);
    default:
      return undefined;
  }
}
