/**
 * TEMPORARY: the config fields of the election on etcd as agreed, until the config parsing
 * lands (then this file goes). Module augmentation only; no runtime code.
 */
export type ElectionMode = 'vrrp' | 'vrrp+etcd' | 'etcd';
export interface EtcdConfig {
  readonly endpoints: readonly string[]; readonly leaseTtlS: number; readonly prefix: string;
  readonly requestTimeoutMs: number; readonly keepaliveIntervalMs: number;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}
declare module '../core/config/types.js' {
  interface InstanceConfig {
    readonly election?: ElectionMode;
    readonly etcdUnreachable?: 'keep' | 'release';
  }
  interface AgentConfig {
    readonly etcd?: EtcdConfig | undefined;
  }
}
