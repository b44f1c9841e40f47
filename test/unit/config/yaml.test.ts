import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { parseDurationMs } from '../../../src/core/config/duration.js';

const good = `
socket: /run/test.sock
instances:
  - name: web
    vrid: 51
    role: master
    interface: int0
    external: ext0
    vips: [10.77.0.100/24, 10.77.0.101/24]
    advert-interval: 100ms
  - vrid: 52
    interface: int0
    vips: ["2001:DB8::10/64"]
    priority: 120
    preempt: true
`;

t.test('a valid file yields frozen, defaulted instances', (t) => {
  const r = parseConfigYaml(good);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  const [a, b] = r.config.instances;
  t.equal(r.config.socketPath, '/run/test.sock');
  t.match(a, { name: 'web', vrid: 51, role: 'master', priority: 150, preempt: true, advertIntervalCs: 10, version: 3, family: 4, external: 'ext0' });
  t.same(a?.garp, { burst: 5, burstIntervalMs: 100, refreshMs: 10000 });
  t.match(b, { name: 'vrid52', role: 'auto', priority: 120, preempt: true, family: 6, external: 'int0', advertIntervalCs: 100 });
  t.same(b?.vips.map((v) => v.cidr), ['2001:db8::10/64'], 'IPv6 is canonicalised');
  t.ok(Object.isFrozen(r.config) && Object.isFrozen(a));
  t.end();
});

t.test('role presets: backup and auto never preempt, master does', (t) => {
  for (const [role, priority, preempt] of [['auto', 100, false], ['backup', 100, false], ['master', 150, true]] as const) {
    const r = parseConfigYaml(`instances:\n  - {vrid: 1, interface: eth0, vips: [10.0.0.1/24], role: ${role}}\n`);
    t.ok(r.ok);
    if (r.ok) t.match(r.config.instances[0], { priority, preempt }, role);
  }
  t.end();
});

t.test('errors name the key path and the line', (t) => {
  const r = parseConfigYaml(`instances:
  - vrid: 300
    interface: int0
    vips: [10.0.0.1/33, nonsense]
    advert-interval: 15ms
    colour: blue
`);
  t.notOk(r.ok);
  if (r.ok) return t.end();
  const msgs = r.errors.map((e) => e.message);
  t.ok(msgs.some((m) => m.startsWith('instances[0].vrid (line 2): must be an integer from 1 to 255')), msgs.join('\n'));
  t.ok(msgs.some((m) => m.startsWith('instances[0].vips[0] (line 4): prefix /33')), msgs.join('\n'));
  t.ok(msgs.some((m) => m.startsWith('instances[0].vips[1] (line 4): "nonsense" is not in CIDR form')));
  t.ok(msgs.some((m) => m.startsWith('instances[0].advert-interval (line 5): VRRPv3 advertises centiseconds')));
  t.ok(msgs.some((m) => m.startsWith('instances[0].colour (line 6): unknown key')));
  t.ok(r.errors.every((e) => e.code === 'HA_ERR_CONFIG'));
  t.end();
});

t.test('VRRPv2 constraints: whole seconds, IPv4 only, 8-byte password', (t) => {
  const r = parseConfigYaml(`instances:
  - vrid: 1
    interface: eth0
    vrrp-version: 2
    advert-interval: 100ms
    vips: [10.0.0.1/24]
    auth: { type: pass, password: "123456789" }
  - vrid: 2
    interface: eth0
    vrrp-version: 2
    vips: ["fe80::1/64"]
  - vrid: 3
    interface: eth0
    vips: [10.0.0.3/24]
    auth: { type: pass, password: x }
`);
  t.notOk(r.ok);
  if (r.ok) return t.end();
  const msgs = r.errors.map((e) => e.message).join('\n');
  t.match(msgs, /instances\[0\]\.advert-interval \(line 5\): VRRPv2 advertises whole seconds/);
  t.match(msgs, /instances\[0\]\.auth\.password \(line 7\): is at most 8 bytes/);
  t.match(msgs, /instances\[1\]\.vrrp-version \(line 10\): VRRPv2 carries IPv4 only/);
  t.match(msgs, /instances\[2\]\.auth\.type \(line 15\): authentication exists only in VRRPv2/);
  t.end();
});

t.test('duplicates and missing pieces are reported', (t) => {
  const r = parseConfigYaml(`instances:
  - {name: a, vrid: 5, interface: eth0, vips: [10.0.0.1/24, 10.0.0.1/24]}
  - {name: a, vrid: 5, interface: eth0, vips: [10.0.0.2/24], peers: ["fe80::1"]}
  - {name: c}
`);
  t.notOk(r.ok);
  if (r.ok) return t.end();
  const msgs = r.errors.map((e) => e.message).join('\n');
  t.match(msgs, /instances\[0\]\.vips\[1\].*listed twice/);
  t.match(msgs, /instances\[1\]\.vrid.*already used on eth0 by instances\[0\]/);
  t.match(msgs, /instances\[1\]\.name.*already used by instances\[0\]/);
  t.match(msgs, /instances\[1\]\.peers\[0\].*IPv6 but the VIPs are IPv4/);
  t.match(msgs, /instances\[2\]\.vrid.*is required/);
  t.match(msgs, /instances\[2\]\.interface.*is required/);
  t.match(msgs, /instances\[2\]\.vips.*at least one address/);
  t.end();
});

t.test('YAML syntax errors and non-mapping documents', (t) => {
  const bad = parseConfigYaml('instances: [\n');
  t.notOk(bad.ok);
  if (!bad.ok) t.match(bad.errors[0]?.message, /^\(yaml\)/);
  const list = parseConfigYaml('- 1\n- 2\n');
  t.notOk(list.ok);
  const empty = parseConfigYaml('socket: relative.sock\ninstances: []\n');
  t.notOk(empty.ok);
  if (!empty.ok) t.match(empty.errors.map((e) => e.message).join('\n'), /socket \(line 1\): must be an absolute path[\s\S]*instances \(line 2\): needs at least one instance/);
  t.end();
});

t.test('durations', (t) => {
  t.same(parseDurationMs('1s'), { ok: true, ms: 1000 });
  t.same(parseDurationMs('100ms'), { ok: true, ms: 100 });
  t.same(parseDurationMs('1.5s'), { ok: true, ms: 1500 });
  t.same(parseDurationMs('2m'), { ok: true, ms: 120000 });
  t.same(parseDurationMs(3), { ok: true, ms: 3000 });
  t.notOk(parseDurationMs('fast').ok);
  t.notOk(parseDurationMs(-1).ok);
  t.notOk(parseDurationMs(true).ok);
  t.end();
});
