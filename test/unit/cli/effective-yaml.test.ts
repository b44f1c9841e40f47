import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { duration, effectiveYaml } from '../../../src/cli/effective-yaml.js';
import { packageRoot } from '../../../src/adapters/package-info.js';
import type { AgentConfig } from '../../../src/core/config/types.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : p.endsWith('.yaml') ? [p] : [];
  });
}

/** The config with every secret set to one value, to compare a round trip. */
function secretsOut(c: AgentConfig): unknown {
  return JSON.parse(JSON.stringify(c, (k: string, v: unknown) => (k === 'peerKey' || k === 'password' ? 'S' : v)));
}

const RICH = `peer-key: "0123456789abcdef0123456789abcdef"
etcd: { endpoints: [http://10.0.0.1:2379, "https://10.0.0.2:2379/"], lease: 3s, request-timeout: 250ms, tls: { ca: /etc/haagent/ca.pem } }
metrics: { listen: "127.0.0.1:9650" }
alerts:
  targets: [{ type: webhook, url: "https://chat.example/hooks/T0K3N", format: chat }, { type: syslog, address: "[2001:db8::5]:1514", facility: local3 }]
instances:
  - name: web
    vrid: 51
    interface: eth1
    external: eth0
    vips: [192.0.2.10/24, 192.0.2.11/24]
    advert-interval: 100ms
    peers: [10.0.0.2]
    environment: [PGPASSFILE, "TZ=UTC"]
    checks:
      - { name: web, type: http, url: "http://127.0.0.1/", body-contains: ok }
      - { name: nic, type: interface, interface: eth0, weight: 20 }
    hooks: { master: [/bin/true], before-master: { command: [/bin/true, x], timeout: 2500ms } }
    paths: [{ interface: eth0, peer: 192.0.2.2 }]
    witness: [{ type: tcp, address: 192.0.2.1, port: 22 }]
    vip-lifetime: 5s
    election: vrrp+etcd
    etcd-unreachable: keep
    virtual-services:
      - port: 8080
        real-servers: [{ address: 10.0.0.11, port: 80, check: { type: tcp, interval: 500ms, timeout: 300ms } }, { address: 10.0.0.12, weight: 3 }]
  - name: legacy
    vrid: 52
    interface: eth1
    vrrp-version: 2
    auth: { type: pass, password: pw12 }
    vips: [192.0.2.20/24]
    self-fence-backup-priority: 100
`;

t.test('effective YAML: every example and a rich config parse back to the same config, secrets aside', async (t) => {
  const texts = yamlFiles(join(packageRoot(), 'examples')).map((f) => [f, readFileSync(f, 'utf8')] as const);
  t.ok(texts.length >= 6, `${texts.length} example files`);
  for (const [name, text] of [...texts, ['rich', RICH] as const]) {
    const a = parseConfigYaml(text);
    if (!a.ok) { t.fail(`${name}: ${a.errors.map((e) => e.message).join('; ')}`); continue; }
    const out = effectiveYaml(a.config);
    const b = parseConfigYaml(out);
    if (!b.ok) { t.fail(`${name}: the output does not validate: ${b.errors.map((e) => e.message).join('; ')}\n${out}`); continue; }
    const env = (c: AgentConfig): unknown => c.instances.map((i) => i.environment.map((e) => e.name));
    t.same(env(b.config), env(a.config), `${name}: environment names kept`);
    const strip = (c: AgentConfig): unknown => secretsOut({ ...c, alerts: { ...c.alerts, targets: [] }, instances: c.instances.map((i) => ({ ...i, environment: [] })) });
    t.same(strip(b.config), strip(a.config), `${name}: same config`);
  }
});

t.test('effective YAML never holds a secret and uses the file key names', async (t) => {
  const r = parseConfigYaml(RICH);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const out = effectiveYaml(r.config);
  t.notMatch(out, /0123456789abcdef|pw12|T0K3N|TZ=UTC/);
  t.match(out, 'peer-key: (redacted)');
  t.match(out, 'TZ=(redacted)');
  t.match(out, 'url: https://chat.example/(redacted)');
  t.match(out, 'advert-interval: 100ms');
  t.match(out, 'max-advert-interval: 1s');
  t.match(out, 'real-servers:');
  t.match(out, 'election: vrrp+etcd');
  t.match(out, 'keepalive-interval: 375ms');
  t.notMatch(out, /advertIntervalCs|realServers|socketPath/, 'no internal names');
  t.equal(duration(2000), '2s');
  t.equal(duration(2500), '2500ms');
});
