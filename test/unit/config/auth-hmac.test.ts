/**
 * `auth: { type: hmac, ... }`: parsing with keepalived's defaults, errors at their key path that
 * never show a key, key files read safely at load (owner, mode, symlink, size, content), and the
 * effective YAML that redacts inline keys yet validates again.
 */
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { AgentConfig, HmacAuthConfig } from '../../../src/core/config/types.js';
import { readKeyFile } from '../../../src/adapters/key-file.js';
import { loadConfig } from '../../../src/cli/load-config.js';
import { effectiveYaml } from '../../../src/cli/effective-yaml.js';

const HEX1 = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const doc = (auth: string, extra = ''): string =>
  `instances:\n  - name: web\n    vrid: 51\n    interface: eth0\n    vips: [192.0.2.10/24]\n${extra}    auth: ${auth}\n`;

function hmacOf(text: string): HmacAuthConfig {
  const r = parseConfigYaml(text);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const a = r.config.instances[0]?.auth;
  if (a?.type !== 'hmac') throw new Error('not hmac');
  return a;
}
function errorsOf(text: string): string {
  const r = parseConfigYaml(text);
  return r.ok ? '' : r.errors.map((e) => e.message).join('\n');
}

t.test('defaults as keepalived: the only key is active, time, max(3 x interval, 5s), enforce', (t) => {
  const a = hmacOf(doc(`{ type: hmac, keys: { 7: "hex:${HEX1}" } }`));
  t.equal(a.activeKey, 7);
  t.equal(a.antiReplay, 'time');
  t.equal(a.timeWindowSec, 5);
  t.equal(a.mode, 'enforce');
  t.same([...(a.keys[0]?.secret ?? [])].slice(0, 4), [0x00, 0x11, 0x22, 0x33]);
  t.equal(hmacOf(doc(`{ type: hmac, keys: { 1: "hex:${HEX1}" } }`, '    advert-interval: 3s\n')).timeWindowSec, 9, '3 x 3s');
  t.equal(hmacOf(doc(`{ type: hmac, keys: { 1: "hex:${HEX1}" } }`, '    vrrp-version: 2\n')).mode, 'enforce', 'VRRPv2 too');
  t.end();
});

t.test('every key set; ASCII and file keys; rotation with two ids', (t) => {
  const a = hmacOf(doc(`{ type: hmac, keys: { 1: "hex:${HEX1}", 2: "correct-horse-battery-staple-vrrp-key-32", 3: "file:/etc/haagent/k3" }, active-key: 2, anti-replay: monotonic, time-window: 30s, mode: receive-only }`));
  t.same(a.keys.map((k) => [k.id, k.secret?.length, k.file]), [[1, 32, undefined], [2, 40, undefined], [3, undefined, '/etc/haagent/k3']]);
  t.match(a, { activeKey: 2, antiReplay: 'monotonic', timeWindowSec: 30, mode: 'receive-only' });
  t.end();
});

t.test('problems at their key path; no key value in any message', (t) => {
  const secretish = 'hex:abababababababababababababab';
  const e = errorsOf(doc(`{ type: hmac, keys: { 0: "hex:${HEX1}", 1: "${secretish}", 2: "has spaces in it but long enough to be 32 bytes", 3: "file:relative" }, active-key: 4, anti-replay: sometimes, time-window: 1500ms, mode: lax, password: x }`));
  t.match(e, /instances\[0\]\.auth\.keys\.0 .*key id "0" must be an integer from 1 to 255/);
  t.match(e, /instances\[0\]\.auth\.keys\.1 .*key 1 is 14 bytes; a key is 32\.\.64 bytes/);
  t.match(e, /keys\.2 .*printable ASCII without spaces/);
  t.match(e, /keys\.3 .*a file: key needs an absolute path/);
  t.match(e, /anti-replay .*must be time or monotonic/);
  t.match(e, /time-window .*whole seconds from 1s to 300s/);
  t.match(e, /mode .*must be one of enforce, permissive, receive-only/);
  t.match(e, /auth\.password .*unknown key "password" \(allowed: type, keys, active-key, anti-replay, time-window, mode\)/);
  t.notMatch(e, /abababab|00112233|has spaces/);
  t.match(errorsOf(doc(`{ type: hmac, keys: { 1: "hex:${HEX1}", 2: "hex:${HEX1}" } }`)), /active-key .*required with more than one key/);
  t.match(errorsOf(doc(`{ type: hmac, keys: { 1: "hex:${HEX1}" }, active-key: 2 }`)), /active-key .*2 is not one of the keys \(1\)/);
  t.match(errorsOf(doc('{ type: hmac }')), /auth\.keys .*is required with type hmac/);
  t.match(errorsOf(doc('{ type: pass, password: x, keys: {} }', '    vrrp-version: 2\n')), /auth\.keys .*unknown key "keys" \(allowed: type, password\)/);
  t.match(errorsOf(doc('{ type: md5 }')), /must be "none", "pass" or "hmac"/);
  t.end();
});

t.test('key files: read at load when private; refused when not, without showing the content', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'haagent-keyfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string, mode = 0o600): string => {
    const p = join(dir, name);
    writeFileSync(p, text, { mode });
    chmodSync(p, mode);
    return p;
  };
  t.same([...readKeyFile(file('hex', `hex:${HEX1}\n`), 'k')].slice(0, 2), [0x00, 0x11], 'hex with a newline');
  t.equal(readKeyFile(file('ascii', 'correct-horse-battery-staple-vrrp-key-32\r\n'), 'k').length, 40, 'ASCII');
  t.equal(readKeyFile(file('ro', `hex:${HEX1}`, 0o400), 'k').length, 32, 'mode 0400 is fine');
  t.throws(() => readKeyFile(file('wide', `hex:${HEX1}`, 0o644), 'instances[0].auth.keys.2'), { code: 'HA_ERR_INSECURE', message: /instances\[0\]\.auth\.keys\.2: key file .*wide is accessible by its group \(mode 0644\).*chmod 0600/ });
  t.throws(() => readKeyFile(file('other', `hex:${HEX1}`, 0o604), 'k'), { code: 'HA_ERR_INSECURE', message: /accessible by others/ });
  const link = join(dir, 'link');
  symlinkSync(join(dir, 'hex'), link);
  t.throws(() => readKeyFile(link, 'k'), { code: 'HA_ERR_INSECURE', message: /symbolic link/ });
  t.throws(() => readKeyFile(join(dir, 'missing'), 'k'), { code: 'HA_ERR_CONFIG', message: /cannot read key file/ });
  t.throws(() => readKeyFile(file('big', 'x'.repeat(300)), 'k'), { code: 'HA_ERR_LIMIT', message: /300 bytes, over the limit of 256/ });
  const short = file('short', 'hex:deadbeefdeadbeef');
  t.throws(() => readKeyFile(short, 'k'), { code: 'HA_ERR_CONFIG', message: /the key is 8 bytes/ });
  try { readKeyFile(short, 'k'); } catch (err) { t.notMatch((err as Error).message, /deadbeef/, 'content never shown'); }

  // Through loadConfig, as start / check-config / reload do it.
  const cfg = join(dir, 'haagent.yaml');
  writeFileSync(cfg, doc(`{ type: hmac, keys: { 1: "hex:${HEX1}", 2: "file:${join(dir, 'ascii')}" }, active-key: 2 }`));
  const loaded = loadConfig({ config: cfg }, false).config.instances[0]?.auth;
  t.equal(loaded?.type === 'hmac' ? loaded.keys[1]?.secret?.length : -1, 40, 'file key loaded');
  writeFileSync(cfg, doc(`{ type: hmac, keys: { 1: "file:${join(dir, 'wide')}" } }`));
  t.throws(() => loadConfig({ config: cfg }, false), { code: 'HA_ERR_INSECURE' });
  t.end();
});

t.test('effective YAML: inline keys redacted, file keys by path, and the output validates again', (t) => {
  const r = parseConfigYaml(doc(`{ type: hmac, keys: { 1: "hex:${HEX1}", 4: "file:/etc/haagent/k4" }, active-key: 4, anti-replay: monotonic, mode: permissive }`, '    vrrp-version: 2\n'));
  if (!r.ok) throw new Error('does not parse');
  const withFile: AgentConfig = { ...r.config, instances: r.config.instances.map((i) => (i.auth.type !== 'hmac' ? i : { ...i, auth: { ...i.auth, keys: i.auth.keys.map((k) => (k.file === undefined ? k : { ...k, secret: new Uint8Array(48).fill(9) })) } })) };
  const out = effectiveYaml(withFile);
  t.notMatch(out, /00112233/);
  t.match(out, /"?1"?: \(redacted\)\(redacted\)\(redacted\)\(r\n/);
  t.match(out, /file:\/etc\/haagent\/k4/);
  const again = parseConfigYaml(out);
  t.ok(again.ok, again.ok ? '' : again.errors.map((e) => e.message).join('; '));
  if (again.ok) t.match(again.config.instances[0]?.auth, { type: 'hmac', activeKey: 4, antiReplay: 'monotonic', mode: 'permissive', timeWindowSec: 5 });
  t.end();
});
