import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const base = 'instances:\n  - vrid: 1\n    interface: eth0\n    vips: [10.0.0.1/24]\n';

t.test('checks and hooks: defaults filled in, frozen', (t) => {
  const r = parseConfigYaml(`metrics: { listen: "127.0.0.1:9650" }\n${base}    checks:
      - { name: web, type: http, url: "http://127.0.0.1/health", expect-status: [200, 204], body-contains: ok, weight: 30 }
      - { type: tcp, port: 5432, interval: 1s, timeout: 500ms, rise: 3, fall: 1 }
      - { name: script, type: exec, command: [/usr/local/bin/check, --quick] }
      - { name: uplink, type: interface, interface: eth1 }
      - { name: steer, type: file, path: /run/haagent/steer }
    hooks:
      before-master: { command: [/usr/local/bin/promote, db], timeout: 60s }
      backup: [/usr/local/bin/demote]
`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  t.equal(r.config.metricsListen, '127.0.0.1:9650');
  const [http, tcp, exec, iface, file] = r.config.instances[0]?.checks ?? [];
  t.match(http, { name: 'web', type: 'http', expectStatus: [200, 204], bodyContains: 'ok', weight: 30, intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 2 });
  t.match(tcp, { name: 'tcp1', type: 'tcp', host: '127.0.0.1', port: 5432, intervalMs: 1000, timeoutMs: 500, rise: 3, fall: 1, weight: 0 });
  t.match(exec, { type: 'exec', command: ['/usr/local/bin/check', '--quick'] });
  t.match(iface, { type: 'interface', interface: 'eth1' });
  t.match(file, { type: 'file', path: '/run/haagent/steer' });
  t.same(r.config.instances[0]?.hooks, {
    'before-master': { command: ['/usr/local/bin/promote', 'db'], timeoutMs: 60000 },
    backup: { command: ['/usr/local/bin/demote'], timeoutMs: 30000 },
  });
  t.ok(Object.isFrozen(r.config.instances[0]?.checks) && Object.isFrozen(http));
  t.end();
});

t.test('check and hook errors name the key path and line', (t) => {
  const r = parseConfigYaml(`metrics: { listen: "localhost:99999" }\n${base}    checks:
      - { name: a, type: ping }
      - { name: b, type: http, url: "ftp://x/" }
      - { name: c, type: tcp, host: db.local, port: 5432 }
      - { name: d, type: exec, command: "check.sh" }
      - { name: e, type: exec, command: [check.sh] }
      - { name: f, type: http, url: "http://127.0.0.1/", interval: 1s, timeout: 2s }
      - { name: f, type: file, path: relative }
    hooks:
      on-master: [/bin/true]
      master: { command: [/bin/true], timeout: 0ms }
`);
  t.notOk(r.ok);
  if (r.ok) return t.end();
  const msgs = r.errors.map((e) => e.message).join('\n');
  t.match(msgs, /metrics\.listen \(line 1\): "localhost:99999" is not ADDRESS:PORT/);
  t.match(msgs, /instances\[0\]\.checks\[0\]\.type \(line 7\): must be one of http, tcp, exec, interface, file/);
  t.match(msgs, /instances\[0\]\.checks\[1\]\.url \(line 8\): "ftp:\/\/x\/" is not an http\(s\) URL/);
  t.match(msgs, /instances\[0\]\.checks\[2\]\.host \(line 9\):.*no DNS lookups/);
  t.match(msgs, /instances\[0\]\.checks\[3\]\.command \(line 10\): must be a non-empty list of strings/);
  t.match(msgs, /instances\[0\]\.checks\[4\]\.command\[0\] \(line 11\): "check\.sh" must be an absolute path/);
  t.match(msgs, /instances\[0\]\.checks\[5\]\.timeout \(line 12\): must be from 10ms to the interval/);
  t.match(msgs, /instances\[0\]\.checks\[6\]\.path \(line 13\): must be an absolute path/);
  t.match(msgs, /instances\[0\]\.hooks\.on-master \(line 15\): unknown key "on-master"/);
  t.match(msgs, /instances\[0\]\.hooks\.master\.timeout \(line 16\): must be from 10ms to 1h/);
  t.end();
});
