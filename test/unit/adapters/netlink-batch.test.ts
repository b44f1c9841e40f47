/**
 * rtRequestBatch against the package's real NetlinkSocket on a fake raw socket: one datagram per
 * chunk, each message with its own sequence number, only the last asking for an ACK, a failed
 * message among good ones answered on its own, one timeout per chunk, the split at the bounds,
 * and the socket's serialization queue shared with single requests.
 */
import t from 'tap';
import netlink from 'netlink';
import { chunkBatch, rtRequestBatch, type BatchMessage } from '../../../src/adapters/netlink/batch.js';
import { NLM_F_CREATE, NLM_F_REPLACE, RTM, rtRequestPayload } from '../../../src/adapters/netlink/request.js';

import { setup, PORT } from './fake-netlink-socket.js';

const { Flags } = netlink;

function msg(i: number, size = 24): BatchMessage {
  const payload = Buffer.alloc(size, i);
  return { type: RTM.NEWADDR, payload: [payload], flags: NLM_F_CREATE | NLM_F_REPLACE, what: `add VIP #${i}` };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('one datagram: own seqs, REQUEST|flags, ACK on the last only, the port read once', async (t) => {
  const { raw, sock, waiting } = setup();
  const done = rtRequestBatch(sock, [msg(1), msg(2), msg(3, 21)]);
  await tick();
  t.equal(raw.sent.length, 1, 'one send for three messages');
  const reqs = raw.messages(0);
  t.equal(reqs.length, 3);
  t.equal(new Set(reqs.map((m) => m.seq)).size, 3, 'distinct sequence numbers');
  for (const [i, r] of reqs.entries()) {
    t.equal(r.type, RTM.NEWADDR);
    const ack = i === 2 ? Flags.ACK : 0;
    t.equal(r.flags, Flags.REQUEST | ack | NLM_F_CREATE | NLM_F_REPLACE, `message ${i + 1}: ACK ${ack !== 0 ? 'asked' : 'not asked'}`);
    t.equal(r.port, PORT);
    t.same([...r.data], [...Buffer.alloc(i === 2 ? 21 : 24, i + 1)], 'payload intact (an unaligned one padded after it)');
  }
  const [a, b, c] = reqs;
  if (!a || !b || !c) throw new Error('unreachable');
  // The kernel answers the failed middle one on its own, then the last one's ACK.
  raw.ack(b, -19); // ENODEV
  let settled = false;
  void done.then(() => { settled = true; });
  await tick();
  t.notOk(settled, 'a failure alone does not settle the chunk');
  raw.ack(c, 0);
  const out = await done;
  t.equal(out[0], undefined, 'unanswered before the last ACK: done');
  t.equal(out[2], undefined);
  t.match(out[1], { name: 'NetlinkErrnoError', errno: 19, code: 'ENODEV' });
  t.match(out[1]?.message, /add VIP #2/);
  t.equal(waiting(), 0, 'no sequence number left registered');
  const again = rtRequestBatch(sock, [msg(4)]);
  await tick();
  const [d] = raw.messages(1);
  if (!d) throw new Error('no message');
  t.ok(d.seq > c.seq, 'the next batch takes new sequence numbers');
  t.equal(d.flags & Flags.ACK, Flags.ACK, 'a lone message asks for its ACK');
  raw.ack(d, 0);
  t.same(await again, [undefined]);
  t.equal(raw.addressCalls, 1, 'the port was read once for both batches');
});

t.test('the last message failing settles the others as done', async (t) => {
  const { raw, sock, waiting } = setup();
  const done = rtRequestBatch(sock, [msg(1), msg(2)]);
  await tick();
  const [, b] = raw.messages(0);
  if (!b) throw new Error('no message');
  raw.ack(b, -1); // EPERM
  const out = await done;
  t.equal(out[0], undefined);
  t.match(out[1], { code: 'EPERM' });
  t.equal(waiting(), 0);
});

t.test('one timeout for the chunk: the messages not answered fail, an answered failure keeps its own', async (t) => {
  const { raw, sock, waiting } = setup();
  const done = rtRequestBatch(sock, [msg(1), msg(2), msg(3)], { timeoutMs: 50 });
  await tick();
  const [a] = raw.messages(0);
  if (!a) throw new Error('no message');
  raw.ack(a, -17);
  const out = await done;
  t.match(out[0], { code: 'EEXIST' });
  t.match(out[1]?.message, /no acknowledgement within 50 ms/);
  t.match(out[2]?.message, /no acknowledgement within 50 ms/);
  t.equal(waiting(), 0);
});

t.test('a failed send fails every message of its chunk', async (t) => {
  const { raw, sock, waiting } = setup();
  raw.failSend = Object.assign(new Error('sendto ENOBUFS'), { code: 'ENOBUFS' });
  const out = await rtRequestBatch(sock, [msg(1), msg(2)]);
  t.equal(out.length, 2);
  for (const e of out) t.match(e, { code: 'ENOBUFS' });
  t.equal(waiting(), 0);
});

t.test('split at the bounds: chunks one after the other on the queue', async (t) => {
  t.same(chunkBatch([msg(1), msg(2), msg(3), msg(4), msg(5)], 1 << 16, 2).map((c) => c.length), [2, 2, 1], 'by count');
  // 16-byte header + 24 = 40 bytes each: 100 bytes hold two.
  t.same(chunkBatch([msg(1), msg(2), msg(3)], 100, 64).map((c) => c.length), [2, 1], 'by bytes');
  t.same(chunkBatch([msg(1, 200), msg(2)], 100, 64).map((c) => c.length), [1, 1], 'a message over the bound goes alone');
  t.same(chunkBatch([], 100, 64), []);

  const { raw, sock } = setup();
  const done = rtRequestBatch(sock, [msg(1), msg(2), msg(3)], { maxMessages: 2 });
  await tick();
  t.equal(raw.sent.length, 1, 'the second chunk waits for the first');
  for (const r of raw.messages(0)) raw.ack(r, 0);
  await tick();
  await tick();
  t.equal(raw.sent.length, 2);
  const [last] = raw.messages(1);
  if (!last) throw new Error('no message');
  raw.ack(last, -17);
  const out = await done;
  t.equal(out.length, 3);
  t.equal(out[0], undefined);
  t.equal(out[1], undefined);
  t.match(out[2], { code: 'EEXIST' }, 'results in the order of the messages, across chunks');
});

t.test('serialized with a pending single request on the same socket', async (t) => {
  const { raw, sock } = setup();
  const single = rtRequestPayload(sock, RTM.GETADDR, [Buffer.alloc(8)], 0x300, 'dump');
  const batch = rtRequestBatch(sock, [msg(1)]);
  await tick();
  t.equal(raw.sent.length, 1, 'the batch waits for the request before it');
  const [dump] = raw.messages(0);
  if (!dump) throw new Error('no message');
  raw.ack(dump, 0);
  t.same(await single, []);
  await tick();
  t.equal(raw.sent.length, 2, 'then the batch goes');
  const [add] = raw.messages(1);
  if (!add) throw new Error('no message');
  const after = rtRequestPayload(sock, RTM.GETADDR, [Buffer.alloc(8)], 0x300, 'dump again');
  await tick();
  t.equal(raw.sent.length, 2, 'and a request after the batch waits for it');
  raw.ack(add, 0);
  t.same(await batch, [undefined]);
  await tick();
  const [dump2] = raw.messages(2);
  if (!dump2) throw new Error('no message');
  raw.ack(dump2, 0);
  t.same(await after, []);
});
