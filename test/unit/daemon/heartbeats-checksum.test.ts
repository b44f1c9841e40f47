/**
 * The checksum form of the adverts the agent sends (Heartbeats.sendAdvert with fake ports):
 * keepalived's IPv4 pseudo-header by default, the message alone with `v3-checksum: message`.
 */
import t from 'tap';
import pino from 'pino';
import { Heartbeats } from '../../../src/daemon/heartbeats.js';
import type { AgentPorts } from '../../../src/daemon/agent-ports.js';
import { decodeAdvertisement } from '../../../src/core/packet/decode.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';

function instance(extra = ''): InstanceConfig {
  const r = parseConfigYaml(`instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24]\n${extra}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}

async function sent(inst: InstanceConfig): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  const ports = {
    netlink: { getLink: async () => ({ ifindex: 2 }), primaryIpv4: async () => '10.0.0.2' },
    openVrrp: () => ({ send: async (m: Uint8Array) => { out.push(m); }, close: () => undefined }),
  } as unknown as AgentPorts;
  const hb = new Heartbeats(ports, { onDatagram: () => undefined, onMessage6: () => undefined } as never, pino({ level: 'silent' }));
  await hb.resolve([inst]);
  hb.open();
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  const m = out[0];
  if (m === undefined) throw new Error('nothing sent');
  return m;
}

const ctx = { family: 4 as const, src: '10.0.0.2', dst: '224.0.0.18', ttl: 255 };

t.test('default: the IPv4 pseudo-header is in the checksum (keepalived\'s default)', async (t) => {
  t.match(decodeAdvertisement(await sent(instance()), ctx), { ok: true, checksumForm: 'v3-pseudo' });
});

// RFC 9568 §5.2.8: "For the IPv4 address family, the checksum calculation only includes the VRRP
// message starting with the Version field and ending after the last IPv4 address".
t.test('v3-checksum: message -> the checksum covers the message only (RFC 9568 §5.2.8)', async (t) => {
  t.match(decodeAdvertisement(await sent(instance('    v3-checksum: message\n')), ctx), { ok: true, checksumForm: 'v3-no-pseudo' });
});
