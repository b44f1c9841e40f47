import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, privateDirProblem } from '../../../src/adapters/secure-dir.js';
import { HaagentError } from '../../../src/core/errors.js';

const fakeStat = (o: { dir?: boolean; link?: boolean; uid?: number; mode?: number }) => ({
  isDirectory: () => o.dir ?? true, isSymbolicLink: () => o.link ?? false, uid: o.uid ?? 0, mode: o.mode ?? 0o40700,
});

t.test('privateDirProblem: only a real directory of our uid, not group/world-writable, passes', async (t) => {
  t.equal(privateDirProblem(fakeStat({}), 0), undefined);
  t.equal(privateDirProblem(fakeStat({ mode: 0o40755 }), 0), undefined, 'readable by others is fine');
  t.match(privateDirProblem(fakeStat({ link: true }), 0), /symbolic link/);
  t.match(privateDirProblem(fakeStat({ dir: false }), 0), /not a directory/);
  t.match(privateDirProblem(fakeStat({ uid: 1000 }), 0), /owned by uid 1000/);
  t.match(privateDirProblem(fakeStat({ mode: 0o40770 }), 0), /writable by its group/);
  t.match(privateDirProblem(fakeStat({ mode: 0o41777 }), 0), /writable by its group \(mode 1777\)/);
  t.match(privateDirProblem(fakeStat({ mode: 0o40702 }), 0), /writable by others \(mode 0702\)/);
});

t.test('ensurePrivateDir creates a missing directory 0700 and refuses unsafe ones', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'haagent-securedir-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const fresh = join(base, 'a', 'b');
  ensurePrivateDir(fresh, 'state directory');
  ensurePrivateDir(fresh, 'state directory'); // idempotent

  const open = join(base, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  t.throws(() => ensurePrivateDir(open, 'state directory'), { code: 'HA_ERR_INSECURE', message: /state directory .*open is writable by its group.*chmod 0700/ });

  const link = join(base, 'link');
  symlinkSync(fresh, link);
  t.throws(() => ensurePrivateDir(link, 'socket directory'), { code: 'HA_ERR_INSECURE', message: /symbolic link/ });

  const file = join(base, 'file');
  writeFileSync(file, 'x');
  t.throws(() => ensurePrivateDir(file, 'state directory'), HaagentError);
});
