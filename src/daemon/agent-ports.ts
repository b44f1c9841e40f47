/**
 * The edges of the outside world the agent is built on, as one set of ports: production builds
 * the real adapters (`productionPorts`); unit tests pass fakes (`Agent.create`), so the agent's
 * wiring runs without root, sockets or netlink.
 */
import type { Vip } from '../core/net/address.js';
import type { InstanceConfig } from '../core/config/types.js';
import { RawVrrpSocket } from '../adapters/vrrp-socket.js';
import { Vrrp6Socket, type Vrrp6Message } from '../adapters/vrrp6-socket.js';
import type { VrrpTransport } from '../adapters/ports.js';
import { createNetlink, type NetlinkPort } from '../adapters/netlink/index.js';
import { sharedContainment, type ContainmentMode } from '../adapters/containment.js';
import { FileEpochStore, type EpochPort } from '../adapters/epoch-store.js';
import { ensurePrivateDir } from '../adapters/secure-dir.js';
import { witnessTiming } from '../core/peer/timing.js';
import { csToMs } from '../core/fsm/timers.js';
import { Announcer } from './announcer.js';
import { DeadlineTimers } from './deadline-timers.js';
import { SharedFrameSockets } from './announce-sockets.js';
import type { WitnessPort } from './instance-peers.js';
import type { EtcdClientFactory } from './etcd-shared.js';
import { NFT_FENCE, type FenceKernel } from './self-fence.js';
import { etcdClientPart, loadedPart, witnessPart } from './lazy-parts.js';

/** One heartbeat interface and family, resolved: where adverts are sent from and received on. */
export interface HeartbeatSource {
  readonly address: string;
  readonly ifindex: number;
  readonly ifname: string;
  readonly family: 4 | 6;
}

/** Where a VRRP socket hands what it receives (the advert intake). */
export interface VrrpReceiver {
  onDatagram(ifname: string, datagram: Uint8Array): void;
  onMessage6(ifname: string, m: Vrrp6Message): void;
}

/** Gratuitous ARP / unsolicited NA for one instance's VIPs (src/daemon/announcer.ts). */
export interface AnnouncerPort {
  announce(): Promise<void>;
  quiet(): void;
  setVips(vips: readonly Vip[]): void;
  close(): void;
}

export interface AgentPorts {
  readonly netlink: NetlinkPort;
  /** Monotonic milliseconds. */
  readonly clock: () => number;
  /** The agent's protocol timers (one Node timer per deadline millisecond); absent = the agent makes its own. */
  readonly deadlines?: DeadlineTimers;
  /** Refuses (throws HA_ERR_INSECURE / HA_ERR_STATE) a state directory others could write to. */
  ensureStateDir(dir: string): void;
  /** Opens the VRRP socket of one heartbeat interface; what it receives goes to `receiver`. */
  openVrrp(source: HeartbeatSource, receiver: VrrpReceiver, onError: (err: Error) => void): VrrpTransport;
  /** The fencing epoch store of one instance. */
  epochStore(stateDir: string, instance: string): EpochPort;
  /** The instance's witness monitor, or undefined when it has no witness. */
  witness(inst: InstanceConfig): WitnessPort | undefined;
  announcer(inst: InstanceConfig): AnnouncerPort;
  /** How hooks and exec checks are contained (for the start log line and status). */
  containment(): { readonly mode: ContainmentMode; readonly detail: string };
  /** The etcd client of an election on etcd (created once, when an instance first needs it); absent = none. */
  readonly etcdClient?: EtcdClientFactory;
  /** nftables for the masters' self-fence; absent: no fence is ever applied (unit tests). */
  readonly fence?: FenceKernel;
}

/** The real adapters (rtnetlink, raw sockets, AF_PACKET, files, probes). */
export async function productionPorts(): Promise<AgentPorts> {
  const netlink = await createNetlink();
  // One packet socket per interface for all announcements; each announcer a refresh slot.
  const frameSockets = new SharedFrameSockets();
  let announcers = 0;
  const clock = (): number => performance.now();
  // The instances' timers and the announcers' refreshes on one set, so refreshes ride on advert ticks.
  const deadlines = new DeadlineTimers(clock);
  return {
    netlink,
    clock,
    deadlines,
    ensureStateDir: (dir) => ensurePrivateDir(dir, 'state directory'),
    openVrrp: (p, receiver, onError) => (p.family === 4
      ? RawVrrpSocket.open(p.ifname, p.ifindex, (d) => receiver.onDatagram(p.ifname, d), onError)
      : Vrrp6Socket.open(p.ifname, p.address, (m) => receiver.onMessage6(p.ifname, m), onError)),
    epochStore: (stateDir, instance) => new FileEpochStore(stateDir, instance),
    // The isolated master must let go before the peer takes over (its Master_Down_Interval):
    // witnesses are probed every advert interval with half an interval to answer.
    witness: (inst) => (inst.witness.length === 0 ? undefined : new (loadedPart(witnessPart)).WitnessMonitor(inst.witness, witnessTiming(inst.advertIntervalCs))),
    announcer: (inst) => new Announcer(inst.external, inst.vips, inst.garp, frameSockets, announcers++,
      { deadlines, clock, tickMs: csToMs(inst.advertIntervalCs) }),
    containment: () => sharedContainment(),
    // One gateway and one lease for the agent; the keeper's fence timer runs on the monotonic clock.
    etcdClient: (cfg, log) => {
      const { EtcdGateway, LeaseKeeper } = loadedPart(etcdClientPart); // loaded by instanceParts
      const gw = new EtcdGateway(cfg, log);
      const keeper = new LeaseKeeper(gw, cfg, { nowMs: () => performance.now() });
      return {
        kv: gw, lease: keeper,
        start: () => keeper.start(),
        stop: async () => {
          await keeper.stop();
          gw.close();
        },
      };
    },
    fence: NFT_FENCE,
  };
}
