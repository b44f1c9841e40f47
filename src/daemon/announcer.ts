/**
 * Gratuitous ARP for the VIPs of one instance: a burst at takeover (burst frames, burstIntervalMs
 * apart; each round sends the request form and the reply form, which covers stubborn clients),
 * and an optional periodic refresh while master.
 *
 * Contract: `announce()` resolves once the first round is out (the rest of the burst is
 * scheduled); a new announce replaces a running burst; `stop()` cancels everything.
 * IPv6 VIPs (unsolicited NA) are sent the same way with the NA builder.
 */
import { buildGratuitousArp } from '../core/packet/arp.js';
import { buildUnsolicitedNa } from '../core/packet/ndisc.js';
import type { GarpConfig } from '../core/config/types.js';
import type { Vip } from '../core/net/address.js';
import { interfaceMac, PacketSocket } from '../adapters/packet-socket.js';

export class Announcer {
  private socket: PacketSocket | undefined;
  private burstTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ifname: string, private vips: readonly Vip[], private readonly garp: GarpConfig) {}

  /** A reload changed the VIP list: later announcements cover the new one. */
  setVips(vips: readonly Vip[]): void {
    this.vips = vips;
  }

  private frames(): Uint8Array[] {
    const senderMac = interfaceMac(this.ifname);
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
    this.socket ??= PacketSocket.open(this.ifname);
    for (const f of frames) this.socket.send(f);
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
    if (this.garp.refreshMs > 0 && this.refreshTimer === undefined) {
      this.refreshTimer = setInterval(() => {
        try {
          this.sendRound(this.frames());
        } catch {
          // Retried at the next refresh.
        }
      }, this.garp.refreshMs);
    }
  }

  private cancelBurst(): void {
    if (this.burstTimer !== undefined) clearTimeout(this.burstTimer);
    this.burstTimer = undefined;
  }

  /** Stops bursts and refreshes (on leaving MASTER), keeps the socket. */
  quiet(): void {
    this.cancelBurst();
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  close(): void {
    this.quiet();
    this.socket?.close();
    this.socket = undefined;
  }
}
