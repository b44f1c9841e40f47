/**
 * `peer-key` is required as soon as an instance has `paths`: unauthenticated hellos could be
 * forged or replayed by anyone who reaches the peer port. The error is reported at `peer-key`
 * and says why.
 */
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const withPaths = (top: string): string => `${top}instances:
  - name: web
    vrid: 51
    interface: int0
    vips: [10.77.0.100/24]
    paths: [{ interface: ext0, peer: 10.78.0.2 }]
`;

t.test('paths without a peer-key: refused at peer-key, naming the risk', async (t) => {
  const r = parseConfigYaml(withPaths(''));
  t.equal(r.ok, false);
  if (r.ok) return;
  const e = r.errors.find((x) => x.message.includes('peer-key'));
  t.ok(e, JSON.stringify(r.errors));
  t.match(e?.message, /peer-key/);
  t.match(e?.message, /required when an instance has paths/);
  t.match(e?.message, /forge or replay hellos/);
});

t.test('an empty peer-key is no key', async (t) => {
  const r = parseConfigYaml(withPaths('peer-key: ""\n'));
  t.equal(r.ok, false);
});

t.test('paths with a peer-key: accepted; no paths: no key needed', async (t) => {
  const r = parseConfigYaml(withPaths('peer-key: s3cret-shared\n'));
  t.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('; '));
  if (r.ok) t.equal(r.config.peerKey, 's3cret-shared');
  const plain = parseConfigYaml('instances:\n  - {vrid: 1, interface: eth0, vips: [10.0.0.1/24]}\n');
  t.ok(plain.ok);
});
