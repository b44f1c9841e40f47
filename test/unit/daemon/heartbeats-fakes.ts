/**
 * Heartbeats over fake ports, for the unit tests of what it sends: one instance parsed from
 * YAML, and a Heartbeats whose VRRP socket records each datagram and its destination.
 */
import pino from 'pino';
import { Heartbeats } from '../../../src/daemon/heartbeats.js';
import type { AgentPorts } from '../../../src/daemon/agent-ports.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';

/** Instance "web", VRID 51 on eth1, VIP 192.0.2.10/24, plus `extra` YAML lines of the instance. */
export function instance(extra = ''): InstanceConfig {
  const r = parseConfigYaml(`instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [192.0.2.10/24]\n${extra}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}

/** A Heartbeats resolved and opened for `inst` (eth1 at 10.0.0.2); `out` gets [datagram, destination] per send. */
export async function heartbeats(inst: InstanceConfig): Promise<{ hb: Heartbeats; out: Array<[Uint8Array, string]> }> {
  const out: Array<[Uint8Array, string]> = [];
  const ports = {
    netlink: { getLink: async () => ({ ifindex: 2 }), primaryIpv4: async () => '10.0.0.2' },
    openVrrp: () => ({ send: async (m: Uint8Array, dst: string) => { out.push([m, dst]); }, close: () => undefined }),
  } as unknown as AgentPorts;
  const hb = new Heartbeats(ports, { onDatagram: () => undefined, onMessage6: () => undefined } as never, pino({ level: 'silent' }));
  await hb.resolve([inst]);
  hb.open();
  return { hb, out };
}
