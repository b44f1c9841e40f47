/**
 * `check-config`'s look at this host: what `start` would run into here, as warnings (the file
 * itself can be valid for the other host of a pair, so none of this fails the check).
 * - an interface (heartbeat, external, path, interface check) that does not exist here;
 * - a hook or exec-check program that does not exist, is not a regular file, or is not
 *   executable;
 * - a VIP already configured on another interface of this host (the agent would add it a second
 *   time on its own NIC);
 * - nftables load-balancer services without an `nft` binary.
 * Reads only (/sys/class/net, file modes, `ip -j addr show`); never changes anything.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import type { AgentConfig } from '../core/config/types.js';

export interface HostProbe {
  interfaceExists(name: string): boolean;
  /** Why `path` cannot be run, or undefined when it can. */
  programProblem(path: string): string | undefined;
  /** Address (no prefix) -> interface names holding it. */
  addresses(): ReadonlyMap<string, readonly string[]>;
  hasNft(): boolean;
}

function programProblem(path: string): string | undefined {
  let st;
  try { st = statSync(path); } catch { return 'does not exist'; }
  if (!st.isFile()) return 'is not a regular file';
  try { accessSync(path, constants.X_OK); } catch { return 'is not executable'; }
  return undefined;
}

function addresses(): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, string[]>();
  const r = spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return out;
  let links: Array<{ ifname?: string; addr_info?: Array<{ local?: string }> }> = [];
  try { links = JSON.parse(r.stdout) as typeof links; } catch { return out; }
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      if (a.local === undefined || l.ifname === undefined) continue;
      out.set(a.local, [...(out.get(a.local) ?? []), l.ifname]);
    }
  }
  return out;
}

export const realHost: HostProbe = {
  interfaceExists: (name) => existsSync(`/sys/class/net/${name}`),
  programProblem,
  addresses,
  hasNft: () => spawnSync('nft', ['--version'], { stdio: 'ignore' }).status === 0,
};

/** The warnings for running `config` on this host, one line each, naming the key path. */
export function preflight(config: AgentConfig, host: HostProbe = realHost): string[] {
  const warnings: string[] = [];
  const missing = new Set<string>();
  const iface = (path: string, name: string): void => {
    if (host.interfaceExists(name)) return;
    warnings.push(`${path}: interface "${name}" does not exist on this host${missing.has(name) ? '' : ' (start would refuse)'}`);
    missing.add(name);
  };
  const program = (path: string, argv: readonly string[]): void => {
    const file = argv[0];
    if (file === undefined) return;
    const p = host.programProblem(file);
    if (p !== undefined) warnings.push(`${path}: ${file} ${p}`);
  };
  let held: ReadonlyMap<string, readonly string[]> | undefined;
  let nftServices = false;
  config.instances.forEach((inst, i) => {
    const at = `instances[${i}]`;
    iface(`${at}.interface`, inst.interface);
    if (inst.external !== inst.interface) iface(`${at}.external`, inst.external);
    inst.paths.forEach((p, j) => { if (p.interface !== inst.interface) iface(`${at}.paths[${j}].interface`, p.interface); });
    inst.checks.forEach((c, j) => {
      if (c.type === 'exec') program(`${at}.checks[${j}].command`, c.command);
      if (c.type === 'interface') iface(`${at}.checks[${j}].interface`, c.interface);
    });
    for (const [name, hook] of Object.entries(inst.hooks)) if (hook !== undefined) program(`${at}.hooks.${name}`, hook.command);
    held ??= host.addresses();
    inst.vips.forEach(({ address }, j) => {
      const others = (held?.get(address) ?? []).filter((n) => n !== inst.external);
      if (others.length > 0) warnings.push(`${at}.vips[${j}]: ${address} is already configured on ${others.join(', ')} (not on ${inst.external}, where the agent puts it)`);
    });
    if (inst.virtualServices.some((s) => s.mode === 'nftables')) nftServices = true;
  });
  if (nftServices && !host.hasNft()) warnings.push('virtual-services: mode nftables needs the nft program (apt-get install nftables), or use mode: proxy');
  return warnings;
}
