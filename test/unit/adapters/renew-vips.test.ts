/**
 * AddressManager.renewVips on the package's socket over a fake raw socket: one datagram for the
 * entries, addVip's very payloads, EEXIST as in place, a bad entry failing alone before the
 * kernel, an unresolvable interface failing every entry, and a remembered index that vanished
 * (ENODEV): forgotten, looked up again, and only the entries that failed sent again.
 */
import t from 'tap';
import { AddressManager, type AddIfindexSource } from '../../../src/adapters/netlink/addresses.js';
import { NetlinkError } from '../../../src/adapters/netlink/errors.js';
import type { LinkResolver } from '../../../src/adapters/netlink/links.js';
import { RTM } from '../../../src/adapters/netlink/request.js';
import { setup } from './fake-netlink-socket.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const opts = { validLftSec: 3, preferredLftSec: 3 };

/** An index source answering `current.index`, counting lookups; forget says it was remembered. */
function indexes(current: { index: number | Error }): AddIfindexSource & { lookups: number; forgets: number } {
  const src = {
    lookups: 0,
    forgets: 0,
    ifindexOf: async (): Promise<number> => {
      src.lookups += 1;
      if (current.index instanceof Error) throw current.index;
      return current.index;
    },
    forget: (): boolean => { src.forgets += 1; return true; },
  };
  return src;
}

const ifindexIn = (data: Buffer): number => data.readUInt32LE(4);

t.test('one datagram with addVip\'s payloads; EEXIST is in place; a refused entry fails alone', async (t) => {
  const { raw, sock } = setup();
  const src = indexes({ index: 2 });
  const am = new AddressManager(sock, {} as LinkResolver, undefined, src);
  const added = am.addVip('eth0', '192.0.2.10/24', opts);
  await tick();
  const [single] = raw.messages(0);
  if (!single) throw new Error('no message');
  raw.ack(single, 0);
  await added;
  const done = am.renewVips('eth0', [
    { cidr: '192.0.2.10/24', opts }, { cidr: '192.0.2.11/24', opts }, { cidr: '192.0.2.12/24', opts },
    { cidr: '192.0.2.13/24', opts: { label: 'eth9:x' } }, { cidr: 'not-a-cidr' },
  ]);
  await tick();
  await tick();
  t.equal(raw.sent.length, 2, 'one datagram for the renewals');
  const reqs = raw.messages(1);
  t.equal(reqs.length, 3, 'the two bad entries never reach the kernel');
  t.same([...(reqs[0]?.data ?? [])], [...single.data], 'the same payload as addVip\'s');
  t.ok(reqs.every((r) => r.type === RTM.NEWADDR && ifindexIn(r.data) === 2));
  const [a, b, c] = reqs;
  if (!a || !b || !c) throw new Error('unreachable');
  raw.ack(a, 0);
  raw.ack(b, -17); // EEXIST: in place
  raw.ack(c, -22); // EINVAL
  const out = await done;
  t.equal(out.length, 5);
  t.equal(out[0], undefined);
  t.equal(out[1], undefined, 'EEXIST counts as in place');
  t.type(out[2], NetlinkError);
  t.match(out[2], { code: 'HA_ERR_NETLINK', errnoCode: 'EINVAL' });
  t.match(out[2]?.message, /192\.0\.2\.12\/24 on eth0/);
  t.match(out[3], { code: 'HA_ERR_INVALID_ARGUMENT' }, 'a bad label fails its entry');
  t.ok(out[4] instanceof Error, 'a bad CIDR fails its entry');
  t.equal(src.lookups, 2, 'one index lookup per call');
});

t.test('a remembered index that vanished: forgotten, looked up again, the failed entries sent again', async (t) => {
  const { raw, sock } = setup();
  const current: { index: number | Error } = { index: 2 };
  const src = indexes(current);
  const am = new AddressManager(sock, {} as LinkResolver, undefined, src);
  const done = am.renewVips('eth0', [{ cidr: '192.0.2.10/24', opts }, { cidr: '192.0.2.11/24', opts }]);
  await tick();
  const [a, b] = raw.messages(0);
  if (!a || !b) throw new Error('unreachable');
  current.index = 7; // the interface was re-created under a new index
  raw.ack(a, 0);
  raw.ack(b, -19);
  await tick();
  await tick();
  t.equal(raw.sent.length, 2);
  const again = raw.messages(1);
  t.equal(again.length, 1, 'only the entry that failed');
  t.equal(ifindexIn(again[0]?.data ?? Buffer.alloc(8)), 7, 'with the new index');
  if (!again[0]) throw new Error('unreachable');
  raw.ack(again[0], 0);
  t.same(await done, [undefined, undefined]);
  t.equal(src.forgets, 1);
});

t.test('an interface that cannot be resolved fails every entry, nothing is sent', async (t) => {
  const { raw, sock } = setup();
  const gone = new NetlinkError('look up eth0', Object.assign(new Error('ENODEV'), { code: 'ENODEV' }));
  const am = new AddressManager(sock, {} as LinkResolver, undefined, indexes({ index: gone }));
  const out = await am.renewVips('eth0', [{ cidr: '192.0.2.10/24', opts }, { cidr: '192.0.2.11/24', opts }]);
  t.same(out, [gone, gone]);
  t.equal(raw.sent.length, 0);
  t.same(await am.renewVips('eth0', []), [], 'no entries, no request');
});
