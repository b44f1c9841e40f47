/**
 * The documented config keys: every key the validator accepts, at every level, with its type,
 * default, a one-line description and an example value (YAML). haagent.yaml(5) is generated from
 * this list, and a unit test compares it with the key sets the validator accepts (both ways), so
 * a key cannot be added to the validator without being documented here.
 *
 * Data only: it does not validate anything (validate.ts and its helpers do), and the defaults
 * here are text for readers, not values the validator reads.
 */

export interface ConfigKeyDoc {
  readonly key: string;
  /** e.g. "integer 1..255", "duration", "list of CIDR strings". */
  readonly type: string;
  /** The default as text, or "required", or "none". */
  readonly default: string;
  readonly description: string;
  /** A YAML value for this key (flow style when it is a mapping or a list). */
  readonly example: string;
  /** Only for these values of the mapping's `type` key (checks, witnesses); absent: always. */
  readonly onlyFor?: readonly string[];
}

export interface ConfigKeyGroup {
  /** Where the mapping is: "" (top level), "instances[]", "instances[].garp", ... */
  readonly path: string;
  /** One line about the mapping. */
  readonly title: string;
  readonly keys: readonly ConfigKeyDoc[];
}

const HOOK = (name: string, when: string): ConfigKeyDoc => ({
  key: name, type: 'argument list, or a hook mapping', default: 'none', description: when,
  example: `["/usr/local/sbin/on-${name}"]`,
});

const CHECK_COMMON: readonly ConfigKeyDoc[] = [
  { key: 'name', type: 'string [A-Za-z0-9_.-]{1,64}', default: '<type><index>', description: 'name in logs, status and metrics; unique per instance', example: 'web' },
  { key: 'type', type: 'http | tcp | exec | interface | file', default: 'required', description: 'what is checked (the keys below marked with a type belong to it)', example: 'http' },
  { key: 'interval', type: 'duration >= 100ms', default: '2s', description: 'time between two runs', example: '2s' },
  { key: 'timeout', type: 'duration 10ms..interval', default: '1s (at most the interval)', description: 'a run that takes longer fails', example: '1s' },
  { key: 'rise', type: 'integer 1..100', default: '2', description: 'successes in a row before the check is up', example: '2' },
  { key: 'fall', type: 'integer 1..100', default: '2', description: 'failures in a row before the check is down', example: '2' },
  { key: 'weight', type: 'integer 0..253', default: '0', description: 'priority lowered by this while down; 0 puts the instance in FAULT instead', example: '20' },
  { key: 'url', type: 'http(s) URL', default: 'required', description: 'the URL fetched', example: 'http://127.0.0.1/health', onlyFor: ['http'] },
  { key: 'expect-status', type: 'status code or list of them (100..599)', default: '200', description: 'statuses that count as up', example: '[200, 204]', onlyFor: ['http'] },
  { key: 'body-contains', type: 'string', default: 'none', description: 'text the body must contain', example: 'ok', onlyFor: ['http'] },
  { key: 'host', type: 'IP address', default: '127.0.0.1', description: 'address connected to (no DNS)', example: '127.0.0.1', onlyFor: ['tcp'] },
  { key: 'port', type: 'integer 1..65535', default: 'required', description: 'port connected to', example: '5432', onlyFor: ['tcp'] },
  { key: 'command', type: 'argument list, absolute path first', default: 'required', description: 'run without a shell; up when it exits 0 (killed at the timeout)', example: '["/usr/bin/pg_isready", "-q"]', onlyFor: ['exec'] },
  { key: 'interface', type: 'interface name', default: 'required', description: 'up while the NIC is up with carrier (netlink events)', example: 'eth0', onlyFor: ['interface'] },
  { key: 'path', type: 'absolute path', default: 'required', description: 'a file holding an integer that is ADDED to the priority', example: '/run/haagent-bias', onlyFor: ['file'] },
];

export const CONFIG_KEY_GROUPS: readonly ConfigKeyGroup[] = [
  {
    path: '', title: 'the top level of the file',
    keys: [
      { key: 'instances', type: 'list of instance mappings', default: 'required', description: 'the VRRP instances (virtual routers) of this host; at least one', example: '[{ vrid: 51, interface: eth1, vips: ["192.0.2.10/24"] }]' },
      { key: 'realtime', type: 'mapping { priority, policy }', default: 'none (SCHED_OTHER)', description: 'real-time scheduling for the main (VRRP) thread only, so adverts and timers hold with every CPU busy; new threads and hooks start as SCHED_OTHER', example: '{ priority: 10, policy: rr }' },
      { key: 'lock-memory', type: 'boolean', default: 'false', description: 'lock the agent\'s code (node, libraries, addon), malloc heap and stack in RAM as they are used (not V8\'s own heap: V8 aborts on locked memory it frees)', example: 'true' },
      { key: 'socket', type: 'absolute path', default: '/run/haagent/haagent.sock', description: 'control socket (mode 0600) used by status, events, reload, maintenance, switchover', example: '/run/haagent/haagent.sock' },
      { key: 'state-dir', type: 'absolute path', default: '/var/lib/haagent', description: 'where fencing epochs are kept (root-only directory)', example: '/var/lib/haagent' },
      { key: 'metrics', type: 'mapping { listen }', default: 'none (no metrics server)', description: 'Prometheus metrics on http://ADDRESS:PORT/metrics', example: '{ listen: "127.0.0.1:9650" }' },
      { key: 'peer-port', type: 'integer 1..65535', default: '5798', description: 'UDP port of the hellos between haagent peers (paths)', example: '5798' },
      { key: 'peer-key', type: 'string', default: 'none; required when an instance has paths', description: 'shared secret: hellos are authenticated with HMAC-SHA256; never printed', example: 'a-long-random-secret' },
      { key: 'alerts', type: 'mapping { targets, rate-limit }', default: 'none (no alerts)', description: 'webhook and syslog alerts, rate-limited', example: '{ targets: [{ type: syslog }] }' },
      { key: 'etcd', type: 'mapping { endpoints, lease, prefix, request-timeout, keepalive-interval, tls }', default: 'none; required when an instance has election vrrp+etcd or etcd', description: 'the etcd cluster instances elect through (quorum-based election)', example: '{ endpoints: ["http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"], lease: 2s }' },
    ],
  },
  {
    path: 'etcd', title: 'the etcd cluster (its v3 JSON gateway, over HTTP)',
    keys: [
      { key: 'endpoints', type: 'list of http(s)://host:port (1..16)', default: 'required', description: 'client URLs of the etcd members; tried in order, the last one that answered first', example: '["http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"]' },
      { key: 'lease', type: 'duration in whole seconds (1s..1h)', default: '2s', description: 'lease TTL: a holder that stops renewing loses its keys after this; etcd may grant more than asked (1s needs a tuned etcd)', example: '2s' },
      { key: 'prefix', type: 'key prefix, /segment[/segment...]', default: '/haagent', description: 'keys live under PREFIX/INSTANCE/', example: '/haagent' },
      { key: 'request-timeout', type: 'duration 10ms..10s', default: '300ms', description: 'deadline of each call to one endpoint; the next endpoint is tried after it', example: '300ms' },
      { key: 'keepalive-interval', type: 'duration >= 100ms', default: 'lease / 8, at least 100ms', description: 'time between lease keepalives; keepalive-interval + 2 x request-timeout must be under the lease', example: '250ms' },
      { key: 'tls', type: 'mapping { ca, cert, key }', default: 'none', description: 'PEM files for https endpoints (read when the agent starts)', example: '{ ca: /etc/haagent/etcd-ca.pem }' },
    ],
  },
  {
    path: 'etcd.tls', title: 'TLS for https etcd endpoints',
    keys: [
      { key: 'ca', type: 'absolute path', default: 'the system CAs', description: 'CA certificate(s) the members\' certificates are checked against', example: '/etc/haagent/etcd-ca.pem' },
      { key: 'cert', type: 'absolute path', default: 'none', description: 'client certificate (with key)', example: '/etc/haagent/etcd-client.pem' },
      { key: 'key', type: 'absolute path', default: 'none', description: 'private key of the client certificate (never printed)', example: '/etc/haagent/etcd-client-key.pem' },
    ],
  },
  {
    path: 'realtime', title: 'real-time scheduling of the main thread (and the threads started before it)',
    keys: [
      { key: 'priority', type: 'integer 1..99', default: 'required', description: 'SCHED_RR/FIFO priority (needs CAP_SYS_NICE or LimitRTPRIO= at least this, one more for the advert-train thread to run one above; RestrictRealtime=no)', example: '10' },
      { key: 'policy', type: 'rr | fifo', default: 'rr', description: 'the real-time policy', example: 'rr' },
    ],
  },
  {
    path: 'alerts', title: 'telling the administrator (transitions, FAULT, failed hooks, config mismatches, isolation, epoch file problems)',
    keys: [
      { key: 'targets', type: 'list of target mappings (at most 16)', default: 'none (no alerts)', description: 'where alerts go: webhooks and syslog', example: '[{ type: webhook, url: "http://127.0.0.1:9093/api/v2/alerts" }, { type: syslog }]' },
      { key: 'rate-limit', type: 'mapping { burst, per }', default: '{ burst: 5, per: 1m }', description: 'at most burst alerts of one kind and instance per period; the suppressed ones are counted in the next', example: '{ burst: 5, per: 1m }' },
    ],
  },
  {
    path: 'alerts.targets[]', title: 'one alert target',
    keys: [
      { key: 'type', type: 'webhook | syslog', default: 'required', description: 'an HTTP POST of JSON, or a syslog message', example: 'webhook' },
      { key: 'url', type: 'http(s) URL', default: 'required', description: 'where the JSON is posted; its path may hold a token (never printed)', example: '"http://127.0.0.1:9093/api/v2/alerts"', onlyFor: ['webhook'] },
      { key: 'format', type: 'alertmanager | chat', default: 'alertmanager', description: 'Prometheus Alertmanager API v2 array, or { "text": ... } for chat incoming webhooks', example: 'chat', onlyFor: ['webhook'] },
      { key: 'timeout', type: 'duration 100ms..1m', default: '5s', description: 'how long one delivery may take', example: '5s', onlyFor: ['webhook'] },
      { key: 'facility', type: 'daemon | local0..local7', default: 'daemon', description: 'the syslog facility', example: 'local3', onlyFor: ['syslog'] },
      { key: 'address', type: 'IP[:PORT]', default: 'none (this host\'s syslog through logger)', description: 'a remote collector: one RFC 5424 datagram over UDP (port 514 by default)', example: '"192.0.2.5:514"', onlyFor: ['syslog'] },
    ],
  },
  {
    path: 'alerts.rate-limit', title: 'the alert rate limit',
    keys: [
      { key: 'burst', type: 'integer 1..1000', default: '5', description: 'alerts of one kind and instance sent at once', example: '5' },
      { key: 'per', type: 'duration 1s..24h', default: '1m', description: 'the time in which the burst is refilled', example: '1m' },
    ],
  },
  {
    path: 'metrics', title: 'the metrics server',
    keys: [
      { key: 'listen', type: 'ADDRESS:PORT ([v6]:PORT)', default: 'none', description: 'where /metrics is served', example: '"127.0.0.1:9650"' },
    ],
  },
  {
    path: 'instances[]', title: 'one VRRP instance (virtual router)',
    keys: [
      { key: 'vrid', type: 'integer 1..255', default: 'required', description: 'virtual router ID; the same on both hosts, unique per interface', example: '51' },
      { key: 'interface', type: 'interface name', default: 'required', description: 'the NIC that carries the VRRP heartbeats', example: 'eth1' },
      { key: 'vips', type: 'list of CIDR strings', default: 'required', description: 'the virtual addresses (one address family per instance, at most 255)', example: '["192.0.2.10/24"]' },
      { key: 'name', type: 'string', default: 'vrid<vrid>', description: 'instance name in logs, status, metrics and --instance', example: 'web' },
      { key: 'role', type: 'auto | master | backup', default: 'auto', description: 'preset: master = priority 150 + preempt; backup and auto = 100, no preempt', example: 'master' },
      { key: 'external', type: 'interface name', default: 'the interface', description: 'the NIC where the VIPs are added', example: 'eth0' },
      { key: 'priority', type: 'integer 1..255', default: 'from the role', description: 'VRRP priority; the higher wins (255 = address owner)', example: '150' },
      { key: 'advert-interval', type: 'duration', default: '1s', description: 'advertisement interval (v2: whole seconds; v3: 10ms steps up to 40.95s); a master advertises on the multiples of it on the agent\'s clock, so all instances with the same interval advertise together (the first gap after becoming master is shorter)', example: '1s' },
      { key: 'vrrp-version', type: '2 | 3', default: '3', description: 'VRRP version (keepalived defaults to 2)', example: '3' },
      { key: 'preempt', type: 'boolean', default: 'from the role', description: 'take over from a lower-priority master', example: 'true' },
      { key: 'preempt-delay', type: 'duration <= 1h', default: '0', description: 'wait this long before preempting', example: '30s' },
      { key: 'v3-checksum', type: 'pseudo-header | message (VRRPv3 over IPv4)', default: 'pseudo-header', description: 'the checksum of sent adverts: with the IPv4 pseudo-header (keepalived\'s default) or over the message only (RFC 9568 5.2.8, keepalived v3_checksum_as_v2); both are accepted', example: 'message' },
      { key: 'unicast-ttl-check', type: 'boolean (with peers only)', default: 'true', description: 'false: adverts from the unicast peers are accepted whatever their IPv4 TTL or IPv6 hop limit, as keepalived does for unicast (its IPv6 unicast adverts leave with the kernel default hop limit 64); the source must still be a configured peer', example: 'false' },
      { key: 'owner-ignore-adverts', type: 'boolean (priority 255 only)', default: 'false', description: 'the address owner, while master, ignores every advert it receives (RFC 9568 7.1 as published; false = processed and logged, erratum 8298)', example: 'false' },
      { key: 'peers', type: 'list of IP addresses (IPv6: link-local)', default: 'none (multicast 224.0.0.18 / ff02::12)', description: 'unicast peers instead of multicast; adverts from any other source are dropped (unknown-source)', example: '["192.0.2.2"]' },
      { key: 'max-advert-interval', type: 'duration (VRRPv3), 10ms steps, up to 40.95s', default: '3 x advert-interval, at least 1s', description: 'the longest advert interval a backup adopts from a master; a longer claim is clamped, so one forged advert cannot silence a takeover for minutes', example: '3s' },
      { key: 'auth', type: 'mapping { type, ... }', default: '{ type: none }', description: 'HMAC-SHA256 on every advert (keepalived 2.4 auth_hmac, v2 and v3), or the VRRPv2 simple password', example: '{ type: hmac, keys: { 1: "file:/etc/haagent/vrrp51.key" } }' },
      { key: 'garp', type: 'mapping { burst, burst-interval, refresh }', default: '{ burst: 5, burst-interval: 100ms, refresh: 10s }', description: 'gratuitous ARP / unsolicited NA after a takeover', example: '{ burst: 5, burst-interval: 100ms, refresh: 10s }' },
      { key: 'vip-label', type: 'string, at most 15 characters', default: 'none', description: 'IPv4 address label for the VIPs (e.g. eth0:vip)', example: 'eth0:vip' },
      { key: 'checks', type: 'list of check mappings', default: 'none', description: 'health checks that lower the priority or put the instance in FAULT', example: '[{ type: tcp, port: 80 }]' },
      { key: 'hooks', type: 'mapping of hook name to command', default: 'none', description: 'commands run on transitions', example: '{ master: ["/usr/local/sbin/on-master"] }' },
      { key: 'paths', type: 'list of { interface, peer }', default: 'none', description: 'extra heartbeat paths: UDP hellos between haagent peers', example: '[{ interface: eth0, peer: 192.0.2.2 }]' },
      { key: 'witness', type: 'list of witness mappings', default: 'none', description: 'tie-breakers telling an isolated node from a lone survivor (needs paths)', example: '[{ type: icmp, address: 192.0.2.1 }]' },
      { key: 'vip-lifetime', type: 'auto | off | duration in whole seconds (1s..24h)', default: 'auto', description: 'kernel lifetime of the VIPs while master, renewed by every advert (auto = 3 x interval)', example: 'auto' },
      { key: 'environment', type: 'list of NAME or NAME=value (at most 64)', default: 'none', description: 'what hooks and exec checks get beyond PATH, LANG and HAAGENT_*: a bare NAME passes the agent\'s own value, NAME=value a literal', example: '[PGPASSFILE, "TZ=UTC"]' },
      { key: 'self-fence', type: 'auto | on | off', default: 'auto', description: 'while master, nftables (table netdev haagent_fence) drops the VIPs\' ARP and traffic once adverts stop leaving, so a killed or frozen agent goes dark before a backup takes over; refreshed by the kernel with each advert; auto = on from 50ms adverts (never with election: etcd, which sends no adverts)', example: 'auto' },
      { key: 'self-fence-backup-priority', type: 'auto | integer 1..254', default: 'auto', description: 'the highest priority (effective, after tracking) any backup of this instance runs with: the fence then expires 20ms before THAT backup\'s Master_Down_Interval instead of the fastest possible one (3 x interval + its Skew_Time), so a killed master is dark for less time; set too low, a higher-priority backup takes over up to the difference in Skew_Time before the fence expires and two MACs answer meanwhile; auto = learned from the peers\' hellos when the instance has paths (the highest priority a peer reports as BACKUP; 254 while any peer ever heard is silent or none is BACKUP), else 254 (any backup: safe); backups that send no hellos (no paths, another implementation) are not seen: set it by hand then; refused with election: etcd', example: '100' },
      { key: 'vip-lease-wait', type: 'boolean', default: 'false', description: 'after a takeover from a silent master, add the VIPs only once its lease has run out', example: 'false' },
      { key: 'virtual-services', type: 'list of virtual service mappings', default: 'none', description: 'TCP load balancing on the VIPs while master', example: '[{ port: 80, real-servers: [{ address: 10.0.0.11 }] }]' },
      { key: 'guards', type: 'list of guard mappings or argument lists (at most 8)', default: 'none', description: 'takeover guards: every one must exit 0 before this node becomes MASTER; while one fails the node stays BACKUP', example: '[{ command: ["/etc/haagent/guard-fresh"], timeout: 5s }]' },
      { key: 'guard-retry', type: 'duration 100ms..1h', default: '2s', description: 'while a failed guard holds the takeover back, the guards run again this often', example: '2s' },
      { key: 'cold-start', type: 'mapping { wait-for-peer, timeout }', default: '{ wait-for-peer: false, timeout: 60s }', description: 'after boot, no MASTER before a peer was heard once, or the timeout passed (then the guards decide)', example: '{ wait-for-peer: true, timeout: 60s }' },
      { key: 'election', type: 'vrrp | vrrp+etcd | etcd', default: 'vrrp', description: 'who decides MASTER: VRRP alone, VRRP plus an etcd lock a MASTER must hold, or etcd alone (needs the top-level etcd)', example: 'vrrp+etcd' },
      { key: 'etcd-unreachable', type: 'keep | release', default: 'release', description: 'vrrp+etcd only: what a MASTER does when it cannot reach etcd (release = give up the VIPs, the safe choice)', example: 'release' },
      { key: 'promotion-backoff', type: 'duration <= 1h', default: '10s', description: 'after a failed or timed-out before-master hook (no VIP added, priority 0 sent), no MASTER for this long', example: '10s' },
      { key: 'conntrack-sync', type: 'mapping { interface, local, peer, port, redundant, snat-address, snat-interface, commit-timeout }', default: 'none (off)', description: 'connection-state sync with conntrackd (FTFW over UDP) so balanced connections survive a takeover; needs nftables-mode virtual services, IPv4', example: '{ interface: int0, local: 10.66.0.11, peer: 10.66.0.12, snat-address: 10.66.0.100/24 }' },
    ],
  },
  {
    path: 'instances[].conntrack-sync', title: 'connection-state sync (conntrackd) and the floating SNAT address',
    keys: [
      { key: 'interface', type: 'interface name', default: 'required', description: 'the sync link: the internal network or a dedicated one', example: 'int0' },
      { key: 'local', type: 'IPv4 address', default: 'required', description: 'this node\'s address on the sync link', example: '10.66.0.11' },
      { key: 'peer', type: 'IPv4 address', default: 'required', description: 'the other node\'s address on the sync link', example: '10.66.0.12' },
      { key: 'port', type: 'integer 1..65535', default: '3780', description: 'UDP port of the sync messages', example: '3780' },
      { key: 'redundant', type: 'list of { interface, local, peer } (at most 3)', default: 'none', description: 'further sync links conntrackd moves to when the one in use goes down', example: '[{ interface: sync1, local: 10.79.0.1, peer: 10.79.0.2 }]' },
      { key: 'snat-address', type: 'IPv4 CIDR', default: 'required', description: 'floating source address of balanced connections, on the master only (like a VIP); every nftables service is NATed to it', example: '10.66.0.100/24' },
      { key: 'snat-interface', type: 'interface name', default: 'the sync interface', description: 'where the floating address is added (the real servers\' network)', example: 'int0' },
      { key: 'commit-timeout', type: 'duration 100ms..1m', default: '5s', description: 'bound on committing the peer\'s connections when taking over (before the rules and VIPs)', example: '5s' },
    ],
  },
  {
    path: 'instances[].conntrack-sync.redundant[]', title: 'one redundant sync link',
    keys: [
      { key: 'interface', type: 'interface name', default: 'required', description: 'the NIC of this link', example: 'sync1' },
      { key: 'local', type: 'IPv4 address', default: 'required', description: 'this node\'s address on it', example: '10.79.0.1' },
      { key: 'peer', type: 'IPv4 address', default: 'required', description: 'the other node\'s address on it', example: '10.79.0.2' },
    ],
  },
  {
    path: 'instances[].guards[]', title: 'one takeover guard (an argument list, or this mapping)',
    keys: [
      { key: 'command', type: 'argument list, absolute path first', default: 'required', description: 'run without a shell, contained like a hook; passes when it exits 0', example: '["/etc/haagent/guard-fresh"]' },
      { key: 'timeout', type: 'duration 10ms..10m', default: '5s', description: 'a guard still running then is killed and counts as failed', example: '5s' },
      { key: 'name', type: 'string [A-Za-z0-9_.-]{1,64}', default: 'the basename of the command', description: 'name in status, logs, metrics and HAAGENT_GUARD; unique per instance', example: 'fresh' },
    ],
  },
  {
    path: 'instances[].cold-start', title: 'waiting for a peer after boot',
    keys: [
      { key: 'wait-for-peer', type: 'boolean', default: 'false', description: 'no MASTER until a peer (VRRP advert or hello) was heard once since boot', example: 'true' },
      { key: 'timeout', type: 'duration 100ms..24h', default: '60s', description: 'after this, a node still alone may take over if its guards pass (none: it may)', example: '60s' },
    ],
  },
  {
    path: 'instances[].auth', title: 'advert authentication (type hmac: keepalived 2.4 auth_hmac; type pass: VRRPv2 password)',
    keys: [
      { key: 'type', type: 'none | hmac | pass', default: 'none', description: 'hmac = HMAC-SHA256 trailer on every advert, v2 and v3 (wire-compatible with keepalived 2.4.2+); pass = simple password (VRRPv2 only, no protection)', example: 'hmac' },
      { key: 'keys', type: 'mapping of key id (1..255) to "hex:...", "file:/path" or an ASCII string; 32..64 bytes', default: 'required with type hmac', description: 'the shared keys, the same ids on every node; a file key is read at load and must be a root-owned 0600 file (never printed)', example: '{ 1: "file:/etc/haagent/vrrp51.key" }', onlyFor: ['hmac'] },
      { key: 'active-key', type: 'integer 1..255, one of keys', default: 'the only key; required with several', description: 'the key adverts are signed with; receivers accept every configured id (rotation)', example: '1', onlyFor: ['hmac'] },
      { key: 'anti-replay', type: 'time | monotonic', default: 'time', description: 'time: adverts must be within time-window of our clock (needs NTP) and grow per sender; monotonic: only grow', example: 'time', onlyFor: ['hmac'] },
      { key: 'time-window', type: 'whole seconds 1s..300s', default: 'max(3 x advert-interval, 5s)', description: 'freshness window of time mode', example: '5s', onlyFor: ['hmac'] },
      { key: 'mode', type: 'enforce | permissive | receive-only', default: 'enforce', description: 'enforce: sign, drop unsigned; permissive: sign, accept unsigned; receive-only: do not sign, accept unsigned (migrate receive-only -> permissive -> enforce)', example: 'enforce', onlyFor: ['hmac'] },
      { key: 'password', type: 'string, at most 8 bytes', default: 'required with type pass', description: 'the password (never printed)', example: 'secret', onlyFor: ['pass'] },
    ],
  },
  {
    path: 'instances[].garp', title: 'announcements after a takeover',
    keys: [
      { key: 'burst', type: 'integer 0..100', default: '5', description: 'gratuitous ARPs / NAs sent right after becoming master', example: '5' },
      { key: 'burst-interval', type: 'duration', default: '100ms', description: 'time between the burst\'s announcements', example: '100ms' },
      { key: 'refresh', type: 'duration', default: '10s', description: 'periodic re-announcement while master; 0 = off', example: '10s' },
    ],
  },
  { path: 'instances[].checks[]', title: 'one health check', keys: CHECK_COMMON },
  {
    path: 'instances[].hooks', title: 'transition hooks (each an argument list, or { command, timeout })',
    keys: [
      HOOK('before-master', 'run and awaited before the VIPs are added'),
      HOOK('master', 'run once the VIPs are in place'),
      HOOK('backup', 'run once the VIPs are gone after leaving MASTER'),
      HOOK('fault', 'run on entering FAULT'),
      HOOK('stop', 'run when the instance stops'),
    ],
  },
  {
    path: 'instances[].hooks.<hook>', title: 'a hook in its long form',
    keys: [
      { key: 'command', type: 'argument list, absolute path first', default: 'required', description: 'run without a shell, in its own process group', example: '["/usr/local/sbin/on-master", "--now"]' },
      { key: 'timeout', type: 'duration 10ms..1h', default: '30s', description: 'the hook (with its process group) is killed after this', example: '30s' },
    ],
  },
  {
    path: 'instances[].paths[]', title: 'an extra heartbeat path',
    keys: [
      { key: 'interface', type: 'interface name', default: 'required', description: 'the local NIC of this path', example: 'eth0' },
      { key: 'peer', type: 'IP address', default: 'required', description: 'the peer\'s address on that network (same family as the VIPs)', example: '192.0.2.2' },
    ],
  },
  {
    path: 'instances[].witness[]', title: 'one witness',
    keys: [
      { key: 'type', type: 'icmp | tcp | http', default: 'required', description: 'how the witness is reached', example: 'icmp' },
      { key: 'address', type: 'IP address', default: 'required', description: 'the witness (no DNS)', example: '192.0.2.1', onlyFor: ['icmp', 'tcp'] },
      { key: 'port', type: 'integer 1..65535', default: 'required', description: 'TCP port connected to', example: '443', onlyFor: ['tcp'] },
      { key: 'url', type: 'http(s) URL', default: 'required', description: 'fetched; any answer counts', example: 'http://192.0.2.1/', onlyFor: ['http'] },
    ],
  },
  {
    path: 'instances[].virtual-services[]', title: 'one load-balanced VIP:port/tcp',
    keys: [
      { key: 'port', type: 'integer 1..65535', default: 'required', description: 'the port on the VIP', example: '80' },
      { key: 'real-servers', type: 'list of real server mappings', default: 'required', description: 'the servers connections are spread over; at least one', example: '[{ address: 10.0.0.11, port: 8080 }]' },
      { key: 'vip', type: 'IP address, one of the instance\'s VIPs', default: 'the first VIP', description: 'the address balanced', example: '192.0.2.10' },
      { key: 'mode', type: 'nftables | proxy', default: 'nftables', description: 'kernel DNAT rules, or the agent\'s userspace TCP proxy (hosts without nftables)', example: 'proxy' },
      { key: 'protocol', type: 'tcp', default: 'tcp', description: 'only TCP is balanced', example: 'tcp' },
      { key: 'scheduler', type: 'round-robin | weighted | source-hash', default: 'round-robin', description: 'how a real server is chosen', example: 'weighted' },
      { key: 'snat', type: 'IP address', default: 'none (masquerade)', description: 'source address of forwarded traffic (nftables mode)', example: '10.0.0.1' },
    ],
  },
  {
    path: 'instances[].virtual-services[].real-servers[]', title: 'one real server',
    keys: [
      { key: 'address', type: 'IP address (the VIP\'s family)', default: 'required', description: 'the server', example: '10.0.0.11' },
      { key: 'port', type: 'integer 1..65535', default: 'the service port', description: 'the server\'s port', example: '8080' },
      { key: 'weight', type: 'integer 1..100', default: '1', description: 'share with the weighted scheduler', example: '2' },
      { key: 'check', type: 'check mapping (as in checks, without a list)', default: 'none (always up)', description: 'health check; tcp and http default to this server\'s address and port', example: '{ type: tcp }' },
    ],
  },
];
