import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileEpochStore } from '../../../src/adapters/epoch-store.js';

t.test('epochs only grow, survive a restart and respect what peers reported', (t) => {
  const dir = t.testdir({});
  const a = new FileEpochStore(dir, 'web');
  t.equal(a.current(), 0);
  t.equal(a.bump(), 1);
  t.equal(a.bump(), 2);
  a.observe(7);
  a.observe(3);
  t.equal(a.maxSeen(), 7);
  t.equal(a.bump(), 8, 'greater than any seen');
  const again = new FileEpochStore(dir, 'web');
  t.equal(again.current(), 8, 'persisted');
  t.equal(again.maxSeen(), 7);
  t.equal(again.bump(), 9);
  t.same(JSON.parse(readFileSync(join(dir, 'web.epoch.json'), 'utf8')), { epoch: 9, maxSeen: 7 });
  t.end();
});

t.test('a corrupt epoch file is an error naming it, never a silent reset', (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'web.epoch.json'), '{"epoch": -1}');
  t.throws(() => new FileEpochStore(dir, 'web'), { code: 'HA_ERR_CONFIG', message: /web\.epoch\.json is corrupt/ });
  t.end();
});
