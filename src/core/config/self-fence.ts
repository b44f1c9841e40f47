/**
 * The self-fence keys of an instance (src/core/fence/self-fence.ts for the fence itself):
 * `self-fence: auto | on | off` and `self-fence-backup-priority: auto | 1..254`, and their
 * check against the instance's election mode.
 *
 * Deliberately not checked: that the backups really run with at most the configured priority
 * (they are other hosts' configs); the key's documentation says what a too-low value costs.
 */
import type { Collector, PathSegment } from './collector.js';
import { shown } from './collector.js';
import { SELF_FENCE_SETTINGS, type SelfFenceSetting } from '../fence/self-fence.js';
import type { InstanceConfig } from './types.js';

/** `self-fence: auto | on | off` (default auto; true/false mean on/off). */
export function parseSelfFence(c: Collector, raw: unknown, path: readonly PathSegment[]): SelfFenceSetting {
  if (raw === undefined) return 'auto';
  if (raw === false) return 'off';
  if (raw === true) return 'on';
  if (typeof raw === 'string' && (SELF_FENCE_SETTINGS as readonly string[]).includes(raw)) return raw as SelfFenceSetting;
  c.fail(path, `must be one of ${SELF_FENCE_SETTINGS.join(', ')}, got ${shown(raw)}`);
  return 'auto';
}

/**
 * `self-fence-backup-priority: auto | 1..254` (default auto): the highest effective priority any
 * backup of this instance runs with. Returns the integer, or undefined for auto (and for a bad
 * value, after reporting it).
 */
export function parseFenceBackupPriority(c: Collector, raw: unknown, path: readonly PathSegment[]): number | undefined {
  if (raw === undefined || raw === 'auto') return undefined;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= 254) return raw;
  return c.fail(path, `must be auto or an integer from 1 to 254 (the highest priority a backup of this instance runs with), got ${shown(raw)}`);
}

/**
 * An instance elected on etcd sends no adverts, so nothing could refresh a fence: `self-fence:
 * on` and a configured backup priority are refused there (its etcd lease fences it instead).
 */
export function checkSelfFence(c: Collector, inst: InstanceConfig, index: number): void {
  if (inst.election !== 'etcd') return;
  if (inst.selfFence === 'on') {
    c.fail(['instances', index, 'self-fence'], 'needs VRRP adverts to refresh the fence, and election: etcd sends none (its etcd lease fences it); use auto or off');
  }
  if (inst.selfFenceBackupPriority !== undefined) {
    c.fail(['instances', index, 'self-fence-backup-priority'], 'applies to the self-fence, which needs VRRP adverts, and election: etcd sends none (its etcd lease fences it); remove it or use auto');
  }
}
