/**
 * The haagent-only peer channel: hellos over UDP on every configured `path`, besides standard
 * VRRP. One UDP socket per local path address, shared by the instances using it; received
 * hellos are demultiplexed by instance name and VRID.
 *
 * Contract:
 * - a hello is sent on every path of an instance once per advert interval (and at once on
 *   `sendNow`), authenticated with the peer key (required: the config refuses paths without
 *   one), with TTL 255. Each instance start draws a random 64-bit `boot` nonce, stamped with
 *   the wall clock (`bootMs`, which orders the boots of a node: a restart must not go back in
 *   time, see presence.ts); `seq` counts 1, 2, 3... within it (presence.ts uses all three
 *   against replays). Sending never throws: an encoding failure or a socket error is logged
 *   (rate-limited) and the next tick tries again.
 * - the link's own timer paces the hellos except while the instance reports MASTER: a master's
 *   hellos go with its periodic adverts instead (`masterAdvertSent`, which its owner calls right
 *   after each one), so a peer that takes a MASTER's hello for an advert never restarts its
 *   Master_Down_Timer later than the last real advert did (the self-fence, refreshed only by
 *   adverts, counts from that one). An owner that never calls it gets no periodic hello from a
 *   master.
 * - a received datagram is accepted only from a configured path peer: its source address must
 *   be the `peer` of a path on that interface (checked before the MAC, so a flood from elsewhere
 *   costs no HMAC), and, once decoded, of a path of the instance it names. The kernel already
 *   dropped anything that arrived with a TTL / hop limit below 255 (peer-socket.ts).
 * - what `onHello` returns (a reason, e.g. 'replay', 'epoch-jump') is counted as a drop.
 * - every drop is counted by reason (`hello-<reason>`, see `drops()`), logged at debug, and at
 *   warn for the first of each reason and then at most once per DROP_WARN_EVERY_MS with the
 *   count since: a flood cannot flood the log.
 * Nothing here decides anything about state: the agent does.
 */
import { WarnThrottle } from './warn-throttle.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import type { VrrpState } from '../core/fsm/types.js';
import { decodeHello, encodeHello, HELLO_BOOT_HEX_LENGTH, HELLO_MAX_SEQ, HELLO_VERSION, type Hello } from '../core/peer/hello.js';
import { HaagentError } from '../core/errors.js';
import { canonicalAddress } from '../core/packet/source.js';
import { PeerSocket, type PeerDatagramSource } from '../adapters/peer-socket.js';
import type { NetlinkPort } from '../adapters/netlink/index.js';
import { helloIntervalMs } from '../core/peer/timing.js';

/** What the instance reports about itself in each hello. */
export interface HelloSnapshot {
  readonly state: VrrpState;
  readonly priority: number;
  readonly vrrpAddress: string;
  readonly epoch: number;
  readonly fingerprint: string;
}

/** A reason to drop a decoded, authenticated hello (counted as `hello-<reason>`), or undefined. */
export type HelloVerdict = string | undefined;

interface Member {
  readonly inst: InstanceConfig;
  readonly snapshot: () => HelloSnapshot;
  readonly onHello: (hello: Hello, path: string) => HelloVerdict;
  readonly timer: NodeJS.Timeout;
  boot: string;
  bootMs: number;
  seq: number;
}

/** After the first warning of a drop reason, at most one warning per reason this often. */
export const DROP_WARN_EVERY_MS = 60_000;

/** A fresh random boot nonce: 16 lower-case hex digits. */
function newBoot(): string {
  return randomBytes(HELLO_BOOT_HEX_LENGTH / 2).toString('hex');
}


export class PeerLink {
  /** One socket per path interface and family, keyed by pathKey(). */
  private readonly sockets = new Map<string, PeerSocket>();
  private readonly members = new Map<string, Member>();
  private readonly dropCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  /** Per drop reason: the first is warned about, then at most once per DROP_WARN_EVERY_MS. */
  private readonly warned = new WarnThrottle(DROP_WARN_EVERY_MS);
  private readonly host = hostname();
  private sendFailures = 0;

  constructor(
    private readonly opts: { readonly port: number; readonly key: string; readonly log: Logger; readonly netlink: NetlinkPort },
  ) {
    if (opts.key.length === 0) throw new HaagentError('HA_ERR_CONFIG', 'peer-key is required with paths');
  }

  /** Hello drops by reason since start (a copy). */
  drops(): Record<string, number> {
    return { ...this.dropCounts };
  }

  /** Local address of a path interface: its primary IPv4 (or IPv6 link-local for IPv6 peers). */
  private async localAddress(ifname: string, family: 4 | 6): Promise<string> {
    const a = family === 4 ? await this.opts.netlink.primaryIpv4(ifname) : await this.opts.netlink.linkLocalIpv6(ifname);
    if (a === undefined) throw new HaagentError('HA_ERR_CONFIG', `path interface ${ifname} has no IPv${family} address for peer hellos`);
    return family === 6 ? `${a}%${ifname}` : a;
  }

  private static pathKey(p: { interface: string; peer: string }): string {
    return `${p.peer.includes(':') ? 6 : 4}:${p.interface}`;
  }

  async add(inst: InstanceConfig, snapshot: () => HelloSnapshot, onHello: (hello: Hello, path: string) => HelloVerdict): Promise<void> {
    for (const p of inst.paths) {
      const key = PeerLink.pathKey(p);
      if (this.sockets.has(key)) continue;
      const local = await this.localAddress(p.interface, p.peer.includes(':') ? 6 : 4);
      const sock = await PeerSocket.open(local, this.opts.port, (bytes, from) => this.receive(key, p.interface, bytes, from), (err) => {
        this.opts.log.warn({ err, path: p.interface }, 'peer hello socket error');
      });
      this.sockets.set(key, sock);
    }
    const everyMs = helloIntervalMs(inst.advertIntervalCs);
    const member: Member = {
      inst, snapshot, onHello, boot: newBoot(), bootMs: Date.now(), seq: 0,
      timer: setInterval(() => this.sendAll(member, { unlessMaster: true }), everyMs),
    };
    this.members.set(`${inst.name}/${inst.vrid}`, member);
    this.sendAll(member);
  }

  /** Sends a hello now (after a transition, so peers learn the new state and epoch at once). Never throws. */
  sendNow(inst: InstanceConfig): void {
    const m = this.members.get(`${inst.name}/${inst.vrid}`);
    if (m !== undefined) this.sendAll(m);
  }

  /**
   * A MASTER's periodic advert has just been sent (its Adver_Timer fired): its hello goes now,
   * right after it, in place of the link's own timer (see the contract above). Never throws.
   */
  masterAdvertSent(inst: InstanceConfig): void {
    const m = this.members.get(`${inst.name}/${inst.vrid}`);
    if (m !== undefined) this.sendAll(m);
  }

  remove(inst: InstanceConfig): void {
    const key = `${inst.name}/${inst.vrid}`;
    const m = this.members.get(key);
    if (m !== undefined) clearInterval(m.timer);
    this.members.delete(key);
  }

  /**
   * Sends one hello on every path of `m`; with `unlessMaster` (the link's own timer) nothing
   * while it reports MASTER. Never throws (it runs from timers and setImmediate): failures are
   * logged, rate-limited.
   */
  private sendAll(m: Member, opts: { readonly unlessMaster?: boolean } = {}): void {
    let bytes: Uint8Array;
    try {
      const s = m.snapshot();
      if (opts.unlessMaster === true && s.state === 'MASTER') return;
      if (m.seq >= HELLO_MAX_SEQ) {
        m.boot = newBoot();
        m.bootMs = Math.max(Date.now(), m.bootMs + 1);
        m.seq = 0;
      }
      m.seq += 1;
      const hello: Hello = {
        // Host names can repeat (containers, namespaces): the VRRP address makes the id unique.
        v: HELLO_VERSION, instance: m.inst.name, vrid: m.inst.vrid, node: `${this.host}@${s.vrrpAddress}`, state: s.state, priority: s.priority,
        vrrpAddress: s.vrrpAddress, advertIntervalCs: m.inst.advertIntervalCs, epoch: s.epoch, fingerprint: s.fingerprint, boot: m.boot, bootMs: m.bootMs, seq: m.seq,
      };
      bytes = encodeHello(hello, this.opts.key);
    } catch (err) {
      this.sendFailures += 1;
      this.warnRateLimited('send-failed', this.sendFailures, { err, instance: m.inst.name }, 'peer hello not sent: cannot encode it');
      return;
    }
    for (const p of m.inst.paths) {
      this.sockets.get(PeerLink.pathKey(p))?.send(bytes, p.peer, this.opts.port).catch((err: unknown) => {
        this.opts.log.debug({ err, path: p.interface, peer: p.peer }, 'peer hello not sent');
      });
    }
  }

  /** Whether `source` is the configured peer of some path of socket `key` (of `inst` if given). */
  private fromPathPeer(key: string, source: string, inst?: InstanceConfig): boolean {
    const members = inst === undefined ? this.members.values() : [{ inst }];
    for (const m of members) {
      for (const p of m.inst.paths) {
        if (PeerLink.pathKey(p) === key && canonicalAddress(p.peer) === source) return true;
      }
    }
    return false;
  }

  private receive(key: string, path: string, bytes: Uint8Array, from: PeerDatagramSource): void {
    const source = canonicalAddress(from.address);
    if (source === undefined || !this.fromPathPeer(key, source)) {
      this.drop('unknown-source', path, `from ${from.address}, not a configured path peer`);
      return;
    }
    const r = decodeHello(bytes, this.opts.key);
    if (!r.ok) {
      this.drop(r.reason, path, r.detail);
      return;
    }
    const m = this.members.get(`${r.hello.instance}/${r.hello.vrid}`);
    if (m === undefined) {
      this.drop('unknown-instance', path, `${r.hello.instance}/${r.hello.vrid}`);
      return;
    }
    if (!this.fromPathPeer(key, source, m.inst)) {
      this.drop('unknown-source', path, `from ${from.address}, not a path peer of ${m.inst.name}`);
      return;
    }
    if (r.hello.vrrpAddress === m.snapshot().vrrpAddress) return; // our own, looped back
    const verdict = m.onHello(r.hello, path);
    if (verdict !== undefined) this.drop(verdict, path, `from ${r.hello.node}`);
  }

  private drop(reason: string, path: string, detail: string): void {
    const key = `hello-${reason}`;
    this.dropCounts[key] = (this.dropCounts[key] ?? 0) + 1;
    this.opts.log.debug({ path, reason: key, detail }, 'dropped peer hello');
    this.warnRateLimited(key, this.dropCounts[key] ?? 0, { path, reason: key, detail }, 'dropped peer hello');
  }

  /** Warns for the first `kind`, then at most once per DROP_WARN_EVERY_MS with the count since. */
  private warnRateLimited(kind: string, total: number, fields: Record<string, unknown>, msg: string): void {
    const admitted = this.warned.admit(kind, performance.now(), total);
    if (admitted === undefined) return;
    const since = admitted.sinceLast;
    this.opts.log.warn({ ...fields, total, ...(since === undefined ? {} : { sinceLastWarning: since }) }, msg);
  }

  close(): void {
    for (const m of this.members.values()) clearInterval(m.timer);
    this.members.clear();
    for (const sock of this.sockets.values()) sock.close();
    this.sockets.clear();
  }
}
