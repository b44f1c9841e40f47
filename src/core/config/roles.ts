/**
 * Role presets (`haagent start --role`). Explicit settings always override these.
 * - master: prefers mastership: priority 150, preempt on.
 * - backup: priority 100, never preempts a healthy master.
 * - auto:   equal priority on both hosts (100); the RFC tie-break (higher primary address)
 *           decides the first election; a healthy master is never preempted.
 */
import type { Role } from './types.js';

export interface RoleDefaults {
  readonly priority: number;
  readonly preempt: boolean;
}

export const ROLE_DEFAULTS: Readonly<Record<Role, RoleDefaults>> = {
  master: { priority: 150, preempt: true },
  backup: { priority: 100, preempt: false },
  auto: { priority: 100, preempt: false },
};

export const ROLES: readonly Role[] = ['auto', 'master', 'backup'];
