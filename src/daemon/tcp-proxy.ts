/**
 * The userspace TCP proxy mode of the load balancer (hosts without nftables): the master
 * listens on VIP:port and pipes each connection to one up real server, chosen like the kernel
 * mode (round-robin, weighted, source-hash). A connection whose server refuses is retried once
 * on the next up server. Listening waits for the VIP to be on the host (it is added just before).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { RealServer, Scheduler, VirtualService } from '../core/lb/types.js';
import { hostPort } from '../core/packet/ip.js';
import { errorMessage } from '../core/errors.js';

/** Picks a server for one connection among `up` (the up servers, in config order); pure given its counter. */
export function pick(up: readonly RealServer[], scheduler: Scheduler, counter: number, clientAddress: string): RealServer | undefined {
  if (up.length === 0) return undefined;
  if (scheduler === 'source-hash') {
    let h = 2166136261;
    for (const ch of clientAddress) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return up[h % up.length];
  }
  if (scheduler === 'weighted') {
    const total = up.reduce((a, s) => a + s.weight, 0);
    let slot = counter % total;
    for (const s of up) {
      if (slot < s.weight) return s;
      slot -= s.weight;
    }
  }
  return up[counter % up.length];
}

export class TcpProxy {
  /** Between listen attempts while the port is taken (ms). */
  static readonly RETRY_MS = 2000;
  private server: Server | undefined;
  private counter = 0;
  private stopped = false;
  private readonly sockets = new Set<Socket>();
  /** Why listening failed (e.g. EADDRINUSE: a service on this host listens on 0.0.0.0 at the port); undefined while fine. */
  error: string | undefined;

  /** `up[j]`: the verdict of `svc.realServers[j]` (only up servers get connections). */
  constructor(private svc: VirtualService, private up: readonly boolean[], private readonly log: Logger) {}

  /** New real-server verdicts (or weights) for the next connections. */
  update(svc: VirtualService, up: readonly boolean[]): void {
    this.svc = svc;
    this.up = up;
  }

  /**
   * Listens on VIP:port until stop(). While the VIP is not on the host yet (EADDRNOTAVAIL: the
   * balancer starts the proxy before the VIP is added) it retries every 10 ms for a second,
   * then every 100 ms, reporting "waiting" in `error`. While another socket holds the port
   * (EADDRINUSE) it reports that and retries every RETRY_MS, so freeing the port is enough.
   */
  async start(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.listen();
        if (this.stopped) return;
        if (this.error !== undefined) this.log.info({ vip: this.svc.vip, port: this.svc.port }, 'proxy listening after all');
        else this.log.info({ vip: this.svc.vip, port: this.svc.port }, 'proxy listening');
        this.error = undefined;
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const where = hostPort(this.svc.vip, this.svc.port);
        let waitMs = TcpProxy.RETRY_MS;
        let error: string;
        if (code === 'EADDRNOTAVAIL') {
          waitMs = attempt < 100 ? 10 : 100; // the VIP is being added: listen within ~10 ms of it
          error = `waiting for ${this.svc.vip} to be on this host to listen on ${where}`;
        } else {
          error = `cannot listen on ${where}: ${errorMessage(err)}`
            + (code === 'EADDRINUSE' ? ' (another socket holds this port on this address or on 0.0.0.0/::; move that service to another port, or use mode nftables)' : '')
            + `; retrying every ${TcpProxy.RETRY_MS / 1000} s`;
        }
        if (code !== 'EADDRNOTAVAIL' || attempt >= 100) {
          if (error !== this.error) this.log.error({ err, vip: this.svc.vip, port: this.svc.port }, `proxy ${error}`);
          this.error = error;
        }
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((client) => this.handle(client));
      server.once('error', reject);
      server.listen(this.svc.port, this.svc.vip, () => {
        server.off('error', reject);
        if (this.stopped) {
          server.close(); // stop() came while listen() was pending: do not keep the port
          resolve();
          return;
        }
        server.on('error', (err) => this.log.error({ err }, 'proxy server error'));
        this.server = server;
        resolve();
      });
    });
  }

  private handle(client: Socket, tried: ReadonlySet<string> = new Set()): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    const up = this.svc.realServers.filter((s, j) => this.up[j] === true && !tried.has(hostPort(s.address, s.port)));
    const target = pick(up, this.svc.scheduler, this.counter++, client.remoteAddress ?? '');
    if (target === undefined) {
      client.destroy();
      return;
    }
    client.pause();
    // snat: connect from that address (the proxy's counterpart of the kernel mode's SNAT).
    const upstream = connect({ host: target.address, port: target.port, ...(this.svc.snat === undefined ? {} : { localAddress: this.svc.snat }) });
    this.sockets.add(upstream);
    upstream.once('close', () => this.sockets.delete(upstream));
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', (err) => {
      if (!connected && tried.size === 0) {
        this.handle(client, new Set([hostPort(target.address, target.port)])); // once more, elsewhere
        return;
      }
      this.log.debug({ err, server: hostPort(target.address, target.port) }, 'proxied connection failed');
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
  }

  stop(): void {
    this.stopped = true;
    this.server?.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
