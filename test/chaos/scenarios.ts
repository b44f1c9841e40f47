/**
 * The failures the chaos run injects into a converged pair (h1 master, h2 backup), and how each
 * is healed. Switch-side ports (in the -sw namespace) are `h1i`, `h1e`, `h2i`, `h2e`.
 *
 * `isolate` takes the master's switch ports down, so its NICs lose carrier and even plain VRRP
 * sees the external NIC fail (FAULT). `silent` isolates it with nftables on the bridge instead:
 * the carrier stays up (a dead upstream switch), which only a witness can tell from a dead peer.
 */
import { spawn } from 'node:child_process';
import { run, ip } from '../../src/lab/sh.js';
import type { RunningAgent } from '../../src/lab/cluster.js';
import type { LabHost, LabTopology } from '../../src/lab/topology.js';

export const NFT_TABLE = 'hachaos';

export interface FaultContext {
  readonly topo: LabTopology;
  readonly master: LabHost;
  readonly backup: LabHost;
  readonly masterAgent: RunningAgent;
  readonly intervalMs: number;
}

export interface Scenario {
  readonly id: string;
  readonly label: string;
  /** How long the fault stays on before `heal` (ms), for an advert interval. */
  holdMs(intervalMs: number, masterDownMs: number): number;
  inject(ctx: FaultContext): Promise<void>;
  /** Undefined: nothing to heal (the fault stays, e.g. a killed agent). */
  readonly heal?: (ctx: FaultContext) => Promise<void>;
  /** What the scenario's exemption from the dual-master target is, if any (by mode). */
  readonly exemptWithout?: 'witness';
}

const signal = (a: RunningAgent, sig: NodeJS.Signals): void => {
  const pid = a.child.pid;
  if (pid === undefined) throw new Error(`${a.host.name}: agent has no pid`);
  process.kill(pid, sig);
};

const link = (ns: string, dev: string, state: 'up' | 'down'): Promise<string> => ip('-n', ns, 'link', 'set', dev, state);
const ports = async (ctx: FaultContext, names: readonly string[], state: 'up' | 'down'): Promise<void> => {
  for (const p of names) await link(ctx.topo.sw, p, state);
};

/** Long enough for a takeover to happen (and be watched) at any advert interval. */
const linkHold = (_i: number, masterDownMs: number): number => Math.max(3000, masterDownMs + 2000);

export const nftLossRules = (percent: number): string => `table bridge ${NFT_TABLE} {
  chain loss {
    type filter hook forward priority 0; policy accept;
    ether type ip ip protocol 112 numgen random mod 10 < ${Math.round(percent / 10)} counter drop
  }
}
`;

/** `nft -f -` with the rules on stdin, inside namespace `ns`. */
export function nftApply(ns: string, rules: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    c.once('error', reject);
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft -f - in ${ns} failed (${String(code)}): ${err.trim()}`))));
    c.stdin.end(rules);
  });
}

/** Drops every frame to and from the given switch ports: the host is cut off, its carrier stays up. */
export const nftIsolateRules = (ports: readonly string[]): string => `table bridge ${NFT_TABLE} {
  chain isolate {
    type filter hook forward priority 0; policy accept;
    iifname { ${ports.map((p) => `"${p}"`).join(', ')} } counter drop
    oifname { ${ports.map((p) => `"${p}"`).join(', ')} } counter drop
  }
}
`;

export async function nftDeleteTable(ns: string): Promise<boolean> {
  const list = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables']).catch(() => '');
  if (!list.split('\n').some((l) => l.trim() === `table bridge ${NFT_TABLE}`)) return false;
  await run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'bridge', NFT_TABLE]);
  return true;
}

/** Dropped-packet counter of the loss rule (for the report), or undefined. */
export async function nftDropped(ns: string): Promise<number | undefined> {
  const out = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'bridge', NFT_TABLE]).catch(() => '');
  const m = /counter packets (\d+)/.exec(out);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'kill9',
    label: 'kill -9 master (stays dead)',
    holdMs: () => 3000,
    async inject(ctx) { signal(ctx.masterAgent, 'SIGKILL'); },
  },
  {
    id: 'sigstop',
    label: 'SIGSTOP master, SIGCONT',
    holdMs: (_i, down) => Math.max(3000, down + 2000),
    async inject(ctx) { signal(ctx.masterAgent, 'SIGSTOP'); },
    async heal(ctx) { signal(ctx.masterAgent, 'SIGCONT'); },
  },
  {
    id: 'int0',
    label: 'master int0 down/up',
    holdMs: linkHold,
    async inject(ctx) { await link(ctx.master.ns, 'int0', 'down'); },
    async heal(ctx) { await link(ctx.master.ns, 'int0', 'up'); },
  },
  {
    id: 'ext0',
    label: 'master ext0 down/up',
    holdMs: linkHold,
    async inject(ctx) { await link(ctx.master.ns, 'ext0', 'down'); },
    async heal(ctx) { await link(ctx.master.ns, 'ext0', 'up'); },
  },
  {
    id: 'intcut',
    label: 'internal net cut (h1i+h2i)',
    holdMs: linkHold,
    async inject(ctx) { await ports(ctx, ['h1i', 'h2i'], 'down'); },
    async heal(ctx) { await ports(ctx, ['h1i', 'h2i'], 'up'); },
  },
  {
    id: 'extcut',
    label: 'external net cut (h1e+h2e)',
    holdMs: linkHold,
    async inject(ctx) { await ports(ctx, ['h1e', 'h2e'], 'down'); },
    async heal(ctx) { await ports(ctx, ['h1e', 'h2e'], 'up'); },
  },
  {
    id: 'isolate',
    label: 'master isolated (h1i+h1e)',
    holdMs: linkHold,
    async inject(ctx) { await ports(ctx, [`${ctx.master.name}i`, `${ctx.master.name}e`], 'down'); },
    async heal(ctx) { await ports(ctx, [`${ctx.master.name}i`, `${ctx.master.name}e`], 'up'); },
    exemptWithout: 'witness',
  },
  {
    id: 'silent',
    label: 'master isolated, carrier up',
    holdMs: linkHold,
    async inject(ctx) { await nftApply(ctx.topo.sw, nftIsolateRules([`${ctx.master.name}i`, `${ctx.master.name}e`])); },
    async heal(ctx) { await nftDeleteTable(ctx.topo.sw); },
    exemptWithout: 'witness',
  },
  {
    id: 'loss',
    label: '30% VRRP loss (proto 112)',
    holdMs: (i) => Math.max(5000, 50 * i),
    async inject(ctx) { await nftApply(ctx.topo.sw, nftLossRules(30)); },
    async heal(ctx) { await nftDeleteTable(ctx.topo.sw); },
  },
];
