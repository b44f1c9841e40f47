import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFileValue, run } from '../../../src/adapters/health/file.js';
import { fileCheck, neverSignal } from './helpers.js';

t.test('integers (trimmed, possibly negative) are healthy with that value', async (t) => {
  const dir = t.testdir({ ten: '10\n', neg: '  -5 \n', plus: '+7' });
  for (const [name, value] of [['ten', 10], ['neg', -5], ['plus', 7]] as const) {
    const path = join(dir, name);
    const r = await run(fileCheck(path), neverSignal());
    t.same({ ok: r.ok, value: r.value, detail: r.detail }, { ok: true, value, detail: `${path}: ${value}` });
  }
});

t.test('junk and empty files fail with the reason', async (t) => {
  const dir = t.testdir({ junk: 'junk\n', empty: '\n', float: '1.5' });
  const junk = await run(fileCheck(join(dir, 'junk')), neverSignal());
  t.same({ ok: junk.ok, detail: junk.detail, value: junk.value }, { ok: false, detail: `${join(dir, 'junk')}: "junk" is not an integer`, value: undefined });
  t.equal((await run(fileCheck(join(dir, 'empty')), neverSignal())).detail, `${join(dir, 'empty')}: is empty, expected an integer`);
  t.equal((await run(fileCheck(join(dir, 'float')), neverSignal())).ok, false);
});

t.test('a missing file fails with ENOENT', async (t) => {
  const path = join(t.testdir({}), 'missing');
  const r = await run(fileCheck(path), neverSignal());
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: `read ${path}: ENOENT` });
});

t.test('a directory fails with EISDIR', async (t) => {
  const dir = t.testdir({});
  const r = await run(fileCheck(dir), neverSignal());
  t.same({ ok: r.ok, detail: r.detail }, { ok: false, detail: `read ${dir}: EISDIR` });
});

t.test('only the start of a large file is read', async (t) => {
  const path = join(t.testdir({}), 'big');
  writeFileSync(path, `12${' '.repeat(100_000)}`);
  const r = await run(fileCheck(path), neverSignal());
  t.equal(r.ok, true, 'whitespace after the integer within the first 4 KiB');
  t.equal(r.value, 12);
});

t.test('parseFileValue', (t) => {
  t.same(parseFileValue('0'), { ok: true, value: 0 });
  t.same(parseFileValue('-0'), { ok: true, value: -0 });
  t.equal(parseFileValue('1e3').ok, false);
  t.equal(parseFileValue('0x10').ok, false);
  t.equal(parseFileValue('1 2').ok, false);
  t.equal(parseFileValue('9'.repeat(16)).ok, false, 'no unsafe integers');
  t.end();
});
