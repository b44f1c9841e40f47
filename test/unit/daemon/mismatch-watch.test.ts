import t from 'tap';
import { MAX_SENDERS, MismatchWatch, REPEAT_MS, STALE_MS } from '../../../src/daemon/mismatch-watch.js';

t.test('first drop reported, repeats rate-limited, cleared by a valid advert, forgotten when stale, bounded', async (t) => {
  const w = new MismatchWatch();
  t.match(w.dropped('10.0.0.2', 'address-mismatch', ['192.0.2.11'], 0), { kind: 'new', mismatch: { from: '10.0.0.2', theirs: ['192.0.2.11'] } });
  t.equal(w.dropped('10.0.0.2', 'address-mismatch', ['192.0.2.11'], 1000), undefined, 'not again within a minute');
  t.match(w.dropped('10.0.0.2', 'address-mismatch', ['192.0.2.11'], REPEAT_MS + 1), { kind: 'ongoing', mismatch: { count: 3 } });
  t.equal(w.current(REPEAT_MS + 2).length, 1);
  t.match(w.accepted('10.0.0.2'), { kind: 'cleared' });
  t.equal(w.accepted('10.0.0.2'), undefined);
  w.dropped('10.0.0.3', 'bad-interval', [], 0);
  t.equal(w.current(STALE_MS + 1).length, 0, 'a sender silent for a minute is forgotten');
  for (let i = 0; i < MAX_SENDERS + 10; i++) w.dropped(`10.1.0.${i}`, 'address-mismatch', [], 0);
  t.equal(w.size, MAX_SENDERS);
});
