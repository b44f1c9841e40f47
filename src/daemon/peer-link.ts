/**
 * The haagent-only peer channel (issue 5): hellos over UDP on every configured `path`, besides
 * standard VRRP. One UDP socket per local path address, shared by the instances using it;
 * received hellos are demultiplexed by instance name and VRID.
 *
 * Contract: a hello is sent on every path of an instance once per advert interval; a received
 * hello is decoded (and authenticated when a peer key is set) before it reaches `onHello`;
 * rejected ones are counted by reason. Nothing here decides anything: the agent does.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import type { VrrpState } from '../core/fsm/types.js';
import { decodeHello, encodeHello, type Hello } from '../core/peer/hello.js';
import { HaagentError } from '../core/errors.js';
import { PeerSocket } from '../adapters/peer-socket.js';
import type { NetlinkPort } from '../adapters/netlink/index.js';

/** What the instance reports about itself in each hello. */
export interface HelloSnapshot {
  readonly state: VrrpState;
  readonly priority: number;
  readonly vrrpAddress: string;
  readonly epoch: number;
  readonly fingerprint: string;
}

interface Member {
  readonly inst: InstanceConfig;
  readonly snapshot: () => HelloSnapshot;
  readonly onHello: (hello: Hello, path: string) => void;
  readonly timer: NodeJS.Timeout;
  seq: number;
}

export class PeerLink {
  /** One socket per path interface and family, keyed by pathKey(). */
  private readonly sockets = new Map<string, PeerSocket>();
  private readonly members = new Map<string, Member>();
  readonly drops: Record<string, number> = {};
  private readonly host = hostname();

  constructor(
    private readonly opts: { readonly port: number; readonly key: string | undefined; readonly log: Logger; readonly netlink: NetlinkPort },
  ) {}

  /** Local address of a path interface: its primary IPv4 (or IPv6 link-local for IPv6 peers). */
  private async localAddress(ifname: string, family: 4 | 6): Promise<string> {
    const a = family === 4 ? await this.opts.netlink.primaryIpv4(ifname) : await this.opts.netlink.linkLocalIpv6(ifname);
    if (a === undefined) throw new HaagentError('HA_ERR_CONFIG', `path interface ${ifname} has no IPv${family} address for peer hellos`);
    return family === 6 ? `${a}%${ifname}` : a;
  }

  private static pathKey(p: { interface: string; peer: string }): string {
    return `${p.peer.includes(':') ? 6 : 4}:${p.interface}`;
  }

  async add(inst: InstanceConfig, snapshot: () => HelloSnapshot, onHello: (hello: Hello, path: string) => void): Promise<void> {
    for (const p of inst.paths) {
      const key = PeerLink.pathKey(p);
      if (this.sockets.has(key)) continue;
      const local = await this.localAddress(p.interface, p.peer.includes(':') ? 6 : 4);
      const sock = await PeerSocket.open(local, this.opts.port, (bytes) => this.receive(p.interface, bytes), (err) => {
        this.opts.log.warn({ err, path: p.interface }, 'peer hello socket error');
      });
      this.sockets.set(key, sock);
    }
    const everyMs = inst.advertIntervalCs * 10;
    const member: Member = { inst, snapshot, onHello, seq: 0, timer: setInterval(() => this.sendAll(member), everyMs) };
    this.members.set(`${inst.name}/${inst.vrid}`, member);
    this.sendAll(member);
  }

  /** Sends a hello now (after a transition, so peers learn the new state and epoch at once). */
  sendNow(inst: InstanceConfig): void {
    const m = this.members.get(`${inst.name}/${inst.vrid}`);
    if (m !== undefined) this.sendAll(m);
  }

  remove(inst: InstanceConfig): void {
    const key = `${inst.name}/${inst.vrid}`;
    const m = this.members.get(key);
    if (m !== undefined) clearInterval(m.timer);
    this.members.delete(key);
  }

  private sendAll(m: Member): void {
    const s = m.snapshot();
    m.seq = (m.seq + 1) >>> 0;
    const hello: Hello = {
      // Host names can repeat (containers, namespaces): the VRRP address makes the id unique.
      v: 1, instance: m.inst.name, vrid: m.inst.vrid, node: `${this.host}@${s.vrrpAddress}`, state: s.state, priority: s.priority,
      vrrpAddress: s.vrrpAddress, advertIntervalCs: m.inst.advertIntervalCs, epoch: s.epoch, fingerprint: s.fingerprint, seq: m.seq,
    };
    const bytes = encodeHello(hello, this.opts.key);
    for (const p of m.inst.paths) {
      this.sockets.get(PeerLink.pathKey(p))?.send(bytes, p.peer, this.opts.port).catch((err: unknown) => {
        this.opts.log.debug({ err, path: p.interface, peer: p.peer }, 'peer hello not sent');
      });
    }
  }

  private receive(path: string, bytes: Uint8Array): void {
    const r = decodeHello(bytes, this.opts.key);
    if (!r.ok) {
      const reason = `hello-${r.reason}`;
      this.drops[reason] = (this.drops[reason] ?? 0) + 1;
      this.opts.log.debug({ path, reason: r.reason, detail: r.detail }, 'dropped peer hello');
      return;
    }
    const m = this.members.get(`${r.hello.instance}/${r.hello.vrid}`);
    if (m === undefined) {
      this.drops['hello-unknown-instance'] = (this.drops['hello-unknown-instance'] ?? 0) + 1;
      return;
    }
    if (r.hello.vrrpAddress === m.snapshot().vrrpAddress) return; // our own, looped back
    m.onHello(r.hello, path);
  }

  close(): void {
    for (const m of this.members.values()) clearInterval(m.timer);
    this.members.clear();
    for (const sock of this.sockets.values()) sock.close();
    this.sockets.clear();
  }
}
