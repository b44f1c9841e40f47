/**
 * The validated, frozen configuration of an agent. Produced only by `validateConfig`; every
 * field has its default filled in, so consumers never re-apply defaults.
 */
import type { AddressFamily, VrrpVersion } from '../fsm/types.js';

export type Role = 'auto' | 'master' | 'backup';

export type AuthConfig = { readonly type: 'none' } | { readonly type: 'pass'; readonly password: string };

export interface GarpConfig {
  /** Frames sent at takeover (0 disables announcing). */
  readonly burst: number;
  /** Gap between frames of one burst, ms. */
  readonly burstIntervalMs: number;
  /** Periodic re-announce while master, ms (0 = never). */
  readonly refreshMs: number;
}

export interface InstanceConfig {
  readonly name: string;
  readonly vrid: number;
  readonly role: Role;
  /** Heartbeat NIC: VRRP adverts are sent and received here. */
  readonly interface: string;
  /** NIC where the VIPs live (defaults to `interface`). */
  readonly external: string;
  readonly family: AddressFamily;
  readonly version: VrrpVersion;
  readonly priority: number;
  readonly advertIntervalCs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /** VIPs in CIDR form, configured order. */
  readonly vips: readonly string[];
  /** Unicast peers; empty = multicast (224.0.0.18 / ff02::12). */
  readonly peers: readonly string[];
  readonly auth: AuthConfig;
  readonly garp: GarpConfig;
  /** Optional address label for VIPs (IPv4 only, e.g. "ext0:vip"). */
  readonly vipLabel: string | undefined;
}

export interface AgentConfig {
  /** Control socket path (unix, mode 0600). */
  readonly socketPath: string;
  readonly instances: readonly InstanceConfig[];
}

export const DEFAULT_SOCKET_PATH = '/run/haagent/haagent.sock';
export const DEFAULT_CONFIG_PATH = '/etc/haagent/haagent.yaml';
