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
  t.match(msgs, /instances\[0\]\.virtual-services\[3\]\.real-servers\[0\]\.address \(line 9\): fd00::1 is IPv6 but the VIP is IPv4/);
  t.match(msgs, /instances\[0\]\.virtual-services\[3\]\.real-servers\[1\]\.weight \(line 9\): must be an integer from 1 to 100/);
  t.end();
});

t.test('IPv6 virtual services: IPv6 VIP, real servers and snat; checks aimed at [addr]:port; families must match', (t) => {
  const v6head = 'instances:\n  - vrid: 2\n    interface: eth0\n    vips: ["fd00:77::100/64"]\n';
  const r = parseConfigYaml(`${v6head}    virtual-services:
      - port: 80
        snat: "fd00:66::1"
        real-servers:
          - { address: "fd00:66::11", check: { type: http } }
          - { address: "fd00:66::12", port: 8080, check: { type: tcp } }
`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const [web] = r.config.instances[0]?.virtualServices ?? [];
  t.match(web, { vip: 'fd00:77::100', port: 80, snat: 'fd00:66::1' });
  t.match(web?.realServers[0], { address: 'fd00:66::11', port: 80, check: { type: 'http', url: 'http://[fd00:66::11]:80/', name: 'fd00_66__11-80' } });
  t.match(web?.realServers[1], { address: 'fd00:66::12', port: 8080, check: { type: 'tcp', host: 'fd00:66::12', port: 8080 } });
  const bad = parseConfigYaml(`${v6head}    virtual-services:
      - { port: 80, snat: 10.66.0.1, real-servers: [{ address: 10.66.0.11 }] }
      - { port: 80, real-servers: [{ address: "fd00:66::11" }] }
`);
  t.notOk(bad.ok);
  if (bad.ok) return t.end();
  const msgs = bad.errors.map((e) => e.message).join('\n');
  t.match(msgs, /virtual-services\[0\]\.real-servers\[0\]\.address \(line 6\): 10\.66\.0\.11 is IPv4 but the VIP is IPv6/);
  t.match(msgs, /virtual-services\[0\]\.snat \(line 6\): 10\.66\.0\.1 is IPv4 but the VIP is IPv6/);
  t.match(msgs, /virtual-services\[1\] \(line 7\): \[fd00:77::100\]:80\/tcp is defined twice/);
  t.end();
});

t.test('the field checks buildRuleset relies on: VIP, ports, mode, addresses, weight bounds, snat', (t) => {
  const r = parseConfigYaml(`${head}    virtual-services:
      - { vip: 10.77.0.256, port: 80, real-servers: [{ address: 10.66.0.11 }] }
      - { port: 0, real-servers: [{ address: 10.66.0.11 }] }
      - { port: 65536, real-servers: [{ address: 10.66.0.11 }] }
      - { port: 84, mode: kernel, real-servers: [{ address: 10.66.0.11 }] }
      - { port: 85, snat: eth0, real-servers: [{ address: 10.66.0.011 }, { address: 10.66.0.12, port: 80.5 }, { address: 10.66.0.13, weight: 101 }, { address: 10.66.0.14, weight: 1.5 }] }
`);
  t.notOk(r.ok);
  if (r.ok) return t.end();
  const msgs = r.errors.map((e) => e.message).join('\n');
  const at = 'instances\\[0\\]\\.virtual-services';
  for (const [where, what] of [
    ['\\[0\\]\\.vip \\(line 6\\)', '"10\\.77\\.0\\.256" is not an IPv4 or IPv6 address'],
    ['\\[1\\]\\.port \\(line 7\\)', 'must be an integer from 1 to 65535, got 0'],
    ['\\[2\\]\\.port \\(line 8\\)', 'must be an integer from 1 to 65535, got 65536'],
    ['\\[3\\]\\.mode \\(line 9\\)', 'must be nftables or proxy, got "kernel"'],
    ['\\[4\\]\\.real-servers\\[0\\]\\.address \\(line 10\\)', '"10\\.66\\.0\\.011" is not an IPv4 or IPv6 address'],
    ['\\[4\\]\\.real-servers\\[1\\]\\.port \\(line 10\\)', 'must be an integer from 1 to 65535, got 80\\.5'],
    ['\\[4\\]\\.real-servers\\[2\\]\\.weight \\(line 10\\)', 'must be an integer from 1 to 100, got 101'],
    ['\\[4\\]\\.real-servers\\[3\\]\\.weight \\(line 10\\)', 'must be an integer from 1 to 100, got 1\\.5'],
    ['\\[4\\]\\.snat \\(line 10\\)', '"eth0" is not an IPv4 or IPv6 address'],
  ] as const) t.match(msgs, new RegExp(`${at}${where}: ${what}`));
  t.equal(r.errors.length, 9, 'one error each, nothing else');
  t.end();
});

t.test('a real server listed twice in one service is refused at its entry', (t) => {
  const r = parseConfigYaml(`instances:
  - name: web
    vrid: 1
    interface: eth0
    vips: [10.0.0.1/24]
    virtual-services:
      - port: 80
        real-servers:
          - { address: 10.0.0.11, port: 8080 }
          - { address: 10.0.0.12, port: 8080 }
          - { address: 10.0.0.11, port: 8080 }
`);
  t.notOk(r.ok);
  t.match(r.ok ? '' : r.errors.map((e) => e.message).join('\n'), /virtual-services\[0\]\.real-servers\[2\].*10\.0\.0\.11:8080 is listed twice/);
  t.end();
});
