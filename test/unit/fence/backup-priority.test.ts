/**
 * self-fence-backup-priority: auto learned from hellos (src/core/fence/backup-priority.ts): the
 * highest fresh BACKUP report, and unknown (undefined: the caller falls back to 254) as soon as
 * any peer ever heard is silent, reports a bad priority, or too many nodes were seen.
 */
import t from 'tap';
import fc from 'fast-check';
import { learnedBackupPriority, newKnownPeers, type PeerReport } from '../../../src/core/fence/backup-priority.js';
import type { VrrpState } from '../../../src/core/fsm/types.js';

const FRESH = 300;
const MAX = 16;
const r = (node: string, state: VrrpState, priority: number, lastSeenMs: number): PeerReport => ({ node, state, priority, lastSeenMs });

t.test('the highest priority among fresh BACKUP peers; MASTER and INIT peers are no backups', (t) => {
  const known = newKnownPeers();
  t.equal(learnedBackupPriority(known, [r('b', 'BACKUP', 100, 1000), r('c', 'BACKUP', 180, 990), r('m', 'MASTER', 250, 1000), r('i', 'INIT', 240, 1000)], 1000, FRESH, MAX), 180);
  t.equal(learnedBackupPriority(newKnownPeers(), [r('m', 'MASTER', 250, 1000)], 1000, FRESH, MAX), undefined, 'no backup at all: unknown');
  t.equal(learnedBackupPriority(newKnownPeers(), [], 1000, FRESH, MAX), undefined, 'no peer: unknown');
  t.end();
});

t.test('a peer whose hellos stop makes it unknown, even after it left the peer table; heard again, it counts again', (t) => {
  const known = newKnownPeers();
  t.equal(learnedBackupPriority(known, [r('b', 'BACKUP', 200, 0), r('c', 'BACKUP', 100, 0)], 0, FRESH, MAX), 200);
  t.equal(learnedBackupPriority(known, [r('b', 'BACKUP', 200, 0), r('c', 'BACKUP', 100, 400)], 400, FRESH, MAX), undefined, 'b silent for 400 ms: it may still be a backup, with any priority');
  t.equal(learnedBackupPriority(known, [r('c', 'BACKUP', 100, 5000)], 5000, FRESH, MAX), undefined, 'b expired from the table: still unknown');
  t.equal(learnedBackupPriority(known, [r('b', 'BACKUP', 90, 6000), r('c', 'BACKUP', 100, 6000)], 6000, FRESH, MAX), 100, 'b back, now 90: c\'s 100 wins');
  t.equal(learnedBackupPriority(known, [r('b', 'BACKUP', 90, 6000), r('c', 'BACKUP', 100, 6000)], 6000 + FRESH, FRESH, MAX), 100, 'exactly freshMs old: still fresh');
  t.end();
});

t.test('a BACKUP report outside 1..254, or more nodes than the bound: unknown', (t) => {
  for (const p of [0, 255, 1.5, -3, Number.NaN]) {
    t.equal(learnedBackupPriority(newKnownPeers(), [r('b', 'BACKUP', p, 0), r('c', 'BACKUP', 100, 0)], 0, FRESH, MAX), undefined, `priority ${p}`);
  }
  const known = newKnownPeers();
  const many = Array.from({ length: 3 }, (_, i) => r(`n${i}`, 'BACKUP', 100 + i, 0));
  t.equal(learnedBackupPriority(known, many, 0, FRESH, 3), 102, 'at the bound: known');
  t.equal(learnedBackupPriority(known, [...many, r('n3', 'BACKUP', 50, 0)], 0, FRESH, 3), undefined, 'one more: unknown');
  t.equal(learnedBackupPriority(known, many, 0, FRESH, 3), undefined, 'and stays so (a node it could not remember may still be there)');
  t.end();
});

t.test('property: a number only if every node ever heard is fresh, and then the max of the fresh BACKUP priorities', (t) => {
  const report = fc.record({
    node: fc.constantFrom<string>('a', 'b', 'c', 'd'), state: fc.constantFrom<VrrpState>('BACKUP', 'MASTER', 'INIT', 'FAULT'),
    priority: fc.integer({ min: 1, max: 254 }), age: fc.integer({ min: 0, max: 2 * FRESH }),
  });
  fc.assert(fc.property(fc.array(fc.array(report, { maxLength: 4 }), { minLength: 1, maxLength: 5 }), (rounds) => {
    const known = newKnownPeers();
    const ever = new Set<string>();
    let now = 0;
    for (const round of rounds) {
      now += 1000;
      const byNode = new Map(round.map((x) => [x.node, r(x.node, x.state, x.priority, now - x.age)]));
      const peers = [...byNode.values()];
      for (const p of peers) ever.add(p.node);
      const got = learnedBackupPriority(known, peers, now, FRESH, MAX);
      const allFresh = [...ever].every((n) => { const p = byNode.get(n); return p !== undefined && now - p.lastSeenMs <= FRESH; });
      const backups = peers.filter((p) => p.state === 'BACKUP').map((p) => p.priority);
      const want = allFresh && backups.length > 0 ? Math.max(...backups) : undefined;
      if (got !== want) return false;
    }
    return true;
  }), { seed: 7373, numRuns: 1000 });
  t.end();
});
