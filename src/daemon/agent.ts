/**
 * The running agent: wires every configured instance to the real adapters (raw VRRP socket,
 * rtnetlink, AF_PACKET announcer), demultiplexes received adverts by VRID, and owns the one
 * idempotent shutdown.
 *
 * Start order (nothing is touched before the config and the interfaces check out):
 *  1. resolve every interface (must exist) and each heartbeat NIC's primary IPv4 address;
 *  2. remove our own VIPs left behind by an earlier crash (exact address/prefix only);
 *  3. open one VRRP socket per heartbeat interface, start the instances, watch netlink events.
 */
import type { Logger } from 'pino';
import { HaagentError } from '../core/errors.js';
import type { AgentConfig, InstanceConfig } from '../core/config/types.js';
import type { AgentStatus } from '../core/control/types.js';
import { decodeIpv4Datagram } from '../core/packet/decode.js';
import { encodeAdvertisement } from '../core/packet/encode.js';
import { checkAgainstInstance } from '../core/packet/validate.js';
import type { Advertisement } from '../core/packet/vrrp-types.js';
import { RawVrrpSocket, VRRP_MULTICAST_V4 } from '../adapters/vrrp-socket.js';
import { createNetlink, type NetlinkPort, type NetlinkWatcher } from '../adapters/netlink/index.js';
import { Announcer } from './announcer.js';
import { InstanceRunner } from './instance-runner.js';

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly log: Logger;
  readonly version: string;
}

const monotonicMs = (): number => performance.now();

interface Bound {
  readonly runner: InstanceRunner;
  readonly announcer: Announcer;
  readonly config: InstanceConfig;
}

export class Agent {
  private readonly bound: Bound[] = [];
  private readonly sockets = new Map<string, RawVrrpSocket>();
  private readonly interfaceDrops: Record<string, Record<string, number>> = {};
  private watcher: NetlinkWatcher | undefined;
  private shuttingDown: Promise<void> | undefined;
  private readonly startedAt = new Date().toISOString();

  private constructor(private readonly opts: AgentOptions, private readonly netlink: NetlinkPort) {}

  static async start(opts: AgentOptions): Promise<Agent> {
    const netlink = await createNetlink();
    const agent = new Agent(opts, netlink);
    try {
      await agent.setUp();
    } catch (err) {
      await agent.shutdown();
      throw err;
    }
    return agent;
  }

  private async setUp(): Promise<void> {
    const { config, log } = this.opts;
    const primary = new Map<string, { address: string; ifindex: number }>();
    const externalIndex = new Map<string, string>();
    for (const [i, inst] of config.instances.entries()) {
      for (const [key, ifname] of [['interface', inst.interface], ['external', inst.external]] as const) {
        const link = await this.netlink.getLink(ifname).catch((cause: unknown) => {
          throw new HaagentError('HA_ERR_CONFIG', `instances[${i}].${key}: interface "${ifname}" not found on this host`, { cause });
        });
        if (key === 'external') externalIndex.set(String(link.ifindex), ifname);
        if (key === 'interface' && !primary.has(ifname)) {
          if (inst.family !== 4) throw new HaagentError('HA_ERR_CONFIG', `instances[${i}]: IPv6 VRRP transport is not supported yet`);
          const address = await this.netlink.primaryIpv4(ifname);
          if (address === undefined) throw new HaagentError('HA_ERR_CONFIG', `instances[${i}].interface: "${ifname}" has no IPv4 address to send adverts from`);
          primary.set(ifname, { address, ifindex: link.ifindex });
        }
      }
    }

    for (const inst of config.instances) {
      for (const cidr of inst.vips) await this.netlink.removeVip(inst.external, cidr);
    }

    for (const inst of config.instances) {
      const p = primary.get(inst.interface);
      if (p === undefined) continue;
      const ilog = log.child({ instance: inst.name, vrid: inst.vrid, iface: inst.interface });
      const announcer = new Announcer(inst.external, inst.vips, inst.garp);
      const runner = new InstanceRunner(inst, p.address, {
        clock: monotonicMs,
        log: ilog,
        sendAdvert: (priority) => this.sendAdvert(inst, p.address, priority),
        vips: this.netlink,
        announce: () => announcer.announce(),
        quiet: () => announcer.quiet(),
      });
      this.bound.push({ runner, announcer, config: inst });
    }

    for (const [ifname, p] of primary) {
      const sock = RawVrrpSocket.open(ifname, p.ifindex, (d) => this.onDatagram(ifname, d), (err) => {
        log.error({ err, iface: ifname }, 'VRRP socket error');
      });
      this.sockets.set(ifname, sock);
    }

    this.watcher = await this.netlink.watch();
    this.watcher.on('event', (ev) => {
      if (ev.type === 'link') {
        for (const b of this.bound) {
          if (b.config.external === ev.ifname || b.config.interface === ev.ifname) {
            // Loss of carrier on the heartbeat link alone is not a reason to refuse the VIP
            // (direct-cable case, VRRP-NOTES.md); only the external NIC being down is FAULT.
            if (b.config.external === ev.ifname) b.runner.input({ type: 'fault', source: `interface:${ev.ifname}`, active: !ev.up || !ev.running });
          }
        }
      } else if (ev.type === 'address-removed') {
        for (const b of this.bound) {
          if (b.config.external !== ev.ifname || b.runner.vrrpState !== 'MASTER') continue;
          const cidr = `${ev.address}/${ev.prefixLength}`;
          if (!b.config.vips.includes(cidr)) continue;
          log.warn({ instance: b.config.name, vip: cidr, iface: ev.ifname }, 'VIP removed by someone else while master; re-adding it');
          this.netlink.addVip(b.config.external, cidr).catch((err: unknown) => log.error({ err, vip: cidr }, 're-adding VIP failed'));
        }
      }
    });

    for (const b of this.bound) {
      const link = await this.netlink.getLink(b.config.external);
      if (!link.up || !link.running) b.runner.input({ type: 'fault', source: `interface:${b.config.external}`, active: true });
      b.runner.input({ type: 'start' });
    }
  }

  private async sendAdvert(inst: InstanceConfig, src: string, priority: number): Promise<void> {
    const advert: Advertisement = {
      version: inst.version, family: 4, vrid: inst.vrid, priority,
      maxAdvertIntervalCs: inst.advertIntervalCs,
      addresses: inst.vips.map((c) => c.split('/')[0] ?? c),
      ...(inst.version === 2 ? { auth: inst.auth.type === 'pass' ? { type: 1 as const, password: inst.auth.password } : { type: 0 as const } } : {}),
    };
    const sock = this.sockets.get(inst.interface);
    if (sock === undefined) return;
    const targets = inst.peers.length > 0 ? inst.peers : [VRRP_MULTICAST_V4];
    for (const dst of targets) await sock.send(encodeAdvertisement(advert, { src, dst }), dst);
  }

  private dropOnInterface(ifname: string, reason: string): void {
    const d = (this.interfaceDrops[ifname] ??= {});
    d[reason] = (d[reason] ?? 0) + 1;
  }

  private onDatagram(ifname: string, datagram: Uint8Array): void {
    const ihl = ((datagram[0] ?? 0) & 0x0f) * 4;
    const vrid = datagram[ihl + 1];
    const target = this.bound.find((b) => b.config.interface === ifname && b.config.vrid === vrid);
    if (target === undefined) {
      this.dropOnInterface(ifname, vrid === undefined ? 'too-short' : 'bad-vrid');
      this.opts.log.debug({ iface: ifname, vrid }, 'dropped advert: no instance with this VRID on this interface');
      return;
    }
    const inst = target.config;
    const r = decodeIpv4Datagram(datagram, {
      version: inst.version,
      ...(inst.version === 2 ? { auth: inst.auth.type === 'pass' ? { type: 1 as const, password: inst.auth.password } : { type: 0 as const } } : {}),
    });
    if (!r.ok) {
      target.runner.countDrop(r.reason);
      this.opts.log.debug({ instance: inst.name, reason: r.reason, detail: r.detail }, 'dropped advert');
      return;
    }
    const check = checkAgainstInstance(r.advert, { vrid: inst.vrid, version: inst.version, advertIntervalCs: inst.advertIntervalCs, vips: inst.vips });
    if (!check.ok) {
      target.runner.countDrop(check.reason);
      this.opts.log.debug({ instance: inst.name, reason: check.reason, detail: check.detail, from: r.src }, 'dropped advert');
      return;
    }
    target.runner.countReceived();
    target.runner.input({ type: 'advert', from: r.src, priority: r.advert.priority, maxAdvertIntervalCs: r.advert.maxAdvertIntervalCs });
  }

  status(): AgentStatus {
    return {
      pid: process.pid,
      version: this.opts.version,
      startedAt: this.startedAt,
      instances: this.bound.map((b) => b.runner.status()),
      interfaceDrops: structuredClone(this.interfaceDrops),
    };
  }

  /**
   * Idempotent: priority-0 advert from a master, VIPs removed, sockets closed. Bounded by the
   * caller (the CLI exits within one second whatever happens here).
   */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      for (const b of this.bound) b.runner.input({ type: 'shutdown' });
      await Promise.all(this.bound.map((b) => b.runner.drain()));
      // Let the priority-0 adverts leave before the sockets close.
      await new Promise((r) => setImmediate(r));
      for (const b of this.bound) {
        b.runner.stopTimers();
        b.announcer.close();
      }
      for (const s of this.sockets.values()) s.close();
      this.watcher?.close();
      this.netlink.close();
    })();
    return this.shuttingDown;
  }
}
