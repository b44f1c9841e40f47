/**
 * The edges the daemon depends on, as interfaces, so the daemon can be driven by fakes in unit
 * tests and by the real adapters (raw socket, rtnetlink, AF_PACKET) in production.
 */

/** Sends VRRP messages (the VRRP part only; the kernel builds the IP header). */
export interface VrrpTransport {
  send(message: Uint8Array, dst: string): Promise<void>;
  close(): void;
}

/** Sends complete Ethernet frames on one interface. */
export interface FrameSender {
  send(frame: Uint8Array): void;
  close(): void;
}

/** Monotonic milliseconds (never the wall clock: it can jump). */
export type MonotonicClock = () => number;
