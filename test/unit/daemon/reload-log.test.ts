/**
 * The reload's log line names the instances of its plan and holds none of their settings: an
 * instance config carries secrets (the VRRPv2 password, HMAC keys), which are never logged.
 */
import t from 'tap';
import pino from 'pino';
import { reloadAgent, type ReloadHost } from '../../../src/daemon/agent-reload.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import type { Heartbeats } from '../../../src/daemon/heartbeats.js';
import type { Balancer } from '../../../src/daemon/balancer.js';
import type { SelfFence } from '../../../src/daemon/self-fence.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { AgentConfig } from '../../../src/core/config/types.js';

t.test('reload log: instance names, no password, no key', async (t) => {
  const r = parseConfigYaml(`instances:
  - { name: legacy, vrid: 1, interface: eth0, vips: [192.0.2.1/24], vrrp-version: 2, auth: { type: pass, password: pw3xyzq } }
  - { name: signed, vrid: 2, interface: eth0, vips: [192.0.2.2/24], auth: { type: hmac, keys: { 1: "ascii-key-that-is-32-bytes-long!" } } }
`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const lines: string[] = [];
  const started: string[] = [];
  const empty: AgentConfig = { ...r.config, instances: [] };
  const host: ReloadHost = {
    log: pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } }),
    events: new EventBus(),
    balancer: {} as Balancer,
    heartbeats: { resolve: async () => undefined, open: () => undefined } as unknown as Heartbeats,
    running: empty, started: empty, bound: [],
    startInstance: async (inst) => { started.push(inst.name); },
    stopInstance: async () => undefined,
    commit: () => undefined,
    fence: { update: async () => undefined } as unknown as SelfFence,
  };
  t.match(await reloadAgent(host, () => r.config), /2 added \(legacy, signed\)/);
  t.same(started, ['legacy', 'signed']);
  const text = lines.join('');
  t.match(text, /"added":\["legacy","signed"\]/, 'the plan by name');
  t.notMatch(text, /pw3xyzq|ascii-key|"secret"|"password"|"keys"/, 'no setting, no secret');
});
