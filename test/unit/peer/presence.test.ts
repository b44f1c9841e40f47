/**
 * Presence bookkeeping: one test per rule of src/core/peer/presence.ts.
 */
import t from 'tap';
import type { Hello } from '../../../src/core/peer/hello.js';
import {
  anyPeerHeardSince,
  EMPTY_PEER_TABLE,
  emptyPeerTable,
  fingerprintMismatches,
  isStaleSeq,
  maxEpochSeen,
  notePeer,
  pathsHeardSince,
  peersHeardSince,
  REORDER_WINDOW,
} from '../../../src/core/peer/presence.js';

const HELLO: Hello = {
  v: 1,
  instance: 'web',
  vrid: 51,
  node: 'lb-b',
  state: 'BACKUP',
  priority: 100,
  vrrpAddress: '10.98.1.2',
  advertIntervalCs: 100,
  epoch: 3,
  fingerprint: 'aaaaaaaaaaaaaaaa',
  seq: 10,
};
const hello = (over: Partial<Hello> = {}): Hello => ({ ...HELLO, ...over });

t.test('an empty table has heard nobody; max epoch 0', async (t) => {
  const table = emptyPeerTable();
  t.equal(table, EMPTY_PEER_TABLE);
  t.same(peersHeardSince(table, 0), []);
  t.equal(anyPeerHeardSince(table, -Infinity), false);
  t.equal(maxEpochSeen(table), 0);
  t.same(fingerprintMismatches(table, 'x'), []);
});

t.test('a noted hello makes an entry with its fields, the time and the path', async (t) => {
  const table = notePeer(emptyPeerTable(), { node: 'lb-b', path: 'eth1', hello: hello(), nowMs: 1000 });
  t.same(peersHeardSince(table, 1000), [{
    node: 'lb-b', state: 'BACKUP', priority: 100, epoch: 3, fingerprint: 'aaaaaaaaaaaaaaaa',
    vrrpAddress: '10.98.1.2', seq: 10, lastSeenMs: 1000, paths: { eth1: 1000 },
  }]);
});

t.test('immutable: notePeer returns a new table and leaves the old one alone', async (t) => {
  const t0 = emptyPeerTable();
  const t1 = notePeer(t0, { node: 'lb-b', path: 'eth1', hello: hello(), nowMs: 1000 });
  const t2 = notePeer(t1, { node: 'lb-b', path: 'eth2', hello: hello({ seq: 11, state: 'MASTER' }), nowMs: 2000 });
  t.same(peersHeardSince(t0, 0), []);
  t.equal(peersHeardSince(t1, 0)[0]?.state, 'BACKUP');
  t.same(peersHeardSince(t1, 0)[0]?.paths, { eth1: 1000 });
  t.equal(peersHeardSince(t2, 0)[0]?.state, 'MASTER');
  t.ok(Object.isFrozen(t2) && Object.isFrozen(t2.peers) && Object.isFrozen(peersHeardSince(t2, 0)[0]?.paths));
});

t.test('heard since: inclusive boundary; silent peers drop out, not forgotten', async (t) => {
  let table = notePeer(emptyPeerTable(), { node: 'lb-b', path: 'eth1', hello: hello(), nowMs: 1000 });
  table = notePeer(table, { node: 'lb-c', path: 'eth1', hello: hello({ node: 'lb-c' }), nowMs: 5000 });
  t.same(peersHeardSince(table, 1000).map((e) => e.node), ['lb-b', 'lb-c']);
  t.same(peersHeardSince(table, 1001).map((e) => e.node), ['lb-c']);
  t.equal(anyPeerHeardSince(table, 5000), true);
  t.equal(anyPeerHeardSince(table, 5001), false);
});

t.test('redundant heartbeats: one path silent, the other still heard -> peer still heard', async (t) => {
  // eth1 (internal, VRRP) went silent at 1000; eth2 keeps hearing the peer.
  let table = emptyPeerTable();
  table = notePeer(table, { node: 'lb-b', path: 'eth1', hello: hello({ seq: 1 }), nowMs: 1000 });
  table = notePeer(table, { node: 'lb-b', path: 'eth2', hello: hello({ seq: 1 }), nowMs: 1000 });
  table = notePeer(table, { node: 'lb-b', path: 'eth2', hello: hello({ seq: 2 }), nowMs: 4000 });
  const masterDownMs = 3000;
  t.equal(anyPeerHeardSince(table, 4000 - masterDownMs + 1), true);
  t.same(pathsHeardSince(table, 'lb-b', 2000), ['eth2']);
  t.same(pathsHeardSince(table, 'lb-b', 0), ['eth1', 'eth2']);
  t.same(pathsHeardSince(table, 'nobody', 0), []);
  t.same(peersHeardSince(table, 0)[0]?.paths, { eth1: 1000, eth2: 4000 });
});

t.test('the newest hello by seq sets the fields; a reordered older one does not roll them back', async (t) => {
  let table = notePeer(emptyPeerTable(), { node: 'lb-b', path: 'eth2', hello: hello({ seq: 11, state: 'MASTER', priority: 150 }), nowMs: 1000 });
  // seq 10 sent earlier, delayed on eth1, arrives later.
  table = notePeer(table, { node: 'lb-b', path: 'eth1', hello: hello({ seq: 10, state: 'BACKUP', priority: 100 }), nowMs: 1005 });
  const e = peersHeardSince(table, 0)[0];
  t.match(e, { state: 'MASTER', priority: 150, seq: 11, lastSeenMs: 1005 });
  t.same(e?.paths, { eth2: 1000, eth1: 1005 }, 'the late hello still proves eth1 works');
});

t.test('seq is compared mod 2^32: wrap-around is newer', async (t) => {
  let table = notePeer(emptyPeerTable(), { node: 'lb-b', path: 'eth1', hello: hello({ seq: 0xffff_ffff, priority: 1 }), nowMs: 1 });
  table = notePeer(table, { node: 'lb-b', path: 'eth1', hello: hello({ seq: 0, priority: 2 }), nowMs: 2 });
  t.equal(peersHeardSince(table, 0)[0]?.priority, 2);
  t.equal(isStaleSeq(0xffff_ffff, 0), true);
  t.equal(isStaleSeq(5, 5), false, 'a duplicate is not stale (same fields)');
});

t.test('a seq far behind is a restarted peer: accepted', async (t) => {
  let table = notePeer(emptyPeerTable(), { node: 'lb-b', path: 'eth1', hello: hello({ seq: 5000, state: 'MASTER' }), nowMs: 1 });
  table = notePeer(table, { node: 'lb-b', path: 'eth1', hello: hello({ seq: 0, state: 'INIT' }), nowMs: 2 });
  t.equal(peersHeardSince(table, 0)[0]?.state, 'INIT');
  t.equal(isStaleSeq(5000 - REORDER_WINDOW, 5000), true);
  t.equal(isStaleSeq(5000 - REORDER_WINDOW - 1, 5000), false);
});

t.test('times never go backwards', async (t) => {
  let table = notePeer(emptyPeerTable(), { node: 'lb-b', path: 'eth1', hello: hello({ seq: 1 }), nowMs: 5000 });
  table = notePeer(table, { node: 'lb-b', path: 'eth1', hello: hello({ seq: 2 }), nowMs: 4000 });
  const e = peersHeardSince(table, 0)[0];
  t.equal(e?.lastSeenMs, 5000);
  t.equal(e?.paths['eth1'], 5000);
  t.equal(e?.seq, 2, 'the fields still follow seq');
});

t.test('maxEpochSeen: the largest epoch of any hello, stale ones and other nodes included', async (t) => {
  let table = notePeer(emptyPeerTable(), { node: 'lb-b', path: 'eth1', hello: hello({ seq: 11, epoch: 4 }), nowMs: 1 });
  table = notePeer(table, { node: 'lb-b', path: 'eth1', hello: hello({ seq: 10, epoch: 9 }), nowMs: 2 });
  t.equal(peersHeardSince(table, 0)[0]?.epoch, 4, 'entry follows the newest hello');
  t.equal(maxEpochSeen(table), 9);
  table = notePeer(table, { node: 'lb-c', path: 'eth1', hello: hello({ node: 'lb-c', epoch: 2 }), nowMs: 3 });
  t.equal(maxEpochSeen(table), 9);
});

t.test('fingerprintMismatches: peers whose latest fingerprint differs from ours', async (t) => {
  let table = notePeer(emptyPeerTable(), { node: 'lb-b', path: 'eth1', hello: hello({ fingerprint: 'aaaa' }), nowMs: 1 });
  table = notePeer(table, { node: 'lb-c', path: 'eth1', hello: hello({ fingerprint: 'bbbb' }), nowMs: 1 });
  t.same(fingerprintMismatches(table, 'aaaa').map((e) => e.node), ['lb-c']);
  t.same(fingerprintMismatches(table, 'cccc').map((e) => e.node), ['lb-b', 'lb-c']);
  // lb-c fixes its config.
  table = notePeer(table, { node: 'lb-c', path: 'eth1', hello: hello({ fingerprint: 'aaaa', seq: 11 }), nowMs: 2 });
  t.same(fingerprintMismatches(table, 'aaaa'), []);
});

t.test('node and path names that look like Object.prototype keys are plain keys', async (t) => {
  let table = notePeer(emptyPeerTable(), { node: '__proto__', path: 'constructor', hello: hello(), nowMs: 1 });
  table = notePeer(table, { node: 'toString', path: '__proto__', hello: hello(), nowMs: 2 });
  t.same(peersHeardSince(table, 0).map((e) => e.node).sort(), ['__proto__', 'toString']);
  t.same(pathsHeardSince(table, '__proto__', 0), ['constructor']);
  t.same(pathsHeardSince(table, 'toString', 0), ['__proto__']);
  t.same(pathsHeardSince(table, 'hasOwnProperty', 0), []);
});
