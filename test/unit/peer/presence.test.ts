/**
 * Presence bookkeeping: one test per rule of src/core/peer/presence.ts (fields and times, the
 * replay window per boot and per path, boot ordering and retirement, the node cap, expiry).
 */
import t from 'tap';
import type { Hello } from '../../../src/core/peer/hello.js';
import {
  anyPeerHeardSince,
  classifySeq,
  emptyPeerTable,
  expirePeers,
  fingerprintMismatches,
  markSeq,
  maxEpochSeen,
  notePeer,
  pathsHeardSince,
  peerCount,
  peerExpiryMs,
  peersHeardSince,
  PEER_EXPIRY_INTERVALS,
  PEER_TABLE_MAX_NODES,
  REPLAY_WINDOW,
  RETIRED_BOOTS_MAX,
  type PeerTable,
} from '../../../src/core/peer/presence.js';

const HELLO: Hello = {
  v: 2,
  instance: 'web',
  vrid: 51,
  node: 'lb-b',
  state: 'BACKUP',
  priority: 100,
  vrrpAddress: '10.98.1.2',
  advertIntervalCs: 100,
  epoch: 3,
  fingerprint: 'aaaaaaaaaaaaaaaa',
  boot: '1111111111111111',
  bootMs: 1000,
  seq: 10,
};
const hello = (over: Partial<Hello> = {}): Hello => ({ ...HELLO, ...over });
const EXPIRY_MS = 20_000;
const table = (): PeerTable => emptyPeerTable({ expiryMs: EXPIRY_MS });
const note = (tb: PeerTable, over: Partial<Hello>, nowMs: number, path = 'eth1') =>
  notePeer(tb, { node: over.node ?? HELLO.node, path, hello: hello(over), nowMs });

t.test('an empty table has heard nobody; max epoch 0', async (t) => {
  const tb = table();
  t.same(peersHeardSince(tb, 0), []);
  t.equal(anyPeerHeardSince(tb, -Infinity), false);
  t.equal(maxEpochSeen(tb), 0);
  t.same(fingerprintMismatches(tb, 'x'), []);
  t.not(table(), tb, 'each table is its own');
});

t.test('a noted hello makes an entry with its fields, the time and the path', async (t) => {
  const tb = table();
  t.same(note(tb, {}, 1000), { accepted: true, fresh: true, newest: true });
  t.same(peersHeardSince(tb, 1000), [{
    node: 'lb-b', state: 'BACKUP', priority: 100, epoch: 3, fingerprint: 'aaaaaaaaaaaaaaaa',
    vrrpAddress: '10.98.1.2', boot: '1111111111111111', bootMs: 1000, seq: 10, lastSeenMs: 1000, paths: { eth1: 1000 },
  }]);
  t.ok(Object.isFrozen(peersHeardSince(tb, 0)[0]?.paths), 'snapshots are frozen');
});

t.test('heard since: inclusive boundary; silent peers drop out', async (t) => {
  const tb = table();
  note(tb, {}, 1000);
  note(tb, { node: 'lb-c' }, 5000);
  t.same(peersHeardSince(tb, 1000).map((e) => e.node), ['lb-b', 'lb-c']);
  t.same(peersHeardSince(tb, 1001).map((e) => e.node), ['lb-c']);
  t.equal(anyPeerHeardSince(tb, 5000), true);
  t.equal(anyPeerHeardSince(tb, 5001), false);
});

t.test('redundant heartbeats: the copy on the second path refreshes that path only; one path silent, the other heard', async (t) => {
  const tb = table();
  t.same(note(tb, { seq: 1 }, 1000, 'eth1'), { accepted: true, fresh: true, newest: true });
  t.same(note(tb, { seq: 1 }, 1000, 'eth2'), { accepted: true, fresh: false, newest: false }, 'the same hello on eth2: a copy');
  t.same(note(tb, { seq: 2 }, 4000, 'eth2'), { accepted: true, fresh: true, newest: true });
  t.equal(anyPeerHeardSince(tb, 4000 - 3000 + 1), true);
  t.same(pathsHeardSince(tb, 'lb-b', 2000), ['eth2']);
  t.same(pathsHeardSince(tb, 'lb-b', 0), ['eth1', 'eth2']);
  t.same(pathsHeardSince(tb, 'nobody', 0), []);
  t.same(peersHeardSince(tb, 0)[0]?.paths, { eth1: 1000, eth2: 4000 });
});

t.test('replay: the same hello twice on one path is refused; a copy on another path is not', async (t) => {
  const tb = table();
  note(tb, { seq: 5, state: 'MASTER' }, 1000);
  t.match(note(tb, { seq: 5, state: 'MASTER' }, 1100), { accepted: false, reason: 'replay', detail: /already heard on eth1/ });
  t.same(note(tb, { seq: 5, state: 'MASTER' }, 1100, 'eth2'), { accepted: true, fresh: false, newest: false });
  t.match(note(tb, { seq: 5, state: 'MASTER' }, 1200, 'eth2'), { accepted: false, reason: 'replay' }, 'and then not again on eth2');
  t.equal(peersHeardSince(tb, 0)[0]?.lastSeenMs, 1000, 'neither a replay nor a copy moves the node\'s last-seen time');
});

t.test('replay window: unseen seqs inside it are fresh (reordered), older ones are refused', async (t) => {
  const tb = table();
  note(tb, { seq: 100, state: 'MASTER', priority: 150 }, 1000);
  // seq 99 sent earlier, delayed, arrives later: fresh, but does not roll the fields back.
  t.same(note(tb, { seq: 99, state: 'BACKUP', priority: 100 }, 1005), { accepted: true, fresh: true, newest: false });
  t.match(peersHeardSince(tb, 0)[0], { state: 'MASTER', priority: 150, seq: 100, lastSeenMs: 1005 });
  t.same(note(tb, { seq: 100 - REPLAY_WINDOW + 1 }, 1010), { accepted: true, fresh: true, newest: false }, 'the window\'s bottom');
  t.match(note(tb, { seq: 100 - REPLAY_WINDOW }, 1010), { accepted: false, reason: 'replay', detail: /older than the last 64/ });
  t.match(note(tb, { seq: 1 }, 1010), { accepted: false, reason: 'replay' });
});

t.test('a path heard for the first time cannot bring back a seq older than the node window', async (t) => {
  const tb = table();
  note(tb, { seq: 500 }, 1000, 'eth1');
  t.match(note(tb, { seq: 400 }, 1001, 'eth2'), { accepted: false, reason: 'replay' });
  t.same(note(tb, { seq: 500 }, 1001, 'eth2'), { accepted: true, fresh: false, newest: false });
});

t.test('window arithmetic: classify and mark', async (t) => {
  let w = { top: 10, mask: 1n };
  t.equal(classifySeq(w, 11), 'newest');
  t.equal(classifySeq(w, 10), 'seen');
  t.equal(classifySeq(w, 9), 'in-window');
  t.equal(classifySeq(w, 10 - REPLAY_WINDOW), 'too-old');
  w = markSeq(w, 9);
  t.equal(classifySeq(w, 9), 'seen');
  w = markSeq(w, 12);
  t.same([classifySeq(w, 12), classifySeq(w, 11), classifySeq(w, 10), classifySeq(w, 9)], ['seen', 'in-window', 'seen', 'seen']);
  w = markSeq(w, 12 + REPLAY_WINDOW);
  t.equal(classifySeq(w, 12), 'too-old', 'a jump past the window forgets it');
  t.equal(classifySeq(w, 13), 'in-window');
  t.same(markSeq(w, 0), w, 'marking below the window changes nothing');
});

t.test('a restarted node (later boot) is taken; its earlier boot is refused from then on', async (t) => {
  const tb = table();
  note(tb, { boot: 'aaaaaaaaaaaaaaaa', bootMs: 1000, seq: 900, state: 'MASTER' }, 1000);
  t.same(note(tb, { boot: 'bbbbbbbbbbbbbbbb', bootMs: 5000, seq: 1, state: 'INIT' }, 6000), { accepted: true, fresh: true, newest: true });
  t.match(peersHeardSince(tb, 0)[0], { boot: 'bbbbbbbbbbbbbbbb', state: 'INIT', seq: 1 });
  t.match(note(tb, { boot: 'aaaaaaaaaaaaaaaa', bootMs: 1000, seq: 901, state: 'MASTER' }, 6100),
    { accepted: false, reason: 'replay', detail: /previous incarnation/ }, 'a fresh seq of the old boot is still refused');
  t.equal(peersHeardSince(tb, 0)[0]?.state, 'INIT');
});

t.test('a boot that began earlier than the current one is refused whatever the arrival order', async (t) => {
  // The receiver meets the new boot first, then a delayed (or replayed) hello of the old one.
  const tb = table();
  note(tb, { boot: 'bbbbbbbbbbbbbbbb', bootMs: 5000, seq: 1 }, 6000);
  t.match(note(tb, { boot: 'aaaaaaaaaaaaaaaa', bootMs: 1000, seq: 36, state: 'MASTER' }, 6001),
    { accepted: false, reason: 'replay', detail: /began before the current one/ });
  t.same(note(tb, { boot: 'bbbbbbbbbbbbbbbb', bootMs: 5000, seq: 2 }, 6500), { accepted: true, fresh: true, newest: true },
    'the current boot is not disturbed');
  t.match(note(tb, { boot: 'cccccccccccccccc', bootMs: 5000, seq: 1 }, 6600), { accepted: false, reason: 'replay' }, 'same start time: not later');
});

t.test('retired boots outlive the expiry of their node: a dead peer\'s hellos stay refused', async (t) => {
  const tb = table();
  note(tb, { boot: 'aaaaaaaaaaaaaaaa', seq: 50, state: 'MASTER' }, 1000);
  expirePeers(tb, 1000 + EXPIRY_MS + 1);
  t.equal(peerCount(tb), 0, 'forgotten after the silence');
  t.match(note(tb, { boot: 'aaaaaaaaaaaaaaaa', seq: 51, state: 'MASTER' }, 1000 + EXPIRY_MS + 2), { accepted: false, reason: 'replay' });
  t.equal(peerCount(tb), 0);
  // A peer whose clock stepped back across a restart is taken once its old entry expired.
  t.same(note(tb, { boot: 'dddddddddddddddd', bootMs: 10, seq: 1 }, 1000 + EXPIRY_MS + 3), { accepted: true, fresh: true, newest: true });
});

t.test('retired boots are bounded: the oldest is forgotten first', async (t) => {
  const tb = table();
  const boot = (i: number): string => i.toString(16).padStart(16, '0');
  for (let i = 0; i <= RETIRED_BOOTS_MAX + 1; i++) note(tb, { boot: boot(i), bootMs: 1000 + i, seq: 1 }, 1000 + i);
  // Boots 0..RETIRED_BOOTS_MAX were retired; the first fell out.
  t.equal(tb.retired.size, RETIRED_BOOTS_MAX);
  t.notOk(tb.retired.has(boot(0)));
  t.ok(tb.retired.has(boot(1)) && tb.retired.has(boot(RETIRED_BOOTS_MAX)));
});

t.test('node cap: at most maxNodes nodes; more are refused until one expires', async (t) => {
  const tb = table();
  for (let i = 0; i < PEER_TABLE_MAX_NODES; i++) t.equal(note(tb, { node: `n${i}`, boot: `${i}`.padStart(16, 'a') }, 1000).accepted, true);
  t.match(note(tb, { node: 'intruder' }, 1001), { accepted: false, reason: 'table-full' });
  t.equal(peerCount(tb), PEER_TABLE_MAX_NODES);
  t.equal(note(tb, { node: 'n3', boot: '3'.padStart(16, 'a'), seq: 11 }, 1002).accepted, true, 'known nodes still update');
  // Once the others are silent past the expiry, a new node gets in.
  note(tb, { node: 'n3', boot: '3'.padStart(16, 'a'), seq: 12 }, 1000 + EXPIRY_MS);
  t.same(note(tb, { node: 'newcomer', boot: 'eeeeeeeeeeeeeeee' }, 1001 + EXPIRY_MS + 1), { accepted: true, fresh: true, newest: true });
  t.same(peersHeardSince(tb, -Infinity).map((e) => e.node).sort(), ['n3', 'newcomer']);
});

t.test('10,000 hellos with random node names keep the table at its cap', async (t) => {
  const tb = table();
  for (let i = 0; i < 10_000; i++) note(tb, { node: `random-${i}`, boot: i.toString(16).padStart(16, '0') }, 1000 + i / 10);
  t.equal(peerCount(tb), PEER_TABLE_MAX_NODES);
});

t.test('expiry is a named multiple of the advert interval', async (t) => {
  t.equal(peerExpiryMs(100), PEER_EXPIRY_INTERVALS * 1000);
  t.ok(PEER_EXPIRY_INTERVALS > 4, 'longer than Master_Down_Interval (about 3 intervals)');
  const tb = emptyPeerTable({ expiryMs: peerExpiryMs(100) });
  note(tb, {}, 0);
  expirePeers(tb, peerExpiryMs(100));
  t.equal(peerCount(tb), 1, 'kept at exactly the expiry');
  expirePeers(tb, peerExpiryMs(100) + 1);
  t.equal(peerCount(tb), 0);
});

t.test('times never go backwards', async (t) => {
  const tb = table();
  note(tb, { seq: 1 }, 5000);
  note(tb, { seq: 2 }, 4000);
  const e = peersHeardSince(tb, 0)[0];
  t.equal(e?.lastSeenMs, 5000);
  t.equal(e?.paths['eth1'], 5000);
  t.equal(e?.seq, 2, 'the fields still follow seq');
});

t.test('maxEpochSeen: the largest epoch of any fresh hello, reordered ones and other nodes included; replays not', async (t) => {
  const tb = table();
  note(tb, { seq: 11, epoch: 4 }, 1);
  note(tb, { seq: 10, epoch: 9 }, 2);
  t.equal(peersHeardSince(tb, 0)[0]?.epoch, 4, 'entry follows the newest hello');
  t.equal(maxEpochSeen(tb), 9);
  note(tb, { node: 'lb-c', boot: 'cccccccccccccccc', epoch: 2 }, 3);
  t.equal(maxEpochSeen(tb), 9);
  note(tb, { seq: 11, epoch: 99 }, 4);
  t.equal(maxEpochSeen(tb), 9, 'a replayed seq does not raise it');
});

t.test('fingerprintMismatches: peers whose latest fingerprint differs from ours', async (t) => {
  const tb = table();
  note(tb, { fingerprint: 'aaaa' }, 1);
  note(tb, { node: 'lb-c', boot: 'cccccccccccccccc', fingerprint: 'bbbb' }, 1);
  t.same(fingerprintMismatches(tb, 'aaaa').map((e) => e.node), ['lb-c']);
  t.same(fingerprintMismatches(tb, 'cccc').map((e) => e.node), ['lb-b', 'lb-c']);
  note(tb, { node: 'lb-c', boot: 'cccccccccccccccc', fingerprint: 'aaaa', seq: 11 }, 2);
  t.same(fingerprintMismatches(tb, 'aaaa'), []);
});

t.test('node and path names that look like Object.prototype keys are plain keys', async (t) => {
  const tb = table();
  notePeer(tb, { node: '__proto__', path: 'constructor', hello: hello({ node: '__proto__' }), nowMs: 1 });
  notePeer(tb, { node: 'toString', path: '__proto__', hello: hello({ node: 'toString', boot: '2222222222222222' }), nowMs: 2 });
  t.same(peersHeardSince(tb, 0).map((e) => e.node).sort(), ['__proto__', 'toString']);
  t.same(pathsHeardSince(tb, '__proto__', 0), ['constructor']);
  t.same(pathsHeardSince(tb, 'toString', 0), ['__proto__']);
  t.same(pathsHeardSince(tb, 'hasOwnProperty', 0), []);
});
