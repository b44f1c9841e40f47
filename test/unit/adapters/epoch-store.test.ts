import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileEpochStore, MAX_EPOCH, writeFileDurably, type DurableWriter, type EpochHealth } from '../../../src/adapters/epoch-store.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** The real writer, with every call recorded (the text it wrote) and the first `failures` calls failing with `code`. */
function countingWriter(failures = 0, code = 'ENOSPC'): { writer: DurableWriter; writes: string[]; attempts: () => number } {
  const writes: string[] = [];
  let attempts = 0;
  const writer: DurableWriter = (dir, name, text) => {
    attempts += 1;
    if (attempts <= failures) throw Object.assign(new Error(`${code}: simulated, write`), { code });
    writeFileDurably(dir, name, text);
    writes.push(text);
  };
  return { writer, writes, attempts: () => attempts };
}

const fileOf = (dir: string): { epoch: number; maxSeen: number } => JSON.parse(readFileSync(join(dir, 'web.epoch.json'), 'utf8')) as { epoch: number; maxSeen: number };

t.test('epochs only grow, survive a restart and respect what peers reported', async (t) => {
  const dir = t.testdir({});
  const a = new FileEpochStore(dir, 'web', { observeWriteIntervalMs: 0 });
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
  t.same(fileOf(dir), { epoch: 9, maxSeen: 7 });
  t.equal(lstatSync(join(dir, 'web.epoch.json')).mode & 0o777, 0o600, 'the file is 0600');
  t.same(again.health(), { persisted: true });
  a.close();
  again.close();
});

t.test('a corrupt or unreadable epoch file: moved aside, the store starts, the next epoch is above the wall-clock floor', async (t) => {
  const floorMs = 1_764_500_000_123;
  const cases: Array<[string, (path: string) => void]> = [
    ['negative epoch', (p) => writeFileSync(p, '{"epoch": -1, "maxSeen": 0}')],
    ['not JSON', (p) => writeFileSync(p, '{"epoch": 4')],
    ['missing maxSeen', (p) => writeFileSync(p, '{"epoch": 4}')],
    ['above the bound', (p) => writeFileSync(p, JSON.stringify({ epoch: MAX_EPOCH + 1, maxSeen: 0 }))],
    ['too long', (p) => writeFileSync(p, `{"epoch": 4, "maxSeen": 5, "pad": "${'x'.repeat(5000)}"}`)],
    ['a directory', (p) => mkdirSync(p)],
  ];
  for (const [what, plant] of cases) {
    const dir = t.testdir({});
    const path = join(dir, 'web.epoch.json');
    plant(path);
    const s = new FileEpochStore(dir, 'web', { wallClockMs: () => floorMs });
    const aside = `${path}.corrupt-${floorMs}`;
    t.ok(existsSync(aside), `${what}: moved aside to <name>.corrupt-<ms>`);
    const h = s.health();
    t.match(h.recovered, new RegExp(`web\\.epoch\\.json was unusable .* moved aside to .*corrupt-${floorMs}`), `${what}: health names the file and where it went`);
    t.equal(h.persisted, true, `${what}: the recovery floor was written`);
    t.equal(s.current(), 0, `${what}: holds nothing`);
    t.same(fileOf(dir), { epoch: 0, maxSeen: floorMs }, `${what}: a sound file replaces it`);
    t.equal(s.bump(), floorMs + 1, `${what}: the next epoch is above the floor`);
    const reopened = new FileEpochStore(dir, 'web');
    t.equal(reopened.bump(), floorMs + 2, `${what}: and stays above it after a restart`);
    t.equal(reopened.health().recovered, undefined, `${what}: the sound file is not reported again`);
    s.close();
    reopened.close();
  }
  // The original content is kept for the operator.
  const dir = t.testdir({});
  writeFileSync(join(dir, 'web.epoch.json'), 'garbage\n');
  new FileEpochStore(dir, 'web', { wallClockMs: () => floorMs }).close();
  t.equal(readFileSync(join(dir, `web.epoch.json.corrupt-${floorMs}`), 'utf8'), 'garbage\n', 'the bad file is kept, not deleted');
});

t.test('a symlink at the epoch file is not followed: moved aside like a corrupt file, its target unchanged', async (t) => {
  const dir = t.testdir({ victim: 'precious\n' });
  const victim = join(dir, 'victim');
  const state = join(dir, 'state');
  mkdirSync(state, { mode: 0o700 });
  symlinkSync(victim, join(state, 'web.epoch.json'));
  const s = new FileEpochStore(state, 'web', { wallClockMs: () => 5000 });
  t.match(s.health().recovered, /ELOOP: it is a symbolic link/);
  t.equal(s.bump(), 5001);
  t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'target unchanged');
  t.ok(lstatSync(join(state, 'web.epoch.json')).isFile(), 'the epoch file is a regular file again');
  s.close();
});

t.test('a symlink planted at the temp file name is removed, never followed', async (t) => {
  const dir = t.testdir({ victim: 'precious\n' });
  const victim = join(dir, 'victim');
  const state = join(dir, 'state');
  mkdirSync(state, { mode: 0o700 });
  const s = new FileEpochStore(state, 'web');
  symlinkSync(victim, join(state, 'web.epoch.json.tmp'));
  t.equal(s.bump(), 1);
  t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'target unchanged');
  t.same(fileOf(state), { epoch: 1, maxSeen: 0 }, 'the epoch was written to its own file');
  t.same(readdirSync(state).sort(), ['web.epoch.json'], 'no temp file or link left');
  t.same(s.health(), { persisted: true });
  s.close();
});

t.test('a failed write on bump: the epoch is returned and held in memory, reported, and retried until it works', async (t) => {
  const dir = t.testdir({});
  const w = countingWriter(3, 'ENOSPC');
  const s = new FileEpochStore(dir, 'web', { writer: w.writer, retryMinMs: 5, retryMaxMs: 20 });
  const seen: EpochHealth[] = [];
  s.onHealth((h) => seen.push(h));
  t.equal(s.bump(), 1, 'bump does not throw, it returns the new epoch');
  t.equal(s.current(), 1, 'held in memory');
  t.equal(s.health().persisted, false);
  t.match(s.health().writeError, /writing .*web\.epoch\.json failed \(ENOSPC/, 'names the file and the errno');
  t.equal(seen.length, 1, 'the listener was told at once');
  t.equal(seen[0]?.persisted, false);
  t.notOk(existsSync(join(dir, 'web.epoch.json')), 'nothing on disk yet');
  t.ok(await until(() => s.health().persisted), 'a retry succeeded');
  t.equal(w.attempts(), 4, 'three failures, then one success');
  t.same(fileOf(dir), { epoch: 1, maxSeen: 0 });
  t.same(seen[seen.length - 1], { persisted: true }, 'the listener was told it recovered');
  t.equal(s.health().writeError, undefined);
  t.same(readdirSync(dir), ['web.epoch.json'], 'no temp file left behind');
  s.close();
});

t.test('retries back off (doubling, bounded) and stop at close', async (t) => {
  const dir = t.testdir({});
  const w = countingWriter(Infinity, 'EROFS');
  const s = new FileEpochStore(dir, 'web', { writer: w.writer, retryMinMs: 10, retryMaxMs: 40 });
  let told = 0;
  s.onHealth(() => { told += 1; });
  s.bump();
  await sleep(400);
  const n = w.attempts();
  // With backoff 10, 20, 40, 40...: about 11 attempts in 400 ms; without it, one per tick.
  t.ok(n >= 3 && n <= 20, `attempts in 400 ms: ${n}`);
  t.equal(told, 1, 'the listener heard of the problem once, not of every failed retry');
  s.bump();
  t.equal(told, 2, 'a new epoch held in memory only is news');
  s.close();
  const after = w.attempts();
  await sleep(100);
  t.equal(w.attempts(), after, 'no retry after close');
});

t.test('observe: maxSeen at once in memory, at most one write per interval with the latest value; bump folds a pending one', async (t) => {
  const dir = t.testdir({});
  const w = countingWriter();
  const intervalMs = 100;
  const s = new FileEpochStore(dir, 'web', { writer: w.writer, observeWriteIntervalMs: intervalMs });
  for (let e = 1; e <= 8000; e++) s.observe(e);
  t.equal(s.maxSeen(), 8000, 'in memory at once');
  t.equal(w.writes.length, 0, 'no synchronous write from observe');
  t.ok(await until(() => w.writes.length === 1), 'one coalesced write');
  t.same(JSON.parse(w.writes[0] ?? '{}'), { epoch: 0, maxSeen: 8000 }, 'with the latest value');
  // Peers keep raising it for a while: writes stay bounded by the interval.
  const start = performance.now();
  let e = 8000;
  while (performance.now() - start < 500) {
    s.observe(++e);
    await sleep(1);
  }
  const elapsed = performance.now() - start;
  await sleep(intervalMs * 2);
  const n = w.writes.length - 1;
  t.ok(n >= 1 && n <= Math.ceil(elapsed / intervalMs) + 2, `${n} writes for ${e - 8000} rising epochs in ${Math.round(elapsed)} ms`);
  t.same(fileOf(dir), { epoch: 0, maxSeen: e }, 'the last value reached the disk');
  // A pending observed value goes out with the next bump's (synchronous) write.
  const before = w.writes.length;
  s.observe(e + 10);
  t.equal(s.bump(), e + 11);
  t.equal(w.writes.length, before + 1, 'bump writes synchronously');
  t.same(fileOf(dir), { epoch: e + 11, maxSeen: e + 10 }, 'with the observed value folded in');
  await sleep(intervalMs * 2);
  t.equal(w.writes.length, before + 1, 'nothing left to write afterwards');
  s.observe(e + 20);
  s.close();
  t.same(fileOf(dir), { epoch: e + 11, maxSeen: e + 20 }, 'close flushes a pending value');
});

t.test('observe ignores what is not an epoch', async (t) => {
  const dir = t.testdir({});
  const s = new FileEpochStore(dir, 'web', { observeWriteIntervalMs: 0 });
  for (const bad of [-1, 1.5, Number.NaN, Infinity, MAX_EPOCH + 1, 2 ** 60]) s.observe(bad);
  t.equal(s.maxSeen(), 0);
  s.close();
});

t.test('the epoch never passes MAX_EPOCH: bump refuses with HA_ERR_LIMIT instead', async (t) => {
  const dir = t.testdir({ 'web.epoch.json': JSON.stringify({ epoch: MAX_EPOCH - 1, maxSeen: 0 }) });
  const s = new FileEpochStore(dir, 'web');
  t.equal(s.bump(), MAX_EPOCH, 'up to the bound');
  t.throws(() => s.bump(), { code: 'HA_ERR_LIMIT', message: /reached its bound/ });
  t.equal(s.current(), MAX_EPOCH, 'unchanged by the refusal');
  const dir2 = t.testdir({});
  const p = new FileEpochStore(dir2, 'web');
  p.observe(MAX_EPOCH);
  t.throws(() => p.bump(), { code: 'HA_ERR_LIMIT' }, 'a peer at the bound: refused too');
  t.equal(p.current(), 0);
  s.close();
  p.close();
});

t.test('an insecure state directory is refused before anything is read or written', async (t) => {
  const root = t.testdir({ open: {}, real: {} });
  chmodSync(join(root, 'open'), 0o707);
  t.throws(() => new FileEpochStore(join(root, 'open'), 'web'), { code: 'HA_ERR_INSECURE', message: /state directory .*open is writable by others/ });
  t.same(readdirSync(join(root, 'open')), [], 'nothing written there');
  symlinkSync(join(root, 'real'), join(root, 'link'));
  t.throws(() => new FileEpochStore(join(root, 'link'), 'web'), { code: 'HA_ERR_INSECURE', message: /is a symbolic link/ });
  const fresh = join(root, 'fresh', 'state');
  new FileEpochStore(fresh, 'web').close();
  t.equal(lstatSync(fresh).mode & 0o777, 0o700, 'a missing one is created 0700');
});

t.test('a real read-only filesystem (tmpfs remounted ro): bump works from memory and the write recovers after remount rw', { skip: isRoot ? false : 'needs root (mount)' }, async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'haepoch-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mnt]);
  t.teardown(() => {
    try { execFileSync('umount', [mnt]); } catch { /* not mounted */ }
    rmSync(mnt, { recursive: true, force: true });
  });
  const s = new FileEpochStore(mnt, 'web', { retryMinMs: 10, retryMaxMs: 20 });
  t.equal(s.bump(), 1);
  execFileSync('mount', ['-o', 'remount,ro', mnt]);
  t.equal(s.bump(), 2, 'bump on a read-only filesystem returns the next epoch');
  t.equal(s.health().persisted, false);
  t.match(s.health().writeError, /EROFS/);
  t.same(fileOf(mnt), { epoch: 1, maxSeen: 0 }, 'the disk still has the old one');
  execFileSync('mount', ['-o', 'remount,rw', mnt]);
  t.ok(await until(() => s.health().persisted), 'the retry wrote it once the filesystem was writable');
  t.same(fileOf(mnt), { epoch: 2, maxSeen: 0 });
  s.close();
});
