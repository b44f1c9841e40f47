/**
 * Link and address events from the kernel: one rtnetlink socket subscribed to
 * RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR. No polling.
 *
 * Contracts:
 * - Events are emitted in kernel order, both as 'event' (the union) and under their own
 *   type ('link', 'address-added', 'address-removed').
 * - 'link' fires when (up, running) of an interface changes, or it is removed; the kernel's
 *   many other RTM_NEWLINK notifications (MTU, stats, ...) are filtered out. The state at
 *   `open()` is the baseline, so a link already down at start produces no event.
 * - 'address-added' fires for an address the watcher did not know; lifetime refreshes of a
 *   known address (RTM_NEWADDR with NLM_F_REPLACE) are not re-announced. Opened with
 *   `addressAdded: false`, it never fires: the kernel drops RTM_NEWADDR notifications before
 *   they reach the socket (kernel-filter.ts; a master's lease renewals make one per VIP and
 *   advert interval), or, where the filter cannot be attached, the watcher drops them first
 *   thing (`kernelFilterError` says why). 'address-removed' is unaffected.
 * - On receive-buffer overflow (ENOBUFS: events were lost) the watcher re-reads links and
 *   addresses and emits the differences, then carries on.
 * - 'links-changed' (no payload) fires for every RTM_NEWLINK/RTM_DELLINK, filtered or not
 *   (renames too), and after such a re-read; 'closed' once on close(). The adapter's ifindex
 *   cache (ifindex-cache.ts) listens to both. Other socket errors are emitted
 *   as 'error' (a NetlinkError): listen for it, as with any EventEmitter.
 * - Works in the network namespace the process is in.
 */
import { EventEmitter } from 'node:events';
import { errorMessage } from '../../core/errors.js';
import { createRtNetlink, rt, type NetlinkMessage, type RtNetlinkSocket } from './lib.js';
import { addressIdentity, parseAddress } from './address-decode.js';
import type { RawAddress } from './address-decode.js';
import { errnoCodeOf, NetlinkError } from './errors.js';
import { dropNotificationTypes } from './kernel-filter.js';
import { LinkResolver, parseLink } from './links.js';
import { NLM_F_DUMP, RTM, rtRequest, withoutTypedDecode } from './request.js';
import type { AddressEvent, LinkEvent, LinkInfo, NetlinkEvent } from './types.js';


interface WatcherEvents {
  event: [NetlinkEvent];
  link: [LinkEvent];
  'address-added': [AddressEvent];
  'address-removed': [AddressEvent];
  error: [NetlinkError];
  'links-changed': [];
  closed: [];
}

export interface WatcherOptions {
  /** false: no 'address-added' events, and no RTM_NEWADDR notifications read (see above). Default true. */
  readonly addressAdded?: boolean;
}

const addrKey = (a: { ifindex: number; address: string; prefixLength: number }): string =>
  `${a.ifindex} ${a.address}/${a.prefixLength}`;

export class RtnetlinkWatcher extends EventEmitter<WatcherEvents> {
  private readonly links = new Map<number, { ifname: string; up: boolean; running: boolean }>();
  /** Whether 'address-added' is published (WatcherOptions.addressAdded). */
  private addressAdded = true;
  /** Why RTM_NEWADDR could not be dropped in the kernel (addressAdded false only), else undefined. */
  kernelFilterError: string | undefined;
  private readonly addresses = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly sock: RtNetlinkSocket,
    private readonly requestSock: RtNetlinkSocket,
    private readonly ownsRequestSock: boolean,
  ) {
    super();
    this.resolver = new LinkResolver(requestSock);
  }

  private readonly resolver: LinkResolver;

  /**
   * Subscribes, then reads the current links and addresses as the baseline.
   * Dumps and lookups go through `requestSock` (a socket with no multicast groups; see
   * request.ts); one is created, and closed with the watcher, when not given.
   */
  static async open(requestSock?: RtNetlinkSocket, opts: WatcherOptions = {}): Promise<RtnetlinkWatcher> {
    let sock: RtNetlinkSocket | undefined;
    let req: RtNetlinkSocket | undefined;
    try {
      req = requestSock ?? withoutTypedDecode(createRtNetlink());
      // netlink 0.3.0 typings make the two buffer sizes mandatory; 0 keeps the default.
      sock = withoutTypedDecode(createRtNetlink({ ref: true, recvBufferSize: 1 << 20, sendBufferSize: 0 }));
      sock.addMembership('LINK');
      sock.addMembership('IPV4_IFADDR');
      sock.addMembership('IPV6_IFADDR');
    } catch (err) {
      sock?.socket.close();
      if (requestSock === undefined) req?.socket.close();
      throw new NetlinkError('open rtnetlink watcher socket', err);
    }
    const w = new RtnetlinkWatcher(sock, req, requestSock === undefined);
    if (opts.addressAdded === false) {
      w.addressAdded = false;
      try {
        dropNotificationTypes(sock, [RTM.NEWADDR]);
      } catch (err) {
        w.kernelFilterError = errorMessage(err);
      }
    }
    // The package's parsed 'message' event drops nlmsg_type (NEWADDR vs DELADDR), so
    // listen one layer down. Kernel notifications carry seq 0 and never match a request.
    sock.socket.on('message', (msgs: NetlinkMessage[]) => {
      w.enqueue(async () => { for (const m of msgs) await w.handle(m); });
    });
    sock.socket.on('error', (err: Error) => {
      if (errnoCodeOf(err) === 'ENOBUFS') w.enqueue(() => w.sync(true));
      else w.emit('error', new NetlinkError('rtnetlink watcher socket', err));
    });
    try {
      await w.enqueue(() => w.sync(false));
    } catch (err) {
      w.close();
      throw err;
    }
    return w;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.socket.close();
    if (this.ownsRequestSock) this.requestSock.socket.close();
    this.emit('closed');
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => (this.closed ? undefined : job()));
    this.chain = run.catch((err: unknown) => {
      if (!this.closed) this.emit('error', err instanceof NetlinkError ? err : new NetlinkError('rtnetlink watcher', err));
    });
    return run;
  }

  private publish(ev: LinkEvent | AddressEvent): void {
    if (this.closed) return;
    this.emit('event', ev);
    if (ev.type === 'link') this.emit('link', ev);
    else this.emit(ev.type, ev);
  }

  private onLink(link: LinkInfo, removed: boolean): void {
    const prev = this.links.get(link.ifindex);
    if (removed) {
      this.links.delete(link.ifindex);
      for (const k of [...this.addresses]) if (k.startsWith(`${link.ifindex} `)) this.addresses.delete(k);
      this.publish({ type: 'link', ifname: link.ifname, ifindex: link.ifindex, up: false, running: false, removed: true });
      return;
    }
    this.links.set(link.ifindex, { ifname: link.ifname, up: link.up, running: link.running });
    if (prev && prev.up === link.up && prev.running === link.running) return;
    this.publish({ type: 'link', ifname: link.ifname, ifindex: link.ifindex, up: link.up, running: link.running, removed: false });
  }

  private async nameOf(ifindex: number): Promise<string | undefined> {
    const known = this.links.get(ifindex);
    if (known) return known.ifname;
    try {
      const link = await this.resolver.getLinkByIndex(ifindex);
      this.links.set(ifindex, { ifname: link.ifname, up: link.up, running: link.running });
      return link.ifname;
    } catch {
      return undefined; // the link is already gone; its RTM_DELLINK follows
    }
  }

  private async onAddress(a: RawAddress, removed: boolean): Promise<void> {
    const key = addrKey(a);
    if (removed) {
      this.addresses.delete(key);
    } else {
      if (this.addresses.has(key)) return;
      this.addresses.add(key);
      if (!this.addressAdded) return;
    }
    const ifname = await this.nameOf(a.ifindex);
    if (ifname === undefined) return;
    this.publish({
      type: removed ? 'address-removed' : 'address-added',
      ifname, ifindex: a.ifindex, address: a.address, prefixLength: a.prefixLength, family: a.family,
    });
  }

  private async handle(m: NetlinkMessage): Promise<void> {
    try {
      if (m.type === RTM.NEWLINK || m.type === RTM.DELLINK) {
        if (!this.closed) this.emit('links-changed');
        const link = parseLink(m);
        if (link) this.onLink(link, m.type === RTM.DELLINK);
      } else if (m.type === RTM.NEWADDR || m.type === RTM.DELADDR) {
        // A lifetime refresh of a known address (most of the traffic: every master renews its
        // VIPs) is dropped without the full decode; onAddress would drop it too.
        if (m.type === RTM.NEWADDR) {
          if (!this.addressAdded) return;
          const id = addressIdentity(m.data);
          if (id !== undefined && this.addresses.has(addrKey(id))) return;
        }
        const a = parseAddress(m);
        if (a) await this.onAddress(a, m.type === RTM.DELADDR);
      }
    } catch (err) {
      if (err instanceof NetlinkError) throw err;
      // A message the package cannot decode: skip it rather than stop watching.
    }
  }

  /** Reads links and addresses; with `emit`, publishes what changed since the last view. */
  private async sync(emit: boolean): Promise<void> {
    if (emit && !this.closed) this.emit('links-changed'); // events were lost: renames too, perhaps
    const links = await this.resolver.listLinks();
    let replies: NetlinkMessage[];
    try {
      replies = await rtRequest(this.requestSock, RTM.GETADDR, rt.formatAddressMessage,
        { kind: 'address', data: {}, attrs: {} }, NLM_F_DUMP, 'list addresses');
    } catch (err) {
      throw new NetlinkError('list addresses', err);
    }
    const addrs = replies.filter((m) => m.type === RTM.NEWADDR).map(parseAddress).filter((a): a is RawAddress => a !== undefined);
    if (!emit) {
      for (const l of links) this.links.set(l.ifindex, { ifname: l.ifname, up: l.up, running: l.running });
      for (const a of addrs) this.addresses.add(addrKey(a));
      return;
    }
    const seen = new Set(links.map((l) => l.ifindex));
    for (const [ifindex, l] of [...this.links]) {
      if (!seen.has(ifindex)) this.onLink({ ifindex, ifname: l.ifname, up: false, running: false, operState: 'notpresent', mac: '' }, true);
    }
    for (const l of links) this.onLink(l, false);
    const now = new Map(addrs.map((a) => [addrKey(a), a]));
    for (const key of [...this.addresses]) {
      if (now.has(key)) continue;
      const [idx, cidr] = key.split(' ');
      const [address, len] = (cidr ?? '').split('/');
      this.addresses.delete(key);
      const ifindex = Number(idx);
      const name = this.links.get(ifindex)?.ifname;
      if (name === undefined || address === undefined) continue;
      this.publish({ type: 'address-removed', ifname: name, ifindex, address, prefixLength: Number(len), family: address.includes(':') ? 6 : 4 });
    }
    for (const a of addrs) await this.onAddress(a, false);
  }
}
