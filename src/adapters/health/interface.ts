/**
 * Interface check: no polling; the daemon feeds link state from netlink events. Healthy when
 * the link is administratively up and running (carrier present).
 */
import type { CheckConfig } from '../../core/config/types.js';
import { errorText, type CheckResult } from './common.js';

export type InterfaceCheck = Extract<CheckConfig, { type: 'interface' }>;

export function linkResult(ifname: string, up: boolean, running: boolean): CheckResult {
  const ok = up && running;
  const detail = ok ? `${ifname}: up, running` : up ? `${ifname}: up but not running (no carrier)` : `${ifname}: down`;
  return { ok, detail, latencyMs: 0 };
}

/** A failed link-state query (e.g. the interface does not exist). */
export function linkErrorResult(ifname: string, err: unknown): CheckResult {
  return { ok: false, detail: `${ifname}: link state unavailable: ${errorText(err)}`, latencyMs: 0 };
}
