/**
 * AddressManager.removeVip on the package's socket over a fake raw socket: a VIP whose removal
 * cannot take other addresses with it (IPv6, IPv4 /32) is deleted without reading the
 * addresses; an IPv4 VIP with a shorter prefix reads them, one read shared by the removals
 * that ask while it is queued, and never by one that asks after it was sent; a primary with
 * secondaries turns promote_secondaries on before its delete.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import netlink, { type NetlinkMessage } from 'netlink';
import { AddressManager } from '../../../src/adapters/netlink/addresses.js';
import { NetlinkError } from '../../../src/adapters/netlink/errors.js';
import { parseCidr } from '../../../src/adapters/netlink/ip.js';
import type { LinkResolver } from '../../../src/adapters/netlink/links.js';
import { formatPayload, RTM } from '../../../src/adapters/netlink/request.js';
import { PORT, setup, type FakeRaw } from './fake-netlink-socket.js';

const { formatMessage, MessageType, rt } = netlink;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const EADDRNOTAVAIL = 99;
const EPERM = 1;
const IFINDEX = 2;
const links = { ifindexOf: async (): Promise<number> => IFINDEX } as unknown as LinkResolver;

/** Every request sent so far, in order (one message per datagram here). */
function requests(raw: FakeRaw): NetlinkMessage[] {
  return raw.sent.map((_, i) => raw.messages(i)).flat();
}

/** What a DELADDR asks for: "address/prefix on ifindex". */
function deleted(m: NetlinkMessage): string {
  const { data, attrs } = rt.parseAddressMessage(m.data);
  const bytes = attrs.address ?? attrs.local;
  const text = bytes === undefined ? '?' : bytes.length === 4 ? [...bytes].join('.') : 'v6';
  return `${text}/${data.prefixlen} on ${data.index}`;
}

/** Answers the dump `req` as the kernel would: one RTM_NEWADDR per address, then NLMSG_DONE. */
function answerDump(raw: FakeRaw, req: NetlinkMessage, addrs: readonly { cidr: string; secondary?: boolean; ifindex?: number }[]): void {
  const parts = addrs.map(({ cidr, secondary, ifindex }) => {
    const v = parseCidr(cidr);
    const data = Buffer.concat(formatPayload(rt.formatAddressMessage, {
      kind: 'address',
      data: { family: 2, prefixlen: v.prefixLength, flags: secondary === true ? { secondary: true } : {}, scope: 0, index: ifindex ?? IFINDEX },
      attrs: { local: v.bytes, address: v.bytes },
    }));
    return Buffer.concat(formatMessage({ type: RTM.NEWADDR, flags: 2, seq: req.seq, port: PORT, data }));
  });
  const done = Buffer.concat(formatMessage({ type: MessageType.DONE, flags: 2, seq: req.seq, port: PORT, data: Buffer.alloc(4) }));
  raw.emit('message', Buffer.concat([...parts, done]), { port: 0, groups: 0 });
}

t.test('IPv4 /32 and IPv6: one delete, no dump; "no such address" is already gone, another refusal fails', async (t) => {
  const { raw, sock } = setup();
  const am = new AddressManager(sock, links);
  const gone = am.removeVip('eth0', '192.0.2.10/32');
  await tick();
  let sent = requests(raw);
  t.same(sent.map((m) => m.type), [RTM.DELADDR], 'a delete and nothing else');
  t.equal(deleted(sent[0] as NetlinkMessage), '192.0.2.10/32 on 2');
  raw.ack(sent[0] as NetlinkMessage, -EADDRNOTAVAIL);
  await gone;

  const v6 = am.removeVip('eth0', 'fd00:10::100/64');
  await tick();
  sent = requests(raw);
  t.same(sent.map((m) => m.type), [RTM.DELADDR, RTM.DELADDR]);
  t.equal(deleted(sent[1] as NetlinkMessage), 'v6/64 on 2');
  raw.ack(sent[1] as NetlinkMessage, 0);
  await v6;

  const refused = am.removeVip('eth0', '192.0.2.11/32');
  await tick();
  raw.ack(requests(raw)[2] as NetlinkMessage, -EPERM);
  const err = await refused.then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof NetlinkError, 'a NetlinkError');
  t.equal((err as NetlinkError).errnoCode, 'EPERM');
  t.match((err as NetlinkError).message, /remove VIP 192\.0\.2\.11\/32 from eth0/);
});

t.test('IPv4 shorter than /32: removals asking at once share one dump; one asking after it was sent gets its own', async (t) => {
  const { raw, sock } = setup();
  const am = new AddressManager(sock, links, '/nonexistent');
  const done = Promise.all(['192.0.2.10/24', '192.0.2.11/24', '192.0.2.12/24'].map((c) => am.removeVip('eth0', c)));
  await tick();
  await tick();
  t.same(requests(raw).map((m) => m.type), [RTM.GETADDR], 'one dump for three removals');
  const late = am.removeVip('eth0', '192.0.2.11/25');
  await tick();
  t.equal(requests(raw).length, 1, 'the late removal waits behind the dump in flight');
  // 192.0.2.1 is the interface's own primary; .12 is absent; .11/24 on another interface does not count.
  answerDump(raw, requests(raw)[0] as NetlinkMessage, [
    { cidr: '192.0.2.1/24' }, { cidr: '192.0.2.10/24', secondary: true }, { cidr: '192.0.2.11/24', secondary: true },
    { cidr: '192.0.2.12/24', ifindex: 3 },
  ]);
  await tick();
  await tick();
  t.same(requests(raw).map((m) => m.type), [RTM.GETADDR, RTM.GETADDR], 'the late removal\'s own dump, sent after the first was answered');
  answerDump(raw, requests(raw)[1] as NetlinkMessage, [{ cidr: '192.0.2.1/24' }]);
  for (let i = 0; i < 2; i++) {
    await tick();
    await tick();
    const last = requests(raw)[2 + i] as NetlinkMessage;
    t.equal(last.type, RTM.DELADDR);
    raw.ack(last, 0);
  }
  await done;
  await late;
  const all = requests(raw);
  t.same(all.filter((m) => m.type === RTM.DELADDR).map(deleted), ['192.0.2.10/24 on 2', '192.0.2.11/24 on 2'],
    'a delete for each VIP that was there, none for the absent ones');
  t.equal(all.filter((m) => m.type === RTM.GETADDR).length, 2, 'two dumps in all');
});

t.test('a primary VIP with a secondary in its subnet turns promote_secondaries on before its delete', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-remove-vip-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'eth0'));
  const file = join(dir, 'eth0', 'promote_secondaries');
  writeFileSync(file, '0\n');
  const { raw, sock } = setup();
  const am = new AddressManager(sock, links, dir);
  const gone = am.removeVip('eth0', '10.40.0.100/24');
  await tick();
  answerDump(raw, requests(raw)[0] as NetlinkMessage, [{ cidr: '10.40.0.100/24' }, { cidr: '10.40.0.7/24', secondary: true }]);
  for (let i = 0; i < 20 && requests(raw).length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(readFileSync(file, 'utf8').trim(), '1', 'turned on');
  const del = requests(raw)[1] as NetlinkMessage;
  t.equal(deleted(del), '10.40.0.100/24 on 2');
  raw.ack(del, 0);
  await gone;
});
