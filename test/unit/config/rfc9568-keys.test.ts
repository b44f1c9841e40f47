/**
 * The keys RFC 9568 brought: `owner-ignore-adverts` (the owner's choice between §7.1 as published
 * and erratum 8298) and `v3-checksum` (§5.2.8's IPv4 checksum over the message only).
 */
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const yaml = (extra: string): string => `instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24]\n${extra}`;

t.test('defaults to false; true is accepted with priority 255', async (t) => {
  const d = parseConfigYaml(yaml('    priority: 255\n'));
  t.ok(d.ok && d.config.instances[0]?.ownerIgnoreAdverts === false, 'default: adverts processed (erratum 8298)');
  const on = parseConfigYaml(yaml('    priority: 255\n    owner-ignore-adverts: true\n'));
  t.ok(on.ok && on.config.instances[0]?.ownerIgnoreAdverts === true);
});

t.test('true without priority 255 is an error naming the key and the priority', async (t) => {
  const r = parseConfigYaml(yaml('    priority: 200\n    owner-ignore-adverts: true\n'));
  t.equal(r.ok, false);
  if (!r.ok) t.match(r.errors.map((e) => e.message).join('\n'), /owner-ignore-adverts.*address owner only \(priority 255\); this instance has priority 200/);
  const notBool = parseConfigYaml(yaml('    priority: 255\n    owner-ignore-adverts: sometimes\n'));
  t.equal(notBool.ok, false, 'not a boolean: rejected');
});

// RFC 9568 §5.2.8: "For the IPv4 address family, the checksum calculation only includes the VRRP
// message starting with the Version field and ending after the last IPv4 address".
t.test('v3-checksum: pseudo-header by default, message for RFC 9568; VRRPv3 over IPv4 only', async (t) => {
  const d = parseConfigYaml(yaml(''));
  t.ok(d.ok && d.config.instances[0]?.v3ChecksumMessageOnly === false, 'default: keepalived\'s form');
  const m = parseConfigYaml(yaml('    v3-checksum: message\n'));
  t.ok(m.ok && m.config.instances[0]?.v3ChecksumMessageOnly === true);
  const bad = parseConfigYaml(yaml('    v3-checksum: none\n'));
  t.equal(bad.ok, false);
  if (!bad.ok) t.match(bad.errors.map((e) => e.message).join('\n'), /v3-checksum.*must be pseudo-header .* or message .*got "none"/);
  const v2 = parseConfigYaml(yaml('    vrrp-version: 2\n    v3-checksum: message\n'));
  t.equal(v2.ok, false, 'VRRPv2 has no pseudo-header to leave out');
  const six = parseConfigYaml('instances:\n  - name: web6\n    vrid: 51\n    interface: eth1\n    vips: [fe80::10/64]\n    v3-checksum: message\n');
  t.equal(six.ok, false, 'IPv6 always includes its pseudo-header');
});
