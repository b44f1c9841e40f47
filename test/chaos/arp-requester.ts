/**
 * Test tool, run inside the client namespace: `node arp-requester.js IFNAME SENDER_IP TARGET_IP
 * PERIOD_MS` broadcasts an ARP request "who-has TARGET_IP tell SENDER_IP" every PERIOD_MS until
 * killed (SIGTERM). It only sends: who answers is read from a capture (arp-watch.ts), so
 * requests and replies carry timestamps from the same clock.
 */
import { interfaceMac, PacketSocket } from '../../src/adapters/packet-socket.js';

function macBytes(mac: string): number[] {
  return mac.split(':').map((h) => Number.parseInt(h, 16));
}

function ipBytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** A broadcast ARP request (Ethernet + ARP, padded to 60 bytes). */
export function arpRequest(mac: string, senderIp: string, targetIp: string): Uint8Array {
  const f = new Uint8Array(60);
  const m = macBytes(mac);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
  f.set(m, 6);
  f.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01], 12);
  f.set(m, 22);
  f.set(ipBytes(senderIp), 28);
  f.set(ipBytes(targetIp), 38);
  return f;
}

function main(argv: readonly string[]): void {
  const [ifname, sender, target, period] = argv;
  if (ifname === undefined || sender === undefined || target === undefined) {
    process.stderr.write('usage: arp-requester IFNAME SENDER_IP TARGET_IP [PERIOD_MS]\n');
    process.exit(2);
  }
  const frame = arpRequest(interfaceMac(ifname), sender, target);
  const sock = PacketSocket.open(ifname);
  const timer = setInterval(() => {
    try { sock.send(frame); } catch (err) { process.stderr.write(`${String(err)}\n`); }
  }, Number(period ?? 20));
  process.once('SIGTERM', () => { clearInterval(timer); sock.close(); process.exit(0); });
}

if (process.argv[1]?.endsWith('arp-requester.js') === true) main(process.argv.slice(2));
