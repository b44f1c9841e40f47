/**
 * VRRP advert intake: every datagram the VRRP sockets receive, demultiplexed by interface,
 * family and VRID to its instance, decoded, checked (source for unicast peers, then VRID,
 * version, v2 interval and address list), counted, and handed to the instance's runner.
 *
 * Contract:
 * - never throws on wire input; every rejected advert is counted by reason (per instance, or per
 *   interface when no instance owns the VRID) and published as a `drop` event;
 * - a live sender dropped for its settings (MISCONFIGURED) is remembered by the core (the
 *   takeover it causes names it: `advert-dropped` input) and reported loudly through the
 *   instance's MismatchWatch: warn log naming the sender, the VRID and both address lists, a
 *   `config-mismatch` warning event when it starts and when it clears;
 * - a v3 interval above max-advert-interval is not dropped here: the core clamps it;
 * - drops other than MISCONFIGURED ones, a v3 interval other than ours and adverts reaching the
 *   address owner are logged rate-limited per instance and reason (advert-log.ts, RFC 9568 §7.1).
 * - HMAC authentication (auth type hmac) comes right after the source check and before any
 *   field of the advert is used: an advert that fails it is counted by its `auth-*` reason and
 *   logged through the advert log (a warning per instance and reason at most once a minute,
 *   naming the sender), and
 *   reaches nothing else (no mismatch report, no input to the core); an unsigned advert accepted
 *   in a migration mode is logged at info level, as often, so a roll-out can be checked.
 * Deliberately not here: sockets (the agent opens them and calls onDatagram/onMessage6), peer
 * presence and isolation (`heard` tells the agent a valid advert arrived).
 */
import type { Logger } from 'pino';
import type { InstanceConfig } from '../core/config/types.js';
import { decodeAdvertisement, decodeIpv4Datagram } from '../core/packet/decode.js';
import { checkSource } from '../core/packet/source.js';
import { vipAddresses } from '../core/net/address.js';
import { advertNotes, checkAgainstInstance } from '../core/packet/validate.js';
import { AdvertLog } from './advert-log.js';
import type { Advertisement } from '../core/packet/vrrp-types.js';
import type { Input } from '../core/fsm/types.js';
import type { Vrrp6Message } from '../adapters/vrrp6-socket.js';
import type { EventBus } from './event-bus.js';
import { parseIp } from '../core/packet/ip.js';
import type { SignedPart } from '../core/packet/hmac-auth.js';
import { AdvertHmac } from './advert-hmac.js';
import type { MismatchReport, MismatchWatch } from './mismatch-watch.js';
import { AdvertMemo, type AcceptedAdvert } from './advert-memo.js';
import { TargetIndex } from './target-index.js';

/** Drop reasons that mean a live sender with other settings, and how they read. */
export const MISCONFIGURED: ReadonlyMap<string, string> = new Map([
  ['address-mismatch', 'address list differs'],
  ['bad-interval', 'advert interval differs'],
  ['bad-version', 'VRRP version differs'],
]);

/** v2 authentication as the codec wants it (v3 has none). */
export function authOf(inst: InstanceConfig): Pick<Advertisement, 'auth'> {
  if (inst.version !== 2) return {};
  return { auth: inst.auth.type === 'pass' ? { type: 1, password: inst.auth.password } : { type: 0 } };
}

/**
 * `unicast-ttl-check: false`: any TTL / hop limit (the source is checked against the peers right
 * after decoding, so only a configured peer's advert gets through).
 */
function anyTtl(inst: InstanceConfig): { anyTtl?: true } {
  return inst.unicastTtlCheck === false && inst.peers.length > 0 ? { anyTtl: true } : {};
}

/** What the intake needs of an instance. */
export interface IntakeTarget {
  readonly config: InstanceConfig;
  readonly runner: {
    countDrop(reason: string): void;
    countReceived(): void;
    input(input: Input): void;
  };
  readonly peer: { readonly vrrpMismatch: MismatchWatch };
}

type Decoded = { ok: true; advert: Advertisement; src: string; signed?: SignedPart | undefined } | { ok: false; reason: string; detail: string };

export class AdvertIntake<T extends IntakeTarget> {
  /** Interface -> reason -> adverts dropped before an instance could be chosen. */
  readonly interfaceDrops: Record<string, Record<string, number>> = {};
  private readonly advertLog: AdvertLog;
  private readonly hmac: AdvertHmac;
  /** The last IPv4 advert each instance accepted: an identical repeat skips decoding and checks. */
  private readonly memo = new AdvertMemo();
  /** The running instances by family, interface and VRID. */
  private readonly index: TargetIndex<T>;

  constructor(private readonly deps: {
    readonly log: Logger;
    readonly events: EventBus;
    readonly clock: () => number;
    /** The running instances (read at each datagram: reloads change them). */
    readonly targets: () => readonly T[];
    /**
     * The configured instances, running or still starting: an advert for one that is not
     * running yet (the sockets open before the instances start) is not a stranger's VRID.
     */
    readonly configured: () => readonly InstanceConfig[];
    /** A valid advert reached `target` (before the runner's input). */
    readonly heard: (target: T) => void;
    /** HMAC state shared with the sending side (default: its own, on the wall clock). */
    readonly hmac?: AdvertHmac;
  }) {
    this.hmac = deps.hmac ?? new AdvertHmac();
    this.advertLog = new AdvertLog(deps.log);
    this.index = new TargetIndex(deps.targets);
  }

  /**
   * No running instance takes VRID `vrid` on `ifname`: counted as an interface drop, unless a
   * configured instance is about to take it (dropped silently: it is not running yet).
   */
  private noTarget(ifname: string, family: 4 | 6, vrid: number | undefined): void {
    if (vrid !== undefined && this.deps.configured().some((c) => c.family === family && c.interface === ifname && c.vrid === vrid)) {
      this.deps.log.debug({ iface: ifname, vrid }, 'dropped advert: its instance is not running yet');
      return;
    }
    this.dropOnInterface(ifname, vrid === undefined ? 'too-short' : 'bad-vrid');
    this.deps.log.debug({ iface: ifname, vrid }, 'dropped advert: no instance with this VRID on this interface');
  }

  private dropOnInterface(ifname: string, reason: string): void {
    const d = (this.interfaceDrops[ifname] ??= {});
    d[reason] = (d[reason] ?? 0) + 1;
    this.deps.events.publish({ type: 'drop', instance: null, iface: ifname, reason });
  }

  /** IPv4: a whole datagram from the raw socket (the codec checks the TTL). */
  onDatagram(ifname: string, datagram: Uint8Array): void {
    const ihl = ((datagram[0] ?? 0) & 0x0f) * 4;
    const vrid = datagram[ihl + 1];
    const target = this.index.find(4, ifname, vrid);
    if (target === undefined) {
      this.noTarget(ifname, 4, vrid);
      return;
    }
    const repeat = this.memo.match(target.config, datagram);
    if (repeat !== undefined) {
      this.accept(target, repeat);
      return;
    }
    const r = decodeIpv4Datagram(datagram, { version: target.config.version, ...authOf(target.config), ...anyTtl(target.config) });
    this.deliver(target, r.ok ? { ok: true, advert: r.advert, src: r.src, signed: r.signed } : r, datagram);
  }

  /** IPv6: the hop limit comes from the socket's ancillary data, checked by the codec. */
  onMessage6(ifname: string, m: Vrrp6Message): void {
    const vrid = m.message[1];
    const target = this.index.find(6, ifname, vrid);
    if (target === undefined) {
      this.noTarget(ifname, 6, vrid);
      return;
    }
    const r = decodeAdvertisement(m.message, { family: 6, src: m.src, dst: m.dst, ttl: m.hopLimit }, { version: target.config.version, ...anyTtl(target.config) });
    this.deliver(target, r.ok ? { ok: true, advert: r.advert, src: m.src, signed: r.signed } : r);
  }

  /** `datagram`: the IPv4 datagram `r` was decoded from, remembered if accepted without side notes. */
  private deliver(target: T, r: Decoded, datagram?: Uint8Array): void {
    const inst = target.config;
    const log = this.deps.log;
    if (!r.ok) {
      target.runner.countDrop(r.reason);
      this.advertLog.dropped(inst.name, r.reason, r.detail, undefined, this.deps.clock());
      return;
    }
    const source = checkSource(r.src, inst.peers);
    if (source.ok && !this.authentic(target, r)) return;
    const ours = { vrid: inst.vrid, version: inst.version, advertIntervalCs: inst.advertIntervalCs, vips: vipAddresses(inst.vips) };
    const check = source.ok ? checkAgainstInstance(r.advert, ours) : source;
    if (!check.ok) {
      target.runner.countDrop(check.reason);
      if (source.ok && MISCONFIGURED.has(check.reason)) {
        log.debug({ instance: inst.name, reason: check.reason, detail: check.detail, from: r.src }, 'dropped advert');
        target.runner.input({ type: 'advert-dropped', from: r.src, reason: check.reason });
        this.report(target, target.peer.vrrpMismatch.dropped(r.src, check.reason, r.advert.addresses, this.deps.clock()), check.detail);
      } else {
        this.advertLog.dropped(inst.name, check.reason, check.detail, r.src, this.deps.clock());
      }
      return;
    }
    if (inst.election === 'etcd') {
      // Elected on etcd: VRRP plays no part; a VRRP router on this VRID is counted, never heard.
      target.runner.countDrop('election-etcd');
      return;
    }
    const notes = advertNotes(r.advert, { ...ours, priority: inst.priority });
    const clamped = r.advert.version === 3 && r.advert.maxAdvertIntervalCs > inst.maxAdvertIntervalCs;
    const accepted: AcceptedAdvert = { src: r.src, priority: r.advert.priority, maxAdvertIntervalCs: r.advert.maxAdvertIntervalCs };
    if (datagram !== undefined && notes.length === 0 && !clamped && inst.auth.type !== 'hmac') this.memo.remember(inst, datagram, accepted);
    else this.memo.forget(inst);
    this.accept(target, accepted, () => {
      for (const note of notes) this.advertLog.noted(inst.name, note, r.src, inst.ownerIgnoreAdverts, this.deps.clock());
      if (clamped) {
        log.debug({ instance: inst.name, from: r.src, advertisedCs: r.advert.maxAdvertIntervalCs, maxCs: inst.maxAdvertIntervalCs },
          'advert claims an interval above max-advert-interval: adopting the maximum');
      }
    });
  }

  /**
   * An advert passed every check (or repeats one that did): the sender's settings match again,
   * `notes` are logged, the instance counts and takes it.
   */
  private accept(target: T, a: AcceptedAdvert, notes?: () => void): void {
    this.report(target, target.peer.vrrpMismatch.accepted(a.src), '');
    notes?.();
    target.runner.countReceived();
    this.deps.heard(target);
    target.runner.input({ type: 'advert', from: a.src, priority: a.priority, maxAdvertIntervalCs: a.maxAdvertIntervalCs });
  }

  /** HMAC authentication of an advert from a known source (true when there is none to do). */
  private authentic(target: T, r: Decoded & { ok: true }): boolean {
    const inst = target.config;
    if (inst.auth.type !== 'hmac') return true;
    const binding = { family: inst.family, version: r.advert.version, vrid: r.advert.vrid, src: parseIp(r.src, inst.family) ?? new Uint8Array(0) };
    const a = this.hmac.authenticate(inst, inst.auth, r.signed, binding, r.src);
    const window = inst.auth.timeWindowSec;
    if (a.ok) {
      if (!a.signed) this.advertLog.unsigned(inst, r.src, inst.auth.mode, this.deps.clock());
      if (a.signed && inst.auth.antiReplay === 'time' && Math.abs(a.skewSec) * 2 > window) this.advertLog.skewed(inst, r.src, a.skewSec, window, this.deps.clock());
      return true;
    }
    target.runner.countDrop(a.reason);
    this.deps.log.debug({ instance: inst.name, reason: a.reason, detail: a.detail, from: r.src }, 'dropped advert');
    this.advertLog.authFailed(inst, r.src, a.reason, a.detail, this.deps.clock());
    return false;
  }

  private report(target: T, report: MismatchReport | undefined, detail: string): void {
    if (report === undefined) return;
    const { from, reason, theirs, count } = report.mismatch;
    const inst = target.config;
    const ours = vipAddresses(inst.vips);
    const what = `adverts from ${from} (VRID ${inst.vrid}) dropped: ${MISCONFIGURED.get(reason) ?? reason}`;
    if (report.kind === 'cleared') {
      this.deps.log.info({ instance: inst.name, vrid: inst.vrid, peer: from }, `adverts from ${from} accepted again: the config mismatch has cleared`);
      this.deps.events.publish({ type: 'warning', instance: inst.name, kind: 'config-mismatch', active: false, detail: `adverts from ${from} accepted again` });
      return;
    }
    const lists = `ours: [${ours.join(', ')}], theirs: [${theirs.join(', ')}]`;
    this.deps.log.warn({ instance: inst.name, vrid: inst.vrid, peer: from, reason, detail, ours, theirs, dropped: count },
      `${what} (${lists}); fix the config: this node will take over while that one still holds the VIP`);
    if (report.kind === 'new') this.deps.events.publish({ type: 'warning', instance: inst.name, kind: 'config-mismatch', active: true, detail: `${what} (${lists})` });
  }
}
