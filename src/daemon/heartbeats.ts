/**
 * The VRRP heartbeat interfaces: each instance's interface resolved to its source address
 * (primary IPv4, or the IPv6 link-local), one VRRP socket per interface and family shared by the
 * instances on it, and the sending of an instance's adverts (unicast to its peers, else to the
 * VRRP multicast group).
 */
import { vipAddresses } from '../core/net/address.js';
import type { Logger } from 'pino';
import { HaagentError } from '../core/errors.js';
import type { InstanceConfig } from '../core/config/types.js';
import { encodeAdvertisement, type HmacSigning } from '../core/packet/encode.js';
import type { Advertisement } from '../core/packet/vrrp-types.js';
import { VRRP_MULTICAST_V4 } from '../adapters/vrrp-socket.js';
import { VRRP_MULTICAST_V6 } from '../adapters/vrrp6-socket.js';
import { NO_TRAIN, type AdvertRepeat, type TrainReport, type VrrpTransport } from '../adapters/ports.js';
import { authOf } from './advert-intake.js';
import { AdvertHmac } from './advert-hmac.js';
import type { AgentPorts, HeartbeatSource, VrrpReceiver } from './agent-ports.js';

/** As many advert trains as the addon keeps (native/advert_train.c). */
const MAX_TRAIN_IDS = 4096;

const transportKey = (inst: { interface: string; family: 4 | 6 }): string => `${inst.family}:${inst.interface}`;

/** An instance's unsigned adverts as last encoded: one datagram per destination. */
interface EncodedAdverts {
  readonly src: string;
  readonly priority: number;
  readonly datagrams: ReadonlyArray<readonly [dst: string, bytes: Uint8Array]>;
}

export class Heartbeats {
  /** Keyed by transportKey(): one VRRP socket per heartbeat interface and address family. */
  private readonly sockets = new Map<string, VrrpTransport>();
  /** Source address per heartbeat interface and family: primary IPv4, or the IPv6 link-local. */
  private readonly primary = new Map<string, HeartbeatSource>();
  /**
   * The last unsigned adverts of each instance config (a reload makes a new config object, so
   * an entry never outlives the settings it was encoded from): a master's periodic advert is
   * the same bytes every time until its priority or source changes, so it is encoded once.
   */
  private readonly encoded = new WeakMap<InstanceConfig, EncodedAdverts>();
  /** Advert train ids in use (one per instance runner; the addon keys its trains by id). */
  private readonly trainIds = new Set<number>();
  /** Transports whose trains could not be scheduled: not tried again (warned about once). */
  private readonly noTrains = new WeakSet<VrrpTransport>();

  constructor(
    private readonly ports: AgentPorts,
    private readonly receiver: VrrpReceiver,
    private readonly log: Logger,
    /** Signs the adverts of instances with auth type hmac (shared with the intake). */
    private readonly hmac: AdvertHmac = new AdvertHmac(),
  ) {}

  /**
   * Checks interfaces and addresses of `instances` without touching anything: both interfaces
   * must exist, the heartbeat one must have an address to send adverts from.
   */
  async resolve(instances: readonly InstanceConfig[]): Promise<void> {
    const netlink = this.ports.netlink;
    for (const [i, inst] of instances.entries()) {
      for (const [key, ifname] of [['interface', inst.interface], ['external', inst.external]] as const) {
        const link = await netlink.getLink(ifname).catch((cause: unknown) => {
          throw new HaagentError('HA_ERR_CONFIG', `instances[${i}].${key}: interface "${ifname}" not found on this host`, { cause });
        });
        const tkey = transportKey(inst);
        if (key !== 'interface' || this.primary.has(tkey)) continue;
        // IPv6 adverts come from the link-local address (RFC 9568 §5.1.2.1); a fresh link may
        // still be doing DAD, so wait for it a little.
        let address = inst.family === 4 ? await netlink.primaryIpv4(ifname) : await netlink.linkLocalIpv6(ifname);
        for (let tries = 0; address === undefined && inst.family === 6 && tries < 30; tries++) {
          await new Promise((r) => setTimeout(r, 100));
          address = await netlink.linkLocalIpv6(ifname);
        }
        if (address === undefined) {
          throw new HaagentError('HA_ERR_CONFIG', `instances[${i}].interface: "${ifname}" has no ${inst.family === 4 ? 'IPv4 address' : 'usable IPv6 link-local address'} to send adverts from`);
        }
        this.primary.set(tkey, { address, ifindex: link.ifindex, ifname, family: inst.family });
      }
    }
  }

  /** Opens the sockets of the interfaces resolved so far that have none yet. */
  open(): void {
    for (const [key, p] of this.primary) {
      if (this.sockets.has(key)) continue;
      const onError = (err: Error): void => { this.log.error({ err, iface: p.ifname }, 'VRRP socket error'); };
      this.sockets.set(key, this.ports.openVrrp(p, this.receiver, onError));
    }
  }

  /** The resolved source of `inst`'s heartbeat interface; throws if resolve() did not see it. */
  sourceOf(inst: InstanceConfig): HeartbeatSource {
    const p = this.primary.get(transportKey(inst));
    if (p === undefined) throw new HaagentError('HA_ERR_INTERNAL', `interface ${inst.interface} was not resolved`);
    return p;
  }

  /**
   * Sends `inst`'s advert at `priority` from `src`; nothing when its socket is closed. Signed
   * once (auth type hmac, not receive-only): every unicast peer gets the same sequence. Unsigned
   * adverts are encoded once per config, source and priority and then sent as they are (the
   * sockets copy the bytes and never change them).
   */
  async sendAdvert(inst: InstanceConfig, src: string, priority: number): Promise<void> {
    const sock = this.sockets.get(transportKey(inst));
    if (sock === undefined) return;
    const hmac = this.hmac.signing(inst);
    const datagrams = hmac === undefined ? this.unsigned(inst, src, priority) : encodeAll(inst, src, priority, { hmac });
    for (const [dst, bytes] of datagrams) await sock.send(bytes, dst);
  }

  /** A free advert train id (released with releaseTrainId), or undefined when all are taken. */
  trainId(): number | undefined {
    for (let id = 0; id < MAX_TRAIN_IDS; id++) {
      if (this.trainIds.has(id)) continue;
      this.trainIds.add(id);
      return id;
    }
    return undefined;
  }

  /** Stops train `id` (if it runs) and frees the id. */
  releaseTrainId(inst: InstanceConfig, id: number): void {
    this.trainReport(inst, id, true);
    this.trainIds.delete(id);
  }

  /**
   * Hands `inst`'s advert at `priority` from `src` to train `id` (see VrrpTransport.repeat) and
   * returns the replaced train's report; undefined when it cannot be repeated: its socket has
   * no trains (IPv6), it is signed (every signed advert differs), or it goes to several peers
   * (each copy has its own checksum). A train that cannot be scheduled (an addon without
   * trains, a closed socket) is undefined too, with a warning, and its socket is not asked
   * again; the train running before, if any, is left for the caller to stop and count
   * (trainReport with stop).
   */
  repeatAdvert(inst: InstanceConfig, src: string, priority: number, id: number, plan: AdvertRepeat): TrainReport | undefined {
    const sock = this.sockets.get(transportKey(inst));
    if (sock?.repeat === undefined || this.noTrains.has(sock) || this.hmac.signing(inst) !== undefined) return undefined;
    const datagrams = this.unsigned(inst, src, priority);
    const only = datagrams.length === 1 ? datagrams[0] : undefined;
    if (only === undefined) return undefined;
    try {
      return sock.repeat(id, only[1], [only[0]], plan);
    } catch (err) {
      this.noTrains.add(sock);
      this.log.warn({ err, iface: inst.interface }, 'the advert train could not be scheduled; the agent sends every advert on this interface itself');
      return undefined;
    }
  }

  /** What train `id` did since its last report (`stop`: and ends it); NO_TRAIN without a socket. */
  trainReport(inst: InstanceConfig, id: number, stop: boolean): TrainReport {
    return this.sockets.get(transportKey(inst))?.trainReport?.(id, stop) ?? NO_TRAIN;
  }

  /** The unsigned adverts of `inst` at `priority` from `src`, encoded on first use. */
  private unsigned(inst: InstanceConfig, src: string, priority: number): EncodedAdverts['datagrams'] {
    const last = this.encoded.get(inst);
    if (last !== undefined && last.src === src && last.priority === priority) return last.datagrams;
    const datagrams = encodeAll(inst, src, priority, {});
    this.encoded.set(inst, { src, priority, datagrams });
    return datagrams;
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
  }
}

/** `inst`'s advert at `priority` from `src` for each destination (its unicast peers, else the VRRP group). */
function encodeAll(inst: InstanceConfig, src: string, priority: number, sign: { hmac?: HmacSigning }): Array<readonly [string, Uint8Array]> {
  const advert: Advertisement = {
    version: inst.version, family: inst.family, vrid: inst.vrid, priority,
    maxAdvertIntervalCs: inst.advertIntervalCs,
    addresses: vipAddresses(inst.vips),
    ...authOf(inst),
  };
  const targets = inst.peers.length > 0 ? inst.peers : [inst.family === 4 ? VRRP_MULTICAST_V4 : VRRP_MULTICAST_V6];
  // v3-checksum: message -> RFC 9568 §5.2.8's IPv4 form (no pseudo-header).
  const opts = { src, v3ChecksumAsV2: inst.v3ChecksumMessageOnly, ...sign };
  return targets.map((dst) => [dst, encodeAdvertisement(advert, { ...opts, dst })] as const);
}
