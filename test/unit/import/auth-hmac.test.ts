/**
 * keepalived 2.4 `auth_hmac` -> `auth: { type: hmac, ... }`: keys (hex, ASCII, file), active key,
 * anti-replay, window and mode mapped as written, the result valid haagent config; keepalived's
 * own rules kept (no usable active_key disables the extension; auth_hmac replaces the legacy
 * block; VRRPv3 keeps it); no key value ever in a warning.
 */
import t from 'tap';
import { mapKeepalived, type ImportResult } from '../../../src/core/import/map.js';
import { parseKeepalivedText } from '../../../src/core/import/parse.js';
import { validateConfig } from '../../../src/core/config/validate.js';

const HEX = `hex:${'ab'.repeat(32)}`;
const ASCII = 'correct-horse-battery-staple-vrrp-key-32';

function conv(text: string): ImportResult {
  const p = parseKeepalivedText(text, 'k.conf');
  if (p.problems.length > 0) throw new Error(p.problems.map((x) => x.message).join('; '));
  return mapKeepalived(p.nodes, {});
}
const inst = (r: ImportResult): Record<string, unknown> => ((r.config['instances'] as Record<string, unknown>[])[0] ?? {});
const warned = (r: ImportResult): string => r.warnings.map((w) => `${w.at.line} ${w.option}: ${w.message}`).join('\n');
const vi = (body: string, version = 2): string =>
  `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  version ${version}\n  virtual_ipaddress {\n    192.0.2.10/24\n  }\n${body}\n}\n`;
const block = (lines: string): string => `  auth_hmac {\n${lines}\n  }`;

t.test('every auth_hmac option maps, and the result validates', (t) => {
  for (const version of [2, 3]) {
    const r = conv(vi(block(`    key 1 ${HEX}\n    key 2 ${ASCII}\n    key 3 file:/etc/keepalived/keys/vrrp51\n    active_key 2\n    anti_replay monotonic\n    time_window 7\n    mode permissive`), version));
    t.same(inst(r)['auth'], {
      type: 'hmac', keys: { 1: HEX, 2: ASCII, 3: 'file:/etc/keepalived/keys/vrrp51' },
      'active-key': 2, 'anti-replay': 'monotonic', 'time-window': '7s', mode: 'permissive',
    }, `VRRPv${version} keeps it`);
    t.equal(r.warnings.length, 0, warned(r));
    const v = validateConfig(r.config);
    t.ok(v.ok, v.ok ? 'validates' : v.errors.map((e) => e.message).join('; '));
    if (v.ok) {
      t.match(v.config.instances[0]?.auth, { type: 'hmac', activeKey: 2, antiReplay: 'monotonic', timeWindowSec: 7, mode: 'permissive' });
      t.same(v.config.instances[0]?.auth.type === 'hmac' ? v.config.instances[0].auth.keys.map((k) => k.id) : [], [1, 2, 3]);
    }
  }
  t.end();
});

t.test('only what is written: the rest is haagent\'s default, which is keepalived\'s', (t) => {
  const r = conv(vi(block(`    key 9 ${HEX}\n    active_key 9`)));
  t.same(inst(r)['auth'], { type: 'hmac', keys: { 9: HEX }, 'active-key': 9 });
  const v = validateConfig(r.config);
  t.match(v.ok && v.config.instances[0]?.auth, { type: 'hmac', activeKey: 9, antiReplay: 'time', timeWindowSec: 5, mode: 'enforce' });
  t.end();
});

t.test('no usable active_key: keepalived disables auth_hmac, so the import maps none', (t) => {
  const none = conv(vi(block(`    key 1 ${HEX}`)));
  t.equal(inst(none)['auth'], undefined);
  t.match(warned(none), /active_key \(none\) is not one of the usable keys: keepalived disables auth_hmac then/);
  const other = conv(vi(block(`    key 1 ${HEX}\n    active_key 2`)));
  t.equal(inst(other)['auth'], undefined);
  const short = conv(vi(block('    key 1 hex:00112233\n    active_key 1')));
  t.equal(inst(short)['auth'], undefined, 'a 4-byte key is rejected, so key 1 is not usable');
  t.match(warned(short), /key 1 is 4 bytes; a key is 32\.\.64 bytes/);
  t.end();
});

t.test('auth_hmac replaces the legacy authentication block, in either order', (t) => {
  const legacy = '  authentication {\n    auth_type PASS\n    auth_pass s3cret\n  }';
  const hmac = block(`    key 1 ${HEX}\n    active_key 1`);
  for (const body of [`${legacy}\n${hmac}`, `${hmac}\n${legacy}`]) {
    const r = conv(vi(body));
    t.match(inst(r)['auth'], { type: 'hmac' });
    t.match(warned(r), /auth_hmac replaces the legacy authentication block/);
  }
  t.end();
});

t.test('key values are never shown, not even bad ones; env expansion and relative files reported', (t) => {
  const r = conv(vi(block(`    key 1 hex:zz${'ab'.repeat(31)}\n    key 2 short-secret-value\n    key 3 file:\${_ENV CREDENTIALS_DIRECTORY}/k\n    key 4 ${HEX} extra\n    key 5 ${HEX}\n    key 5 ${ASCII}\n    active_key 5\n    bogus 1`)));
  const text = warned(r);
  t.notMatch(text, /abab|short-secret|correct-horse/);
  t.match(text, /key 1 is not usable: a hex: key needs an even number of hex digits/);
  t.match(text, /key 2 is 18 bytes/);
  t.match(text, /a file: key needs an absolute path/);
  t.match(text, /needs a key id and one value/);
  t.match(text, /key id 5 is defined twice; keepalived keeps the first/);
  t.match(text, /bogus 1: not mapped/);
  t.same(inst(r)['auth'], { type: 'hmac', keys: { 5: HEX }, 'active-key': 5 });
  t.end();
});
