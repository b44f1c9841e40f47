/**
 * VIP management over rtnetlink (RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR).
 *
 * Contracts:
 * - `addVip` is idempotent and doubles as the lifetime refresh: it sends
 *   NLM_F_CREATE|NLM_F_REPLACE, so re-adding an existing address updates its
 *   IFA_CACHEINFO lifetimes instead of failing (EEXIST is swallowed anyway). A VIP with
 *   `validLftSec` is removed by the kernel itself when nobody refreshes it: a killed agent
 *   cannot leave a stale VIP behind. The kernel does not change an existing address's label
 *   on replace.
 * - `renewVips` is addVip for several VIPs of one interface in a single batched request (one
 *   datagram, batch.ts), with per-entry outcomes: the lease renewals of every instance at once.
 * - `removeVip` removes exactly `address/prefixLength` on that interface and nothing else:
 *   it sends both IFA_LOCAL and IFA_ADDRESS, because the kernel ignores the prefix length
 *   when IFA_ADDRESS is absent. Deleting a primary IPv4 address normally deletes the
 *   secondaries of its subnet too; when that would happen, `removeVip` first turns on
 *   `net.ipv4.conf.<ifname>.promote_secondaries` (in the current network namespace) so
 *   those foreign addresses survive. Absent address or interface is not an error. Only an
 *   IPv4 VIP shorter than /32 can be such a primary, so only its removal reads the addresses
 *   (one read shared by the removals asking at the same time); the others delete directly.
 * - Everything works in whatever network namespace the process runs in.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { rt, type NetlinkMessage, type RtNetlinkSocket, type RtTypes } from './lib.js';
import { FOREVER, rawAddresses, type RawAddress } from './address-decode.js';
import { HaagentError } from '../../core/errors.js';
import { errnoCodeOf, NetlinkError } from './errors.js';
import { AF_INET, AF_INET6, isIpv6LinkLocal, ipv4Broadcast, parseCidr, samePrefix } from './ip.js';
import type { ParsedCidr } from './ip.js';
import type { LinkResolver } from './links.js';
import { BATCH_MAX_MESSAGES, rtRequestBatch } from './batch.js';
import { formatRequests, syncRequestBatch, type RouteBatch } from './sync-batch.js';
import { formatPayload, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE, RTM, rtRequest, rtRequestPayload } from './request.js';
import type { AddressInfo, AddVipOptions } from './types.js';


const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const IFNAMSIZ = 16;

export interface AddVipOptionsExt extends AddVipOptions {
  /** IPv4: also set IFA_BROADCAST to the subnet's directed broadcast (like `ip addr add ... brd +`) */
  readonly broadcast?: boolean;
}

function checkLifetime(name: string, v: number | undefined): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < 1 || v >= FOREVER) {
    throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `${name} must be an integer 1..${FOREVER - 1} seconds, got ${v}`);
  }
}

function sameAddress(a: { address: string; prefixLength: number }, vip: ParsedCidr): boolean {
  return a.address === vip.address && a.prefixLength === vip.prefixLength;
}

/**
 * Where addVip takes an interface's index from: the kernel each time (LinkResolver), or a cache
 * (IfindexCache) whose `forget` says whether the answer came from memory.
 */
export interface AddIfindexSource {
  ifindexOf(ifname: string): Promise<number>;
  forget?(ifname: string): boolean;
}

/** An add checked and ready to send: what it does, and its payload for an interface index. */
interface PreparedAdd {
  readonly what: string;
  payloadFor(ifindex: number): Uint8Array[];
}

/** Formatted RTM_NEWADDR payloads kept for renewals; far above one agent's VIPs, emptied when full. */
const MAX_KEPT_PAYLOADS = 2048;

export class AddressManager {
  /** addVip's formatted requests by everything they are made of: a renewal is the same bytes each time. */
  private readonly payloads = new Map<string, Uint8Array[]>();
  /** addVip's parsed CIDRs (read only), bounded like the payloads. */
  private readonly cidrs = new Map<string, ParsedCidr>();

  constructor(
    private readonly sock: RtNetlinkSocket,
    private readonly links: LinkResolver,
    /** where the IPv4 per-interface sysctls live (overridable for tests) */
    private readonly procSysIpv4Conf = '/proc/sys/net/ipv4/conf',
    /** addVip's index lookups (the hot path of lease renewals); removals always ask the kernel */
    private readonly addIndex: AddIfindexSource = links,
    /** renewVips' synchronous route requests (sync-batch.ts); undefined = the package socket (batch.ts) */
    private readonly route: () => RouteBatch | undefined = () => undefined,
  ) {}

  async addVip(ifname: string, cidr: string, opts: AddVipOptionsExt = {}): Promise<void> {
    const add = this.prepareAdd(ifname, cidr, opts);
    /** The kernel's refusal, or undefined when the address is in place (EEXIST counts as such). */
    const send = async (ifindex: number): Promise<unknown> => {
      try {
        await rtRequestPayload(this.sock, RTM.NEWADDR, add.payloadFor(ifindex), NLM_F_CREATE | NLM_F_REPLACE, add.what);
        return undefined;
      } catch (err) {
        return errnoCodeOf(err) === 'EEXIST' ? undefined : err;
      }
    };
    let err = await send(await this.addIndex.ifindexOf(ifname));
    // A remembered index whose interface is gone: ask the kernel for the current one.
    if (err !== undefined && errnoCodeOf(err) === 'ENODEV' && this.addIndex.forget?.(ifname) === true) {
      err = await send(await this.addIndex.ifindexOf(ifname));
    }
    if (err !== undefined) throw new NetlinkError(add.what, err);
  }

  /**
   * addVip for several VIPs of one interface at once (the lease renewals), as ONE batched
   * request (sync-batch.ts when the addon is there, else batch.ts) with the same payloads, index cache and ENODEV retry as addVip. Returns
   * one outcome per entry, in order: undefined when the VIP is in place (EEXIST included), else
   * that entry's error (a HaagentError for bad options, a NetlinkError from the kernel); an
   * interface that cannot be resolved fails every entry. Never rejects.
   */
  async renewVips(ifname: string, entries: readonly { readonly cidr: string; readonly opts?: AddVipOptionsExt }[]): Promise<(Error | undefined)[]> {
    const results: (Error | undefined)[] = new Array<Error | undefined>(entries.length).fill(undefined);
    const adds: { index: number; add: PreparedAdd }[] = [];
    entries.forEach((e, index) => {
      try {
        adds.push({ index, add: this.prepareAdd(ifname, e.cidr, e.opts ?? {}) });
      } catch (err) {
        results[index] = err instanceof Error ? err : new Error(String(err));
      }
    });
    const sendAll = async (todo: readonly { index: number; add: PreparedAdd }[]): Promise<{ index: number; add: PreparedAdd; err: unknown }[]> => {
      let ifindex: number;
      try {
        ifindex = await this.addIndex.ifindexOf(ifname);
      } catch (err) {
        return todo.map((x) => ({ ...x, err }));
      }
      const messages = todo.map(({ add }) => ({ type: RTM.NEWADDR, payload: add.payloadFor(ifindex), flags: NLM_F_CREATE | NLM_F_REPLACE, what: add.what }));
      const route = this.route();
      const outcomes = route === undefined ? await rtRequestBatch(this.sock, messages) : syncRequestBatch(route, messages);
      return todo.map((x, i) => ({ ...x, err: errnoCodeOf(outcomes[i]) === 'EEXIST' ? undefined : outcomes[i] }));
    };
    if (adds.length === 0) return results;
    let failed = (await sendAll(adds)).filter((x) => x.err !== undefined);
    // A remembered index whose interface is gone: ask the kernel for the current one.
    if (failed.some((x) => errnoCodeOf(x.err) === 'ENODEV') && this.addIndex.forget?.(ifname) === true) {
      const retry = failed.filter((x) => errnoCodeOf(x.err) === 'ENODEV');
      failed = [...failed.filter((x) => errnoCodeOf(x.err) !== 'ENODEV'), ...(await sendAll(retry)).filter((x) => x.err !== undefined)];
    }
    for (const { index, add, err } of failed) results[index] = err instanceof HaagentError ? err : new NetlinkError(add.what, err);
    return results;
  }

  /**
   * The lease renewal of `entries` on `ifname` as one datagram of requests (the same requests as
   * renewVips, each asking for an acknowledgement), for a sender of its own (an advert train).
   * Throws like addVip for bad options or an unknown interface. At most 64 entries.
   */
  async renewalDatagram(ifname: string, entries: readonly { readonly cidr: string; readonly opts?: AddVipOptionsExt }[]): Promise<Uint8Array> {
    if (entries.length === 0 || entries.length > BATCH_MAX_MESSAGES) {
      throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `a renewal datagram holds 1..${BATCH_MAX_MESSAGES} VIPs, got ${entries.length}`);
    }
    const adds = entries.map((e) => this.prepareAdd(ifname, e.cidr, e.opts ?? {}));
    const ifindex = await this.addIndex.ifindexOf(ifname);
    const messages = adds.map((add) => ({ type: RTM.NEWADDR, payload: add.payloadFor(ifindex), flags: NLM_F_CREATE | NLM_F_REPLACE, what: add.what }));
    return formatRequests(messages, messages.map((_, i) => i + 1));
  }

  /**
   * What adding `cidr` to `ifname` with `opts` sends, checked (throws HaagentError
   * HA_ERR_INVALID_ARGUMENT for bad options, like addVip): its description and its payload for
   * an interface index, formatted once and kept (a renewal is the same bytes each time).
   */
  private prepareAdd(ifname: string, cidr: string, opts: AddVipOptionsExt): PreparedAdd {
    let vip = this.cidrs.get(cidr);
    if (vip === undefined) {
      vip = parseCidr(cidr); // throws for a bad one, which is then not kept
      if (this.cidrs.size >= MAX_KEPT_PAYLOADS) this.cidrs.clear();
      this.cidrs.set(cidr, vip);
    }
    const what = `add VIP ${vip.address}/${vip.prefixLength} on ${ifname}`;
    checkLifetime('validLftSec', opts.validLftSec);
    checkLifetime('preferredLftSec', opts.preferredLftSec);
    const valid = opts.validLftSec ?? FOREVER;
    const preferred = opts.preferredLftSec ?? valid;
    if (preferred > valid) {
      throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `${what}: preferredLftSec ${preferred} exceeds validLftSec ${valid}`);
    }
    if (opts.label !== undefined) {
      if (vip.family === 6) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `${what}: IPv6 addresses have no label`);
      if (!opts.label.startsWith(ifname) || Buffer.byteLength(opts.label) >= IFNAMSIZ) {
        throw new HaagentError('HA_ERR_INVALID_ARGUMENT',
          `${what}: label ${JSON.stringify(opts.label)} must start with the interface name and be at most ${IFNAMSIZ - 1} bytes`);
      }
    }
    const scope = vip.family === 6 && isIpv6LinkLocal(vip.bytes) ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    // IPv6: no duplicate address detection, like keepalived: a VIP that moves between
    // routers must be usable at once, not tentative for a second.
    const flags = vip.family === 6 ? { nodad: true as const } : {};
    const parsed = vip;
    const payloadFor = (ifindex: number): Uint8Array[] => {
      const key = `${ifindex} ${parsed.address}/${parsed.prefixLength} ${valid} ${preferred} ${opts.label ?? ''} ${opts.broadcast === true}`;
      let payload = this.payloads.get(key);
      if (payload === undefined) {
        const attrs: RtTypes.AddressAttrs = {
          address: parsed.bytes,
          cacheInfo: { ifaValid: valid, ifaPrefered: preferred, cstamp: 0, tstamp: 0 },
          flags,
        };
        if (parsed.family === 4) {
          attrs.local = parsed.bytes;
          if (opts.label !== undefined) attrs.label = opts.label;
          const brd = opts.broadcast === true ? ipv4Broadcast(parsed.bytes, parsed.prefixLength) : undefined;
          if (brd) attrs.broadcast = brd;
        }
        payload = formatPayload(rt.formatAddressMessage, {
          kind: 'address',
          data: { family: parsed.family === 4 ? AF_INET : AF_INET6, prefixlen: parsed.prefixLength, flags, scope, index: ifindex },
          attrs,
        });
        if (this.payloads.size >= MAX_KEPT_PAYLOADS) this.payloads.clear();
        this.payloads.set(key, payload);
      }
      return payload;
    };
    return { what, payloadFor };
  }

  /**
   * See the contract at the top. No dump for a VIP whose removal cannot take other addresses
   * with it (IPv6, IPv4 /32): the delete is sent as is, and "no such address" means already
   * gone. For an IPv4 VIP with a shorter prefix, the addresses are read to see whether it is a
   * primary with secondaries; removals asking while such a read is queued and not yet sent
   * share it (an agent stopping removes every VIP at once), so the read is never older than
   * the removal's request. Sharing may turn promote_secondaries on for secondaries that another
   * of those removals deletes at the same time (never the other way round).
   */
  async removeVip(ifname: string, cidr: string): Promise<void> {
    const vip = parseCidr(cidr);
    const what = `remove VIP ${vip.address}/${vip.prefixLength} from ${ifname}`;
    let ifindex: number;
    try {
      ifindex = await this.links.ifindexOf(ifname);
    } catch (err) {
      if (errnoCodeOf(err) === 'ENODEV') return; // no interface, so no address on it
      throw err;
    }
    if (vip.family === 4 && vip.prefixLength < 32) {
      let all: RawAddress[];
      try {
        all = await this.dumpForRemovals();
      } catch (err) {
        throw new NetlinkError(what, err);
      }
      const present = all.filter((a) => a.ifindex === ifindex && a.family === 4);
      const target = present.find((a) => sameAddress(a, vip));
      if (!target) return;
      const wouldCascade = !target.secondary && present.some((a) => a !== target && a.secondary
        && a.prefixLength >= vip.prefixLength && samePrefix(a.bytes, vip.bytes, vip.prefixLength));
      if (wouldCascade) await this.ensurePromoteSecondaries(ifname, what);
    }
    const attrs: RtTypes.AddressAttrs = vip.family === 4 ? { local: vip.bytes, address: vip.bytes } : { address: vip.bytes };
    try {
      await rtRequest(this.sock, RTM.DELADDR, rt.formatAddressMessage, {
        kind: 'address',
        data: { family: vip.family === 4 ? AF_INET : AF_INET6, prefixlen: vip.prefixLength, index: ifindex },
        attrs,
      }, 0, what);
    } catch (err) {
      const code = errnoCodeOf(err);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOENT' || code === 'ENODEV') return;
      throw new NetlinkError(what, err);
    }
  }

  /** The address dump queued for removals and not yet sent (removeVip), which a removal may share. */
  private queuedRemovalDump: Promise<RawAddress[]> | undefined;

  /** Every address, from a dump sent after this call (shared while queued); rejects with the bare cause. */
  private dumpForRemovals(): Promise<RawAddress[]> {
    if (this.queuedRemovalDump !== undefined) return this.queuedRemovalDump;
    const dump = rtRequestPayload(this.sock, RTM.GETADDR, formatPayload(rt.formatAddressMessage, { kind: 'address', data: {}, attrs: {} }),
      NLM_F_DUMP, 'list addresses', undefined, () => {
        if (this.queuedRemovalDump === dump) this.queuedRemovalDump = undefined;
      }).then(rawAddresses);
    this.queuedRemovalDump = dump;
    return dump;
  }

  /** All addresses, or those of one interface (throws NetlinkError ENODEV if it does not exist). */
  async listAddresses(ifname?: string): Promise<AddressInfo[]> {
    const what = ifname === undefined ? 'list addresses' : `list addresses of ${ifname}`;
    let names: Map<number, string>;
    if (ifname === undefined) {
      names = new Map((await this.links.listLinks()).map((l) => [l.ifindex, l.ifname]));
    } else {
      names = new Map([[await this.links.ifindexOf(ifname), ifname]]);
    }
    const out: AddressInfo[] = [];
    for (const a of await this.dump(what)) {
      const name = names.get(a.ifindex);
      if (name === undefined) continue;
      const { bytes: _bytes, ...rest } = a;
      out.push({ ...rest, ifname: name });
    }
    return out;
  }

  async hasVip(ifname: string, cidr: string): Promise<boolean> {
    const vip = parseCidr(cidr);
    return (await this.listAddresses(ifname)).some((a) => a.family === vip.family && sameAddress(a, vip));
  }

  /** The first non-secondary IPv4 address of the interface (VRRP's source address), if any. */
  async primaryIpv4(ifname: string): Promise<string | undefined> {
    return (await this.listAddresses(ifname)).find((a) => a.family === 4 && !a.secondary)?.address;
  }

  /**
   * The interface's IPv6 link-local address (VRRPv3/IPv6 source), preferring one whose
   * duplicate address detection has finished; undefined when there is none.
   */
  async linkLocalIpv6(ifname: string): Promise<string | undefined> {
    const ll = (await this.listAddresses(ifname)).filter((a) => a.family === 6 && isIpv6LinkLocal(parseCidr(a.address).bytes));
    return (ll.find((a) => !a.tentative) ?? ll[0])?.address;
  }

  private async dump(what: string): Promise<RawAddress[]> {
    let replies: NetlinkMessage[];
    try {
      replies = await rtRequest(this.sock, RTM.GETADDR, rt.formatAddressMessage,
        { kind: 'address', data: {}, attrs: {} }, NLM_F_DUMP, what);
    } catch (err) {
      throw new NetlinkError(what, err);
    }
    return rawAddresses(replies);
  }

  private async ensurePromoteSecondaries(ifname: string, what: string): Promise<void> {
    const path = `${this.procSysIpv4Conf}/${ifname}/promote_secondaries`;
    try {
      if ((await readFile(path, 'utf8')).trim() === '1') return;
      await writeFile(path, '1\n');
    } catch (err) {
      throw new NetlinkError(`${what}: cannot enable ${path} (removing this primary address would also remove the secondaries of its subnet)`, err);
    }
  }
}
