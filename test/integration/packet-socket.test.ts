/**
 * AF_PACKET announcer socket against a real kernel: a gratuitous ARP sent through
 * PacketSocket from namespace A must change namespace B's neighbour table.
 *
 * Topology per test: netns hana-<pid>-<tag>-a (veth-a, 10.99.0.1/24) <-veth-> netns
 * hana-<pid>-<tag>-b (veth-b, 10.99.0.2/24). The sender runs in a child process started with
 * `ip netns exec`, using the real src/adapters/packet-socket.ts through tap's TypeScript loader.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { HaagentError } from '../../src/core/errors.js';
import { PacketSocket, interfaceMac } from '../../src/adapters/packet-socket.js';
import { createNamespaces, ip, moduleScript, runTsChildSync, sysctl, vethPair, type Teardown } from '../helpers/netns.js';

const SENDER_IP = '10.99.0.1';
const RECEIVER_IP = '10.99.0.2';
const BOGUS_MAC = '02:00:00:00:00:99';

function rootAndNetnsSkipReason(): string | false {
  if (process.platform !== 'linux') return 'AF_PACKET and network namespaces are Linux-only';
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN for ip netns, CAP_NET_RAW for AF_PACKET)';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    return `\`ip netns\` is unavailable: ${probe.error?.message ?? probe.stderr.trim()}`;
  }
  return false;
}

interface Lab {
  nsA: string;
  nsB: string;
  macA: string;
}

/** Builds the two namespaces and the veth cable; registers their removal on t.teardown first. */
function buildLab(t: Teardown, tag: string): Lab {
  const nsA = `hana-${process.pid}-${tag}-a`;
  const nsB = `hana-${process.pid}-${tag}-b`;
  createNamespaces(t, [nsA, nsB]);
  vethPair({ ns: nsA, dev: 'veth-a', addresses: [`${SENDER_IP}/24`] }, { ns: nsB, dev: 'veth-b', addresses: [`${RECEIVER_IP}/24`] });
  const links = JSON.parse(ip('-n', nsA, '-j', 'link', 'show', 'dev', 'veth-a')) as { address: string }[];
  const macA = links[0]?.address;
  if (macA === undefined) throw new Error(`no MAC for veth-a in ${nsA}`);
  return { nsA, nsB, macA };
}

function macBytes(mac: string): number[] {
  return mac.split(':').map((h) => parseInt(h, 16));
}

function ipv4Bytes(addr: string): number[] {
  return addr.split('.').map(Number);
}

/**
 * A 42-byte gratuitous ARP request (RFC 5227 §3 "ARP Announcement": sender IP = target IP),
 * built here so this test does not depend on the core ARP builder.
 */
function gratuitousArp(senderMac: string, senderIp: string): Uint8Array {
  return Uint8Array.from([
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // Ethernet destination: broadcast
    ...macBytes(senderMac), // Ethernet source
    0x08, 0x06, // EtherType ARP
    0x00, 0x01, // HTYPE Ethernet
    0x08, 0x00, // PTYPE IPv4
    6, 4, // HLEN, PLEN
    0x00, 0x01, // OPER request
    ...macBytes(senderMac), // SHA
    ...ipv4Bytes(senderIp), // SPA
    ...[0, 0, 0, 0, 0, 0], // THA (ignored in an announcement)
    ...ipv4Bytes(senderIp), // TPA = SPA
  ]);
}

/**
 * Runs PacketSocket inside `ns` in a child process (the test process cannot change its own
 * network namespace). Returns the MAC the child read with interfaceMac().
 */
function sendFromNamespace(ns: string, ifname: string, frame: Uint8Array): string {
  const moduleUrl = new URL('../../src/adapters/packet-socket.ts', import.meta.url).href;
  const child = `
    const [url, ifname, hex] = process.argv.slice(1);
    const { PacketSocket, interfaceMac } = await import(url);
    const mac = interfaceMac(ifname);
    const socket = PacketSocket.open(ifname);
    try { socket.send(Buffer.from(hex, 'hex')); } finally { socket.close(); }
    process.stdout.write(JSON.stringify({ mac }));
  `;
  const result = runTsChildSync(ns, moduleScript(child, moduleUrl, ifname, Buffer.from(frame).toString('hex')), 30_000);
  if (result.status !== 0) {
    throw new Error(`sender in ${ns} failed (status ${result.status}): ${result.error?.message ?? result.stderr}`);
  }
  return (JSON.parse(result.stdout) as { mac: string }).mac;
}

interface Neighbour {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
}

function neighbour(ns: string, addr: string): Neighbour | undefined {
  const all = JSON.parse(ip('-n', ns, '-j', 'neigh', 'show', 'to', addr, 'dev', 'veth-b')) as Neighbour[];
  return all.find((n) => n.dst === addr);
}

/** The kernel processes the frame in softirq after the send returns: poll briefly. */
async function waitForLladdr(ns: string, addr: string, mac: string): Promise<Neighbour | undefined> {
  for (let i = 0; i < 50; i++) {
    const n = neighbour(ns, addr);
    if (n?.lladdr === mac) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
  return neighbour(ns, addr);
}

t.test('open() on a missing interface throws HA_ERR_ANNOUNCE naming it', async (t) => {
  const ifname = 'hana-nosuch0';
  const err = (() => {
    try {
      PacketSocket.open(ifname);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(err instanceof HaagentError, 'a HaagentError');
  t.match(err, { code: 'HA_ERR_ANNOUNCE', message: new RegExp(ifname) });
  t.match((err as Error).cause, { code: 'ENODEV', errno: 19, syscall: 'if_nametoindex' }, 'cause carries the errno');
  t.throws(() => interfaceMac(ifname), { code: 'HA_ERR_ANNOUNCE', message: new RegExp(ifname) });
});

const skip = rootAndNetnsSkipReason();

t.test('gratuitous ARP replaces a stale neighbour entry in the peer namespace', { skip }, async (t) => {
  const lab = buildLab(t, 'st');
  ip('-n', lab.nsB, 'neigh', 'replace', SENDER_IP, 'lladdr', BOGUS_MAC, 'dev', 'veth-b', 'nud', 'stale');
  t.equal(neighbour(lab.nsB, SENDER_IP)?.lladdr, BOGUS_MAC, 'precondition: B holds a bogus MAC for A');

  const childMac = sendFromNamespace(lab.nsA, 'veth-a', gratuitousArp(lab.macA, SENDER_IP));
  t.equal(childMac, lab.macA, 'interfaceMac() agrees with `ip link`');

  const entry = await waitForLladdr(lab.nsB, SENDER_IP, lab.macA);
  t.equal(entry?.lladdr, lab.macA, "B's entry for 10.99.0.1 now holds A's real MAC");
});

t.test('gratuitous ARP creates a neighbour entry when the peer has arp_accept=1', { skip }, async (t) => {
  const lab = buildLab(t, 'aa');
  sysctl(lab.nsB, 'net.ipv4.conf.veth-b.arp_accept=1');
  t.equal(neighbour(lab.nsB, SENDER_IP), undefined, 'precondition: B has no entry for A');

  sendFromNamespace(lab.nsA, 'veth-a', gratuitousArp(lab.macA, SENDER_IP));

  const entry = await waitForLladdr(lab.nsB, SENDER_IP, lab.macA);
  t.equal(entry?.lladdr, lab.macA, "B learned A's MAC from the announcement alone");
});

t.test('a closed PacketSocket refuses to send and close is idempotent', { skip }, async (t) => {
  const socket = PacketSocket.open('lo');
  socket.close();
  socket.close();
  t.throws(() => socket.send(new Uint8Array(60)), { code: 'HA_ERR_ANNOUNCE', message: /lo.*closed/ });
});
