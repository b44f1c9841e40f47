/**
 * The validated, frozen configuration of an agent. Produced only by `validateConfig`; every
 * field has its default filled in, so consumers never re-apply defaults.
 */
import type { AddressFamily, VrrpVersion } from '../fsm/types.js';
import type { AlertsConfig } from './alerts.js';
import type { RealServer, VirtualService } from '../lb/types.js';
import type { Vip } from '../net/address.js';
import type { SelfFenceSetting } from '../fence/self-fence.js';

export type Role = 'auto' | 'master' | 'backup';

export type AuthConfig =
  | { readonly type: 'none' }
  | { readonly type: 'pass'; readonly password: string }
  | HmacAuthConfig;

/** enforce: sign, drop unsigned; permissive: sign, accept unsigned; receive-only: do not sign, accept unsigned. */
export type HmacMode = 'enforce' | 'permissive' | 'receive-only';

/** One `auth.keys` entry (keepalived `auth_hmac { key ID VALUE }`). */
export interface HmacKeyConfig {
  /** 1..255, carried in every signed advert. */
  readonly id: number;
  /** A `file:` key: the file its secret is read from when the config is loaded (not secret). */
  readonly file?: string;
  /**
   * The key, 32..64 bytes. Never printed. A `file:` key has it once the file has been read
   * (loadConfig does, for start, check-config and reload); validation alone leaves it out.
   */
  readonly secret?: Uint8Array;
}

/** HMAC-SHA256 authentication of every advert, wire-compatible with keepalived 2.4.2+ `auth_hmac`. */
export interface HmacAuthConfig {
  readonly type: 'hmac';
  /** In configured order; ids unique. */
  readonly keys: readonly HmacKeyConfig[];
  /** The id we sign with (one of `keys`). */
  readonly activeKey: number;
  /** time: freshness window and growth per sender (needs synced clocks); monotonic: growth only. */
  readonly antiReplay: 'time' | 'monotonic';
  /** Freshness window, whole seconds 1..300 (time mode). */
  readonly timeWindowSec: number;
  readonly mode: HmacMode;
}

export interface GarpConfig {
  /** Frames sent at takeover (0 disables announcing). */
  readonly burst: number;
  /** Gap between frames of one burst, ms. */
  readonly burstIntervalMs: number;
  /** Periodic re-announce while master, ms (0 = never). */
  readonly refreshMs: number;
}

export type CheckType = 'http' | 'tcp' | 'exec' | 'interface' | 'file';

interface CheckCommon {
  /** Unique within the instance; fault sources and metrics are named after it. */
  readonly name: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive successes that turn a failing check healthy. */
  readonly rise: number;
  /** Consecutive failures that turn a healthy check failing. */
  readonly fall: number;
  /** A failing check lowers the effective priority by this much; 0 puts the instance in FAULT. */
  readonly weight: number;
}

export type CheckConfig =
  | (CheckCommon & { readonly type: 'http'; readonly url: string; readonly expectStatus: readonly number[]; readonly bodyContains: string | undefined })
  | (CheckCommon & { readonly type: 'tcp'; readonly host: string; readonly port: number })
  | (CheckCommon & { readonly type: 'exec'; readonly command: readonly string[] })
  /** Link state of any NIC, from netlink events (no polling): up and running = healthy. */
  | (CheckCommon & { readonly type: 'interface'; readonly interface: string })
  /**
   * An integer in a file, added to the priority (negative lowers it): lets other tools steer the
   * agent. A missing or unparsable file counts as a failure.
   */
  | (CheckCommon & { readonly type: 'file'; readonly path: string });

export type HookName = 'before-master' | 'master' | 'backup' | 'fault' | 'stop';

export interface HookConfig {
  /** Argument vector, executed without a shell. */
  readonly command: readonly string[];
  readonly timeoutMs: number;
}

export type HooksConfig = Readonly<Partial<Record<HookName, HookConfig>>>;

/**
 * One `environment:` entry of an instance: a variable its hooks and exec checks get. Without a
 * value it is passed from the agent's own environment (and left out when the agent has none).
 */
export interface EnvironmentEntry {
  readonly name: string;
  /** A literal value (`NAME=value` in the config); absent = the agent's value of `name`. */
  readonly value?: string;
}

/** A haagent-only heartbeat path: peer hellos (UDP) over `interface` to the peer's `peer` address. */
export interface PathConfig {
  readonly interface: string;
  readonly peer: string;
}

/** A tie-breaker reachable over the external network: ICMP echo, TCP connect or HTTP. */
export type WitnessConfig =
  | { readonly type: 'icmp'; readonly address: string }
  | { readonly type: 'tcp'; readonly address: string; readonly port: number }
  | { readonly type: 'http'; readonly url: string };


/**
 * A virtual service and its real servers as configured: the one shape of src/core/lb/types.ts,
 * with the config's health checks.
 */
export type RealServerConfig = RealServer<CheckConfig>;
export type VirtualServiceConfig = VirtualService<CheckConfig>;

/** One takeover guard: run before this node becomes MASTER; exit 0 = pass. */
export interface GuardConfig {
  /** Unique within the instance (metrics label, HAAGENT_GUARD); default the command's basename. */
  readonly name: string;
  /** Argument vector, absolute path first; no shell. */
  readonly command: readonly string[];
  readonly timeoutMs: number;
}

/** How a takeover keeps the data consistent (src/core/fsm/takeover.ts); defaults are all off. */
export interface TakeoverConfig {
  /** All must pass before MASTER; empty = none. */
  readonly guards: readonly GuardConfig[];
  /** While a failed guard holds the takeover back, it is retried this often. */
  readonly guardRetryMs: number;
  /** waitForPeer: no MASTER before a peer was heard since boot, or timeoutMs passed. */
  readonly coldStart: { readonly waitForPeer: boolean; readonly timeoutMs: number };
  /** After a failed before-master: no MASTER for this long. */
  readonly promotionBackoffMs: number;
}

/** How an instance decides who is MASTER: VRRP alone, VRRP confirmed by an etcd lock, or etcd alone. */
export type ElectionMode = 'vrrp' | 'vrrp+etcd' | 'etcd';
/** vrrp+etcd: what a MASTER does when it cannot reach etcd (and so cannot tell who else can). */
export type EtcdUnreachable = 'keep' | 'release';

/** The etcd cluster the agent elects through (top-level `etcd:`; src/core/config/etcd.ts). */
export interface EtcdConfig {
  /** Client URLs (`http(s)://host:port`), tried in order; at least one. */
  readonly endpoints: readonly string[];
  /** Lease TTL asked for, whole seconds >= 1 (etcd may grant more). */
  readonly leaseTtlS: number;
  /** Keys live under PREFIX/INSTANCE/...; starts with "/", no trailing "/". */
  readonly prefix: string;
  /** Deadline of each HTTP call to one endpoint. */
  readonly requestTimeoutMs: number;
  /** Time between two lease keepalives. */
  readonly keepaliveIntervalMs: number;
  /** PEM file paths (absolute) for https endpoints; read by the etcd adapter when it is built. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

/** One conntrackd sync link (UDP between `local` and `peer` over `interface`). */
export interface ConntrackLink {
  readonly interface: string;
  readonly local: string;
  readonly peer: string;
}

/** Connection-state sync of an instance (`conntrack-sync`). */
export interface ConntrackSyncConfig {
  /** The main sync link first, then the redundant ones (conntrackd fails over between them). */
  readonly links: readonly ConntrackLink[];
  readonly port: number;
  /** The floating SNAT address (IPv4, with its prefix), present on the master only. */
  readonly snat: Vip;
  /** Where the floating address is added. */
  readonly snatInterface: string;
  /** Bound on `conntrackd -c` when taking over. */
  readonly commitTimeoutMs: number;
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
  /**
   * v3: the longest Master_Adver_Interval (cs) adopted from a master's advert; longer claims
   * are clamped to it, so a forged advert cannot stretch the takeover time beyond
   * 3 x this + Skew_Time. Default 3 x advertIntervalCs, at least 100 (1 s, keepalived's
   * default interval) and at most 4095. v2: advertIntervalCs.
   */
  readonly maxAdvertIntervalCs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /**
   * Priority 255 only: while MASTER, ignore received adverts (RFC 9568 §7.1 as published,
   * keepalived's owner_ignore_adverts). Default false: processed (erratum 8298), and logged.
   */
  readonly ownerIgnoreAdverts: boolean;
  /**
   * false (only with `peers`): adverts from the peers are accepted whatever their IPv4 TTL or
   * IPv6 hop limit, as keepalived does for unicast; absent = checked (255 only).
   */
  readonly unicastTtlCheck?: false;
  /**
   * VRRPv3 over IPv4: send the checksum over the message only, as RFC 9568 §5.2.8 defines it
   * (keepalived's v3_checksum_as_v2). Default false: with the IPv4 pseudo-header, keepalived's
   * default. Both forms are accepted on receive either way.
   */
  readonly v3ChecksumMessageOnly: boolean;
  /** VIPs, parsed once (canonical address, prefix, family), in configured order. */
  readonly vips: readonly Vip[];
  /** Unicast peers; empty = multicast (224.0.0.18 / ff02::12). */
  readonly peers: readonly string[];
  readonly auth: AuthConfig;
  readonly garp: GarpConfig;
  /** Optional address label for VIPs (IPv4 only, e.g. "ext0:vip"). */
  readonly vipLabel: string | undefined;
  readonly checks: readonly CheckConfig[];
  readonly hooks: HooksConfig;
  /**
   * Variables hooks and exec checks get beyond the fixed minimum (PATH, LANG, HAAGENT_*);
   * nothing else of the agent's environment reaches them.
   */
  readonly environment: readonly EnvironmentEntry[];
  /**
   * Extra heartbeat paths to haagent peers (hellos over UDP); the peer is considered gone only
   * when the VRRP path AND every one of these have been silent for Master_Down_Interval.
   */
  readonly paths: readonly PathConfig[];
  /** Witnesses: with paths, a node that hears no peer and reaches no witness is isolated. */
  readonly witness: readonly WitnessConfig[];
  /**
   * Kernel lifetime of the VIPs while master, refreshed with every advert, so a dead or frozen
   * agent cannot leave them behind. 'auto' = 3 x advert interval rounded down to whole seconds
   * (never under 1 s; never longer than the peer's Master_Down_Interval); 0 = forever (off).
   */
  readonly vipLifetimeSec: number | 'auto';
  /**
   * Opt-in: after a takeover by Master_Down_Timer (the old master went silent, it did not
   * release), add the VIPs only once the old master's lease has run out, so a killed or frozen
   * agent's VIP and ours never coexist. Costs lease + 1 s (kernel expiry granularity) -
   * Master_Down_Interval of extra outage.
   */
  readonly vipLeaseWait: boolean;
  /**
   * The master's self-fence (src/core/fence/self-fence.ts): nftables drops the VIPs' ARP and
   * traffic once its adverts stop leaving, within 3 x interval. auto = on from 50 ms adverts.
   */
  readonly selfFence: SelfFenceSetting;
  /**
   * `self-fence-backup-priority`: the highest effective priority any backup of this instance
   * runs with (1..254); the fence then expires just before THAT backup's Master_Down_Interval
   * (fenceTimeoutMs). Absent = auto: learned from peers' hellos where there are paths, else 254.
   */
  readonly selfFenceBackupPriority?: number;
  /** Load-balanced services on the VIPs; the master programs them. */
  readonly virtualServices: readonly VirtualServiceConfig[];
  /** Takeover guards, cold start, promotion backoff; absent = the defaults (all off, 10s backoff). */
  readonly takeover?: TakeoverConfig;
  /** Who decides MASTER (default 'vrrp'; the etcd modes need AgentConfig.etcd). */
  readonly election: ElectionMode;
  /** vrrp+etcd only (default 'release'); the other modes carry the default. */
  readonly etcdUnreachable: EtcdUnreachable;
  /** Connection-state sync with conntrackd and the floating SNAT address; absent = off. */
  readonly conntrackSync?: ConntrackSyncConfig;
}

export interface AgentConfig {
  /** Control socket path (unix, mode 0600). */
  readonly socketPath: string;
  readonly instances: readonly InstanceConfig[];
  /** Prometheus metrics listen address ("127.0.0.1:9650", "[::1]:9650"); undefined = off. */
  readonly metricsListen: string | undefined;
  /** Where fencing epochs are persisted (one file per instance). */
  readonly stateDir: string;
  /** UDP port of the peer hello channel (the same on every node). */
  readonly peerPort: number;
  /** Optional shared secret: hellos are authenticated with HMAC-SHA256 when set. */
  readonly peerKey: string | undefined;
  /** Where alerts go (webhook, syslog) and how often at most; no targets = off. */
  readonly alerts: AlertsConfig;
  /** The etcd cluster (top-level `etcd:`); undefined when not configured. */
  readonly etcd: EtcdConfig | undefined;
  /** SCHED_RR/FIFO for the main (VRRP) thread at start (src/adapters/realtime.ts); undefined = off. */
  readonly realtime?: { readonly priority: number; readonly policy: 'rr' | 'fifo' };
  /** Lock the agent's code and malloc heap in memory at start (src/adapters/realtime.ts). */
  readonly lockMemory?: boolean;
}

export const DEFAULT_STATE_DIR = '/var/lib/haagent';
export const DEFAULT_PEER_PORT = 5798;

export const DEFAULT_SOCKET_PATH = '/run/haagent/haagent.sock';
export const DEFAULT_CONFIG_PATH = '/etc/haagent/haagent.yaml';
