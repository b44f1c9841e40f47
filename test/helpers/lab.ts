/**
 * Shared scaffolding of the namespace integration tests: one lab topology per test file, built
 * before and removed after; `withCluster` runs a case with fresh agents and puts the links and
 * VIPs back afterwards, whatever the case did.
 */
import type { Test } from 'tap';
import { LabCluster, type RunningAgent } from '../../src/lab/cluster.js';
import { LabTopology, VIP2_CIDR, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { ip } from '../../src/lab/sh.js';

export interface LabSuite {
  readonly topo: LabTopology;
  readonly h1: LabHost;
  readonly h2: LabHost;
  hasVip(host: LabHost, vip?: string): Promise<boolean>;
  withCluster(fn: (c: LabCluster) => Promise<void>): Promise<void>;
}

/** The last agent log lines, for a failed assertion's diagnostics. */
export function logsOf(a: RunningAgent, lines = 20): string {
  return a.logs.slice(-lines).map((l) => JSON.stringify(l)).join('\n');
}

/**
 * The lab's usual one-instance config: instance "web", VRID 51, adverts on int0 every 100 ms,
 * the VIP (`vips`, default the lab's VIP) on ext0, `priority`. `head` lines go before
 * `instances:` (peer-key, state-dir), `more` lines into the instance (each with its 4-space
 * indent, nested ones deeper).
 */
export function webInstanceYaml(o: {
  readonly socket: string;
  readonly priority: number;
  readonly vips?: string;
  readonly head?: readonly string[];
  readonly more?: readonly string[];
}): string {
  return [
    `socket: ${o.socket}`,
    ...(o.head ?? []),
    'instances:',
    '  - name: web',
    '    vrid: 51',
    '    interface: int0',
    '    external: ext0',
    `    vips: [${o.vips ?? `"${VIP_CIDR}"`}]`,
    '    advert-interval: 100ms',
    `    priority: ${o.priority}`,
    ...(o.more ?? []),
    '',
  ].join('\n');
}

export function labSuite(t: Test, prefix: string, opts: { readonly directInternal?: boolean } = {}): LabSuite {
  const topo = new LabTopology(`${prefix}${process.pid % 100000}`, opts);
  const [h1, h2] = topo.hosts;
  t.before(async () => { await topo.create(); });
  t.teardown(async () => { await topo.destroy(); });
  const hasVip = async (host: LabHost, vip = VIP_CIDR): Promise<boolean> => (await topo.extAddresses(host)).includes(vip);
  async function withCluster(fn: (c: LabCluster) => Promise<void>): Promise<void> {
    const c = new LabCluster(topo);
    try {
      await fn(c);
    } finally {
      await c.stopAll();
      for (const h of topo.hosts) {
        await topo.linksUp(h);
        for (const v of [VIP_CIDR, VIP2_CIDR]) await ip('-n', h.ns, 'addr', 'del', v, 'dev', 'ext0').catch(() => undefined);
      }
    }
  }
  return { topo, h1, h2, hasVip, withCluster };
}
