import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

const head = 'instances:\n  - vrid: 1\n    interface: eth0\n    vips: [10.77.0.100/24, 10.77.0.101/24]\n';

t.test('virtual services: defaults, per-server checks aimed at the server', (t) => {
  const r = parseConfigYaml(`${head}    virtual-services:
      - port: 80
        real-servers:
          - { address: 10.66.0.11, check: { type: tcp } }
          - { address: 10.66.0.12, port: 8080, weight: 3, check: { type: http, interval: 500ms, timeout: 200ms } }
      - { vip: 10.77.0.101, port: 443, scheduler: source-hash, snat: 10.66.0.1, real-servers: [{ address: 10.66.0.11 }] }
`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const [web, tls] = r.config.instances[0]?.virtualServices ?? [];
  t.match(web, { vip: '10.77.0.100', port: 80, protocol: 'tcp', scheduler: 'round-robin', snat: undefined });
  t.match(web?.realServers[0], { address: '10.66.0.11', port: 80, weight: 1, check: { type: 'tcp', host: '10.66.0.11', port: 80, name: '10.66.0.11-80' } });
  t.match(web?.realServers[1], { address: '10.66.0.12', port: 8080, weight: 3, check: { type: 'http', url: 'http://10.66.0.12:8080/', intervalMs: 500 } });
  t.match(tls, { vip: '10.77.0.101', port: 443, scheduler: 'source-hash', snat: '10.66.0.1', realServers: [{ address: '10.66.0.11', port: 443, check: undefined }] });
  t.end();
});

t.test('virtual service errors name the key path and line', (t) => {
  const r = parseConfigYaml(`${head}    virtual-services:
      - { vip: 10.77.0.200, port: 80, real-servers: [{ address: 10.66.0.11 }] }
      - { port: 80, scheduler: least-conn, real-servers: [{ address: 10.66.0.11 }] }
      - { port: 81, real-servers: [] }
      - { port: 82, protocol: udp, real-servers: [{ address: "fd00::1" }, { address: 10.66.0.12, weight: 0 }] }
`);
  t.notOk(r.ok);
  if (r.ok) return t.end();
  const msgs = r.errors.map((e) => e.message).join('\n');
  t.match(msgs, /instances\[0\]\.virtual-services\[0\]\.vip \(line 6\): 10\.77\.0\.200 is not one of this instance's VIPs/);
  t.match(msgs, /instances\[0\]\.virtual-services\[1\]\.scheduler \(line 7\): must be one of round-robin, weighted, source-hash/);
  t.match(msgs, /instances\[0\]\.virtual-services\[2\]\.real-servers \(line 8\): needs at least one real server/);
  t.match(msgs, /instances\[0\]\.virtual-services\[3\]\.protocol \(line 9\): only tcp is balanced/);
  t.match(msgs, /instances\[0\]\.virtual-services\[3\]\.real-servers\[0\]\.address \(line 9\): the nftables balancer handles IPv4 real servers only/);
  t.match(msgs, /instances\[0\]\.virtual-services\[3\]\.real-servers\[1\]\.weight \(line 9\): must be an integer from 1 to 100/);
  t.end();
});
