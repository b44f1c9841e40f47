/**
 * Gratuitous ARP for the VIPs of one instance: a burst at takeover (burst frames, burstIntervalMs
 * apart; each round sends the request form and the reply form, which covers stubborn clients),
 * and an optional periodic refresh while master.
 *
 * Frames go out on the agent's one packet socket per interface (SharedFrameSockets), leased on
 * the first send and released by `close()`. The periodic refresh of each announcer is offset by
 * its own phase within the period (`refreshPhaseMs` of its slot): the first refresh is meant
 * for refresh + phase after the takeover, then one per period, so many instances that took over
 * together do not refresh in one burst. Each refresh goes out at the first advert tick at or
 * after the moment it is meant for (`refreshAtMs`), on the agent's shared timers: it rides on
 * the wake-up that sends that tick's adverts. Measured with 255 masters at 1 s adverts and a
 * 10 s refresh, refreshes each waking the agent on their own cost more than half of the
 * master's CPU (lab pair: 1.55 % of a core, against 0.98 % with the same frames sent at ticks).
 * Frames, burst and count per period are unchanged.
 *
 * Contract: `announce()` resolves once the first round is out (the rest of the burst is
 * scheduled); a new announce replaces a running burst; `stop()` cancels everything.
 * IPv6 VIPs (unsolicited NA) are sent the same way with the NA builder.
 */
import { buildGratuitousArp } from '../core/packet/arp.js';
import { buildUnsolicitedNa } from '../core/packet/ndisc.js';
import type { GarpConfig } from '../core/config/types.js';
import type { Vip } from '../core/net/address.js';
import { refreshAtMs, refreshPhaseMs } from '../core/packet/refresh-phase.js';
import type { MonotonicClock } from '../adapters/ports.js';
import type { FrameSocketLease, SharedFrameSockets } from './announce-sockets.js';
import { DeadlineTimers, type DeadlineEntry } from './deadline-timers.js';

/** Where the refreshes are timed: the agent's shared timers, its clock, and its advert tick (ms). */
export interface RefreshTiming {
  readonly deadlines: DeadlineTimers;
  readonly clock: MonotonicClock;
  /** The instance's advert interval; 0 = no tick to ride on. */
  readonly tickMs: number;
}

/** Without the agent's timers (tests): private ones, no tick. */
function ownTiming(): RefreshTiming {
  const clock = (): number => performance.now();
  return { deadlines: new DeadlineTimers(clock), clock, tickMs: 0 };
}

export class Announcer {
  private lease: FrameSocketLease | undefined;
  private burstTimer: NodeJS.Timeout | undefined;
  /** The next refresh, on the shared timers. */
  private refreshEntry: DeadlineEntry | undefined;
  /** The last round's frames and what they were built from. */
  private built: { readonly mac: string; readonly vips: readonly Vip[]; readonly frames: readonly Uint8Array[] } | undefined;

  /** `slot`: this announcer's place in the agent's refresh spread (0, 1, 2, ... in creation order). */
  constructor(
    private readonly ifname: string,
    private vips: readonly Vip[],
    private readonly garp: GarpConfig,
    private readonly sockets: SharedFrameSockets,
    private readonly slot = 0,
    private readonly timing: RefreshTiming = ownTiming(),
  ) {}

  /** A reload changed the VIP list: later announcements cover the new one. */
  setVips(vips: readonly Vip[]): void {
    this.vips = vips;
  }

  private socket(): FrameSocketLease {
    this.lease ??= this.sockets.acquire(this.ifname);
    return this.lease;
  }

  /**
   * The frames of one round, built once per MAC and VIP list (the MAC is read at each round: a
   * changed one is announced from then on).
   */
  private frames(): readonly Uint8Array[] {
    const senderMac = this.socket().mac();
    const c = this.built;
    if (c !== undefined && c.mac === senderMac && c.vips === this.vips) return c.frames;
    const frames = this.build(senderMac);
    this.built = { mac: senderMac, vips: this.vips, frames };
    return frames;
  }

  private build(senderMac: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const { address: ip, family } of this.vips) {
      if (family === 6) {
        out.push(buildUnsolicitedNa({ senderMac, ip }));
      } else {
        out.push(buildGratuitousArp({ senderMac, ip, op: 'request' }));
        out.push(buildGratuitousArp({ senderMac, ip, op: 'reply' }));
      }
    }
    return out;
  }

  private sendRound(frames: readonly Uint8Array[]): void {
    const socket = this.socket();
    for (const f of frames) socket.send(f);
  }

  async announce(): Promise<void> {
    this.cancelBurst();
    if (this.garp.burst === 0) return;
    const frames = this.frames();
    this.sendRound(frames);
    let left = this.garp.burst - 1;
    const next = (): void => {
      if (left <= 0) {
        this.burstTimer = undefined;
        return;
      }
      left -= 1;
      try {
        this.sendRound(frames);
      } catch {
        // A failed later round is not fatal: the first round already went out.
      }
      this.burstTimer = setTimeout(next, this.garp.burstIntervalMs);
    };
    this.burstTimer = setTimeout(next, this.garp.burstIntervalMs);
    const { refreshMs } = this.garp;
    if (refreshMs > 0 && this.refreshEntry === undefined) {
      this.scheduleRefresh(this.timing.clock() + refreshMs + refreshPhaseMs(this.slot, refreshMs));
    }
  }

  /** Arms the refresh meant for `baseMs` (sent at its tick), then the next one a period after `baseMs`. */
  private scheduleRefresh(baseMs: number): void {
    const { refreshMs } = this.garp;
    const { deadlines, clock, tickMs } = this.timing;
    let base = baseMs;
    // A tick longer than the period can round two bases to one tick: skip to one still ahead.
    while (refreshAtMs(base, tickMs) <= clock()) base += refreshMs;
    this.refreshEntry = deadlines.at(refreshAtMs(base, tickMs), () => {
      this.refreshEntry = undefined;
      try {
        this.sendRound(this.frames());
      } catch {
        // Retried at the next refresh.
      }
      this.scheduleRefresh(base + refreshMs);
    });
  }

  private cancelBurst(): void {
    if (this.burstTimer !== undefined) clearTimeout(this.burstTimer);
    this.burstTimer = undefined;
  }

  /** Stops bursts and refreshes (on leaving MASTER), keeps the socket lease. */
  quiet(): void {
    this.cancelBurst();
    if (this.refreshEntry !== undefined) this.timing.deadlines.cancel(this.refreshEntry);
    this.refreshEntry = undefined;
  }

  close(): void {
    this.quiet();
    this.lease?.release();
    this.lease = undefined;
  }
}
