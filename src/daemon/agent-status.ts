/**
 * The agent's status (`haagent status`): per instance the runner's part, the peer part and the
 * load-balancer services; agent-wide the drops, the config source and the containment mode.
 */
import type { AgentStatus, InstanceStatus } from '../core/control/types.js';
import type { BalancerPort } from './lazy-balancer.js';
import type { Bound } from './bound-instance.js';
import type { PeerLink } from './peer-link.js';
import type { SelfFence } from './self-fence.js';

export interface StatusParts {
  readonly version: string;
  readonly startedAt: string;
  readonly configSource: string;
  readonly configLoadedAt: string;
  readonly bound: readonly Bound[];
  readonly balancer: BalancerPort;
  readonly fence?: SelfFence;
  readonly interfaceDrops: Record<string, Record<string, number>>;
  readonly peerLink: PeerLink | undefined;
  readonly containment: { readonly mode: string; readonly detail: string };
}

function serviceStatus(balancer: BalancerPort, b: Bound): Pick<InstanceStatus, 'services'> {
  const services = balancer.status(b.config.name);
  return services.length === 0 ? {} : { services };
}

export function agentStatus(p: StatusParts): AgentStatus {
  return {
    pid: process.pid,
    version: p.version,
    startedAt: p.startedAt,
    instances: p.bound.map((b) => ({
      ...b.runner.status(), ...b.peer.status(), ...serviceStatus(p.balancer, b),
      ...(b.conntrack === undefined ? {} : { conntrackSync: b.conntrack.sync.status() }),
      ...(p.fence === undefined ? {} : { selfFence: p.fence.status(b.config) }),
    })),
    interfaceDrops: structuredClone(p.interfaceDrops),
    ...(p.peerLink === undefined ? {} : { helloDrops: p.peerLink.drops() }),
    configSource: p.configSource,
    configLoadedAt: p.configLoadedAt,
    containment: { mode: p.containment.mode, detail: p.containment.detail },
  };
}
