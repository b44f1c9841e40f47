/** The etcd keys (src/core/config/etcd.ts): defaults, parsed values, refusals with their key paths and codes. */
import t, { type Test } from 'tap';
import { validateConfig } from '../../../src/core/config/validate.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const inst = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ vrid: 51, interface: 'eth1', vips: ['192.0.2.10/24'], ...extra });
const ENDPOINTS = ['http://10.0.0.1:2379', 'http://10.0.0.2:2379', 'http://10.0.0.3:2379'];

function problems(raw: Record<string, unknown>): Array<{ path: string; message: string; code: string }> {
  const r = validateConfig(raw);
  return r.ok ? [] : r.errors.map((e) => ({ path: e.path, message: e.message, code: e.code }));
}

function onlyProblemAt(t: Test, raw: Record<string, unknown>, path: string, pattern: RegExp, code = 'HA_ERR_CONFIG'): void {
  const ps = problems(raw);
  t.equal(ps.length, 1, JSON.stringify(ps));
  t.equal(ps[0]?.path, path);
  t.match(ps[0]?.message, pattern);
  t.equal(ps[0]?.code, code);
}

t.test('no etcd and no election: no etcd config, every instance elects by vrrp and releases', (t) => {
  const r = validateConfig({ instances: [inst()] });
  t.ok(r.ok);
  if (!r.ok) return t.end();
  t.equal(r.config.etcd, undefined);
  t.equal(r.config.instances[0]?.election, 'vrrp');
  t.equal(r.config.instances[0]?.etcdUnreachable, 'release');
  t.end();
});

t.test('defaults: lease 2s, prefix /haagent, request-timeout 300ms, keepalive lease/8 (at least 100ms)', (t) => {
  const r = validateConfig({ etcd: { endpoints: ENDPOINTS }, instances: [inst({ election: 'etcd' })] });
  t.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('; '));
  if (!r.ok) return t.end();
  t.same(r.config.etcd, { endpoints: ENDPOINTS, leaseTtlS: 2, prefix: '/haagent', requestTimeoutMs: 300, keepaliveIntervalMs: 250 });
  t.equal(r.config.instances[0]?.election, 'etcd');
  const one = validateConfig({ etcd: { endpoints: ENDPOINTS, lease: '1s' }, instances: [inst()] });
  t.equal(one.ok ? one.config.etcd?.keepaliveIntervalMs : undefined, 125);
  const long = validateConfig({ etcd: { endpoints: ENDPOINTS, lease: '60s' }, instances: [inst()] });
  t.equal(long.ok ? long.config.etcd?.keepaliveIntervalMs : undefined, 7500);
  t.end();
});

t.test('every key set: parsed with units; a trailing "/" of an endpoint is dropped; tls kept', (t) => {
  const r = validateConfig({
    etcd: {
      endpoints: ['https://10.0.0.1:2379/', 'https://[2001:db8::2]:2379'], lease: 5, prefix: '/ha/site-1',
      'request-timeout': '500ms', 'keepalive-interval': '1s', tls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: '/etc/k.pem' },
    },
    instances: [inst({ election: 'vrrp+etcd', 'etcd-unreachable': 'keep' })],
  });
  t.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('; '));
  if (!r.ok) return t.end();
  t.same(r.config.etcd, {
    endpoints: ['https://10.0.0.1:2379', 'https://[2001:db8::2]:2379'], leaseTtlS: 5, prefix: '/ha/site-1',
    requestTimeoutMs: 500, keepaliveIntervalMs: 1000, tls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: '/etc/k.pem' },
  });
  t.equal(r.config.instances[0]?.etcdUnreachable, 'keep');
  t.end();
});

t.test('bad endpoint URLs are refused at their index', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['10.0.0.1:2379', /not an http:\/\/ or https:\/\/ URL/],
    ['ftp://10.0.0.1:2379', /not an http/],
    ['http://user:pw@10.0.0.1:2379', /must not carry a user or password/],
    ['http://10.0.0.1:2379/v3', /without a path or query/],
    ['http://10.0.0.1:2379?x=1', /without a path or query/],
    [42, /URL string, got 42/],
  ];
  for (const [url, pattern] of cases) {
    onlyProblemAt(t, { etcd: { endpoints: ['http://10.0.0.9:2379', url] }, instances: [inst()] }, 'etcd.endpoints[1]', pattern);
  }
  onlyProblemAt(t, { etcd: { endpoints: ['http://10.0.0.9:2379', 'http://10.0.0.9:2379/'] }, instances: [inst()] }, 'etcd.endpoints[1]', /listed twice/);
  onlyProblemAt(t, { etcd: { endpoints: [] }, instances: [inst()] }, 'etcd.endpoints', /at least one/);
  onlyProblemAt(t, { etcd: { lease: '2s' }, instances: [inst()] }, 'etcd.endpoints', /is required/);
  onlyProblemAt(t, { etcd: 'http://10.0.0.1:2379', instances: [inst()] }, 'etcd', /must be a mapping/);
  t.end();
});

t.test('over 16 endpoints: one HA_ERR_LIMIT problem, no entry parsed', (t) => {
  const many = Array.from({ length: 17 }, (_, i) => `http://10.0.0.${i + 1}:2379`);
  onlyProblemAt(t, { etcd: { endpoints: [...many.slice(0, 16), 'garbage'] }, instances: [inst()] }, 'etcd.endpoints', /17 endpoints, over the limit of 16/, 'HA_ERR_LIMIT');
  t.same(problems({ etcd: { endpoints: many.slice(0, 16) }, instances: [inst()] }), [], '16 is fine');
  t.end();
});

t.test('lease: whole seconds, at least 1s, at most 1h (HA_ERR_LIMIT above)', (t) => {
  const at = (lease: unknown): Record<string, unknown> => ({ etcd: { endpoints: ENDPOINTS, lease, 'keepalive-interval': '100ms', 'request-timeout': '10ms' }, instances: [inst()] });
  onlyProblemAt(t, at('1500ms'), 'etcd.lease', /whole seconds, at least 1s/);
  onlyProblemAt(t, at('500ms'), 'etcd.lease', /whole seconds, at least 1s/);
  onlyProblemAt(t, at(0), 'etcd.lease', /whole seconds, at least 1s/);
  onlyProblemAt(t, at('61m'), 'etcd.lease', /over the limit of 3600s/, 'HA_ERR_LIMIT');
  onlyProblemAt(t, at('soon'), 'etcd.lease', /not a duration/);
  t.same(problems(at('1s')), []);
  t.same(problems(at('60m')), [], '1h is the bound itself');
  t.end();
});

t.test('timings: bounds, and keepalive + 2 x request-timeout must fit in the lease', (t) => {
  const at = (e: Record<string, unknown>): Record<string, unknown> => ({ etcd: { endpoints: ENDPOINTS, ...e }, instances: [inst()] });
  onlyProblemAt(t, at({ 'request-timeout': '5ms' }), 'etcd.request-timeout', /from 10ms to 10s/);
  onlyProblemAt(t, at({ 'request-timeout': '11s', lease: '60s' }), 'etcd.request-timeout', /from 10ms to 10s/);
  onlyProblemAt(t, at({ 'keepalive-interval': '50ms' }), 'etcd.keepalive-interval', /at least 100ms/);
  onlyProblemAt(t, at({ lease: '1s', 'request-timeout': '450ms' }), 'etcd.request-timeout', /\(125 ms\) \+ 2 x request-timeout \(450 ms\) must be under the lease \(1000 ms\)/);
  onlyProblemAt(t, at({ lease: '2s', 'keepalive-interval': '1500ms' }), 'etcd.keepalive-interval', /must be under the lease \(2000 ms\)/);
  t.same(problems(at({ lease: '1s', 'request-timeout': '400ms' })), [], '125 + 800 < 1000');
  t.end();
});

t.test('prefix: /segments of safe characters, bounded', (t) => {
  const at = (prefix: unknown): Record<string, unknown> => ({ etcd: { endpoints: ENDPOINTS, prefix }, instances: [inst()] });
  for (const bad of ['haagent', '/haagent/', '/', '/a//b', '/a b', '/ä']) onlyProblemAt(t, at(bad), 'etcd.prefix', /must start with "\/"/);
  onlyProblemAt(t, at(`/${'a'.repeat(300)}`), 'etcd.prefix', /over the limit of 256/, 'HA_ERR_LIMIT');
  t.same(problems(at('/a/b.c/d_e-f')), []);
  t.end();
});

t.test('tls: absolute paths, cert with key, and only with an https endpoint', (t) => {
  const https = ['https://10.0.0.1:2379'];
  onlyProblemAt(t, { etcd: { endpoints: https, tls: { ca: 'ca.pem' } }, instances: [inst()] }, 'etcd.tls.ca', /absolute path/);
  onlyProblemAt(t, { etcd: { endpoints: https, tls: { cert: '/c.pem' } }, instances: [inst()] }, 'etcd.tls', /cert and key go together/);
  onlyProblemAt(t, { etcd: { endpoints: https, tls: { key: '/k.pem' } }, instances: [inst()] }, 'etcd.tls', /cert and key go together/);
  onlyProblemAt(t, { etcd: { endpoints: ENDPOINTS, tls: { ca: '/ca.pem' } }, instances: [inst()] }, 'etcd.tls', /no endpoint is https/);
  onlyProblemAt(t, { etcd: { endpoints: https, tls: { ca: '/ca.pem', pass: 'x' } }, instances: [inst()] }, 'etcd.tls.pass', /unknown key/);
  onlyProblemAt(t, { etcd: { endpoints: https, tls: '/ca.pem' }, instances: [inst()] }, 'etcd.tls', /must be a mapping/);
  t.end();
});

t.test('election modes: unknown refused; the etcd modes need the top-level etcd; "/" refused in their names', (t) => {
  onlyProblemAt(t, { instances: [inst({ election: 'raft' })] }, 'instances[0].election', /one of vrrp, vrrp\+etcd, etcd/);
  onlyProblemAt(t, { instances: [inst({ election: 'vrrp+etcd' })] }, 'instances[0].election', /needs the top-level etcd/);
  onlyProblemAt(t, { instances: [inst(), inst({ vrid: 52, election: 'etcd' })] }, 'instances[1].election', /etcd needs the top-level etcd/);
  onlyProblemAt(t, { etcd: { endpoints: ENDPOINTS }, instances: [inst({ name: 'a/b', election: 'etcd' })] }, 'instances[0].name', /must not contain "\/"/);
  t.same(problems({ instances: [inst({ name: 'a/b' })] }), [], 'a vrrp instance keeps any name');
  // A broken etcd mapping is reported where it is, not a second time at each instance.
  onlyProblemAt(t, { etcd: { endpoints: 'x' }, instances: [inst({ election: 'etcd' })] }, 'etcd.endpoints', /must be a list/);
  t.end();
});

t.test('etcd-unreachable: keep | release, vrrp+etcd only', (t) => {
  const e = { endpoints: ENDPOINTS };
  onlyProblemAt(t, { etcd: e, instances: [inst({ election: 'vrrp+etcd', 'etcd-unreachable': 'hold' })] }, 'instances[0].etcd-unreachable', /keep or release/);
  onlyProblemAt(t, { etcd: e, instances: [inst({ election: 'etcd', 'etcd-unreachable': 'keep' })] }, 'instances[0].etcd-unreachable', /vrrp\+etcd only \(this instance uses etcd\)/);
  onlyProblemAt(t, { instances: [inst({ 'etcd-unreachable': 'release' })] }, 'instances[0].etcd-unreachable', /vrrp\+etcd only/);
  t.end();
});

t.test('from YAML: the problem carries its line', (t) => {
  const r = parseConfigYaml(`etcd:
  endpoints: [http://10.0.0.1:2379]
  lease: 1.5s
instances:
  - { vrid: 51, interface: eth1, vips: [192.0.2.10/24], election: etcd }
`);
  t.equal(r.ok, false);
  if (r.ok) return t.end();
  t.equal(r.errors.length, 1);
  t.equal(r.errors[0]?.message, 'etcd.lease (line 3): must be whole seconds, at least 1s (etcd grants leases in whole seconds), got 1500 ms');
  t.end();
});

t.test('self-fence: on and a self-fence-backup-priority are refused with election: etcd (no adverts refresh the fence); auto and off are fine', async (t) => {
  const etcd = { endpoints: ENDPOINTS };
  onlyProblemAt(t, { etcd, instances: [inst({ name: 'web', election: 'etcd', 'self-fence': 'on' })] }, 'instances[0].self-fence', /election: etcd sends none/);
  for (const setting of ['auto', 'off']) {
    t.same(problems({ etcd, instances: [inst({ name: 'web', election: 'etcd', 'self-fence': setting })] }), [], setting);
  }
  t.same(problems({ etcd, instances: [inst({ name: 'web', election: 'vrrp+etcd', 'self-fence': 'on' })] }), [], 'vrrp+etcd sends adverts');
  onlyProblemAt(t, { etcd, instances: [inst({ name: 'web', election: 'etcd', 'self-fence-backup-priority': 100 })] }, 'instances[0].self-fence-backup-priority', /election: etcd sends none/);
  t.same(problems({ etcd, instances: [inst({ name: 'web', election: 'etcd', 'self-fence-backup-priority': 'auto' })] }), [], 'auto is the default');
  t.same(problems({ etcd, instances: [inst({ name: 'web', election: 'vrrp+etcd', 'self-fence-backup-priority': 100 })] }), [], 'vrrp+etcd: a backup priority is fine');
});
