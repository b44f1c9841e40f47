import t from 'tap';
import { redactConfig, REDACTED } from '../../../src/cli/redact.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';

t.test('check-config never prints a secret', async (t) => {
  const r = parseConfigYaml(`peer-key: "s3cret-peer-key-0123456789abcdef"
instances:
  - name: web
    vrid: 51
    interface: eth1
    vrrp-version: 2
    auth: { type: pass, password: pw123 }
    vips: [192.0.2.10/24]
    paths: [{ interface: eth1, peer: 10.0.0.2 }]
    checks: [{ name: h, type: http, url: "http://127.0.0.1/health?x=1" }]
`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const text = JSON.stringify(redactConfig(r.config));
  t.notMatch(text, /s3cret|pw123/);
  t.match(text, `"peerKey":"${REDACTED}"`);
  t.match(text, `"password":"${REDACTED}"`);
  t.match(text, 'http://127.0.0.1/health?x=1', 'a check URL is no secret and stays');
  t.equal(r.config.peerKey, 's3cret-peer-key-0123456789abcdef', 'the config itself is not changed');
  const hook = redactConfig({ ...r.config, alerts: { rateLimit: { burst: 1, perMs: 1000 }, targets: [
    { type: 'webhook', url: 'https://chat.example/hooks/T0K3N', format: 'chat', timeoutMs: 1000 },
    { type: 'webhook', url: 'http://127.0.0.1:9093/', format: 'alertmanager', timeoutMs: 1000 },
  ] } });
  t.notMatch(JSON.stringify(hook), /T0K3N/);
  t.match(JSON.stringify(hook), `https://chat.example/${REDACTED}`);
  t.match(JSON.stringify(hook), 'http://127.0.0.1:9093/', 'a bare origin is shown');
});
