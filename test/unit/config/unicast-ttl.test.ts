/**
 * `unicast-ttl-check: false`: adverts from the configured unicast peers are accepted whatever
 * their TTL / hop limit (keepalived's rule for unicast); refused without peers, and the decoder
 * still checks 255 unless told otherwise.
 */
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { effectiveYaml } from '../../../src/cli/effective-yaml.js';
import { decodeAdvertisement } from '../../../src/core/packet/decode.js';
import { encodeAdvertisement } from '../../../src/core/packet/encode.js';

const yaml = (extra: string): string => `instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24]\n${extra}`;

t.test('default: checked (absent); false with peers: recorded and written back by check-config', async (t) => {
  const d = parseConfigYaml(yaml('    peers: [192.0.2.2]\n'));
  t.ok(d.ok && d.config.instances[0]?.unicastTtlCheck === undefined, 'default: TTL 255 checked');
  const off = parseConfigYaml(yaml('    peers: [192.0.2.2]\n    unicast-ttl-check: false\n'));
  t.ok(off.ok && off.config.instances[0]?.unicastTtlCheck === false);
  if (off.ok) t.match(effectiveYaml(off.config), /unicast-ttl-check: false/);
});

t.test('false without peers is an error naming the key; not a boolean is an error', async (t) => {
  const r = parseConfigYaml(yaml('    unicast-ttl-check: false\n'));
  t.equal(r.ok, false);
  if (!r.ok) t.match(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'), /instances\[0\]\.unicast-ttl-check.*applies to unicast peers only/);
  t.equal(parseConfigYaml(yaml('    peers: [192.0.2.2]\n    unicast-ttl-check: maybe\n')).ok, false);
});

t.test('the decoder drops TTL 64 unless anyTtl is set; the version check still applies', async (t) => {
  const msg = encodeAdvertisement({ family: 4, version: 3, vrid: 51, priority: 100, maxAdvertIntervalCs: 100, addresses: ['192.0.2.10'] }, { src: '192.0.2.2', dst: '192.0.2.1' });
  const ctx = { family: 4 as const, src: '192.0.2.2', dst: '192.0.2.1', ttl: 64 };
  const strict = decodeAdvertisement(msg, ctx, { version: 3 });
  t.match(strict, { ok: false, reason: 'bad-ttl' });
  t.match(decodeAdvertisement(msg, ctx, { version: 3, anyTtl: true }), { ok: true, advert: { vrid: 51, priority: 100 } });
  t.match(decodeAdvertisement(msg, ctx, { version: 2, anyTtl: true }), { ok: false, reason: 'bad-version' });
});
