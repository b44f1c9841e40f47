/** The bounded output tail of supervised runs (src/adapters/output-tail.ts). */
import t from 'tap';
import { OutputTail } from '../../../src/adapters/output-tail.js';

t.test('keeps the newest `limit` bytes across many chunks', async (t) => {
  const tail = new OutputTail(10);
  for (let i = 0; i < 100; i++) tail.push(Buffer.from(`${i % 10}`));
  t.equal(tail.text(), '0123456789');
  tail.push(Buffer.from('abc'));
  t.equal(tail.text(), '3456789abc');
});

t.test('a character cut by the limit is dropped, not shown as U+FFFD', async (t) => {
  const tail = new OutputTail(5);
  tail.push(Buffer.from('x€€', 'utf8')); // € is 3 bytes: the kept 5 bytes start inside the first one
  t.equal(tail.text(), '€');
  t.notMatch(tail.text(), /\uFFFD/);
});

t.test('a limit of 0 keeps nothing', async (t) => {
  const tail = new OutputTail(0);
  tail.push(Buffer.from('anything'));
  t.equal(tail.text(), '');
});
