/**
 * The pure rules of an election on etcd (src/core/election/): key layout, value decoders that
 * never throw, ranking of candidates for a free key, resignation, epoch from a create revision.
 */
import t from 'tap';
import fc from 'fast-check';
import { candidateKey, decodeCandidate, decodeLeader, encodeCandidate, encodeLeader, instanceDir, leaderKey, MAX_ELECTION_VALUE_BYTES } from '../../../src/core/election/keys.js';
import { candidateStaggerMs, claimGate, electionPollMs, epochOfRevision, MAX_STAGGER_RANKS, rankCandidates, rankOf, resignFor, type ElectionView } from '../../../src/core/election/decide.js';

t.test('key layout: PREFIX/INSTANCE/leader and PREFIX/INSTANCE/candidates/NODE, with or without a trailing slash', (t) => {
  t.equal(leaderKey('/haagent', 'web'), '/haagent/web/leader');
  t.equal(leaderKey('/haagent/', 'web'), '/haagent/web/leader');
  t.equal(candidateKey('/haagent', 'web', '10.0.0.1'), '/haagent/web/candidates/10.0.0.1');
  t.equal(instanceDir('/x', 'db'), '/x/db/');
  t.end();
});

t.test('values round-trip', (t) => {
  const l = { node: '10.0.0.1', address: '10.0.0.1', priority: 150 };
  t.same(decodeLeader(encodeLeader(l)), { ok: true, value: l });
  t.same(decodeCandidate(encodeCandidate({ priority: 90, preempt: true })), { ok: true, value: { priority: 90, preempt: true } });
  t.end();
});

t.test('decoders refuse, by reason, what is not a value of ours', (t) => {
  t.match(decodeLeader('not json'), { ok: false, reason: 'not-json' });
  t.match(decodeLeader('[1]'), { ok: false, reason: 'not-object' });
  t.match(decodeLeader('{"node":"","address":"a","priority":1}'), { ok: false, reason: 'bad-node' });
  t.match(decodeLeader('{"node":"n","address":5,"priority":1}'), { ok: false, reason: 'bad-address' });
  t.match(decodeLeader('{"node":"n","address":"a","priority":256}'), { ok: false, reason: 'bad-priority' });
  t.match(decodeCandidate('{"priority":1.5,"preempt":true}'), { ok: false, reason: 'bad-priority' });
  t.match(decodeCandidate('{"priority":1,"preempt":"yes"}'), { ok: false, reason: 'bad-preempt' });
  t.match(decodeCandidate(`{"priority":1,"preempt":true,"x":"${'a'.repeat(MAX_ELECTION_VALUE_BYTES)}"}`), { ok: false, reason: 'too-long' });
  t.end();
});

t.test('decoders never throw (seeded fuzz)', (t) => {
  fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (s) => {
    const a = decodeLeader(s);
    const b = decodeCandidate(s);
    return typeof a.ok === 'boolean' && typeof b.ok === 'boolean';
  }), { seed: 20261130, numRuns: 2000 });
  t.end();
});

const cands = [
  { node: '10.0.0.1', priority: 100, preempt: true },
  { node: '10.0.0.2', priority: 150, preempt: false },
  { node: '10.0.0.3', priority: 100, preempt: true },
  { node: '10.0.0.4', priority: 0, preempt: true },
];

t.test('candidates rank by priority, the higher address first on a tie; priority 0 is not eligible', (t) => {
  t.same(rankCandidates(cands).map((c) => c.node), ['10.0.0.2', '10.0.0.3', '10.0.0.1']);
  t.same(rankOf(cands, { node: '10.0.0.1', priority: 100 }).rank, 2);
  t.same(rankOf(cands, { node: '10.0.0.2', priority: 150 }).rank, 0);
  t.same(rankOf(cands, { node: '10.0.0.9', priority: 200 }).rank, 0, 'own key not registered yet still ranks');
  t.end();
});

t.test('claimGate: a held key lets only its holder through', (t) => {
  const view: ElectionView = { leader: { node: '10.0.0.2', address: '10.0.0.2', priority: 150, createRevision: 7n, leaseId: '9' }, candidates: cands };
  const o = { ranked: true, freeSinceMs: 0, nowMs: 0, staggerMs: 500 };
  t.same(claimGate(view, { node: '10.0.0.2', priority: 150 }, o), { go: true });
  t.match(claimGate(view, { node: '10.0.0.1', priority: 250 }, o), { go: false, detail: /held by 10\.0\.0\.2/ });
  t.end();
});

t.test('claimGate on a free key: vrrp+etcd goes at once; etcd waits rank x stagger, bounded', (t) => {
  const view: ElectionView = { leader: undefined, candidates: cands };
  const self = { node: '10.0.0.1', priority: 100 };
  t.same(claimGate(view, self, { ranked: false, freeSinceMs: 1000, nowMs: 1000, staggerMs: 500 }), { go: true });
  const wait = claimGate(view, self, { ranked: true, freeSinceMs: 1000, nowMs: 1200, staggerMs: 500 });
  t.match(wait, { go: false, retryAtMs: 2000, detail: /10\.0\.0\.2 \(priority 150\) goes first, waiting 800 ms/ });
  t.same(claimGate(view, self, { ranked: true, freeSinceMs: 1000, nowMs: 2000, staggerMs: 500 }), { go: true });
  t.same(claimGate(view, { node: '10.0.0.2', priority: 150 }, { ranked: true, freeSinceMs: 1000, nowMs: 1000, staggerMs: 500 }), { go: true });
  const many = Array.from({ length: 10 }, (_, i) => ({ node: `10.0.1.${i + 1}`, priority: 200 + i, preempt: false }));
  const bounded = claimGate({ leader: undefined, candidates: many }, self, { ranked: true, freeSinceMs: 0, nowMs: 0, staggerMs: 100 });
  t.match(bounded, { go: false, retryAtMs: MAX_STAGGER_RANKS * 100 });
  t.match(claimGate(view, { node: '10.0.0.1', priority: 0 }, { ranked: false, freeSinceMs: 0, nowMs: 0, staggerMs: 1 }), { go: false, detail: /not eligible/ });
  t.end();
});

t.test('resignFor: only a higher-priority live candidate that asks to preempt', (t) => {
  const view: ElectionView = { leader: undefined, candidates: cands };
  t.equal(resignFor(view, { node: '10.0.0.1', priority: 100 }), undefined, '10.0.0.2 is higher but does not preempt; 10.0.0.3 is equal');
  t.equal(resignFor(view, { node: '10.0.0.1', priority: 90 })?.node, '10.0.0.3');
  t.end();
});

t.test('epoch from the create revision, bounded; timings clamped', (t) => {
  t.equal(epochOfRevision(42n), 42);
  t.equal(epochOfRevision(0n), undefined);
  t.equal(epochOfRevision(2n ** 60n), undefined);
  t.equal(electionPollMs(250), 250);
  t.equal(electionPollMs(10), 100);
  t.equal(electionPollMs(5000), 1000);
  t.equal(candidateStaggerMs(250), 500);
  t.end();
});
