/**
 * The two-host lab in network namespaces, used by `haagent lab` and the integration tests.
 *
 *   <p>-sw      "switch": bridges brint (internal, 10.66.0.0/24) and brext (external, 10.77.0.0/24)
 *   <p>-h1/h2   hosts: int0 (10.66.0.11/.12), ext0 (10.77.0.11/.12)
 *   <p>-cl      client: eth0 10.77.0.50
 *
 * Every host plugs into a bridge in its own namespace (not a direct veth to the other host), so
 * taking one host's link down does not drop the other's carrier. All addresses exist only inside
 * these namespaces. `destroy()` removes everything `create()` made and is safe to call twice or
 * after a half-finished create.
 */
import { ip } from './sh.js';
import { HaagentError } from '../core/errors.js';

export interface LabHost {
  readonly name: 'h1' | 'h2';
  readonly ns: string;
  readonly intAddress: string;
  readonly extAddress: string;
}

export const VIP = '10.77.0.100';
export const VIP_CIDR = `${VIP}/24`;
export const VIP2 = '10.77.0.101';
export const VIP2_CIDR = `${VIP2}/24`;
export const CLIENT_ADDRESS = '10.77.0.50';

export class LabTopology {
  readonly sw: string;
  readonly client: string;
  readonly hosts: readonly [LabHost, LabHost];

  /**
   * `directInternal`: the internal network is one veth pair straight between the hosts (a
   * direct cable): when one host's int0 goes down, the other loses carrier too.
   */
  constructor(readonly prefix: string, readonly opts: { readonly directInternal?: boolean } = {}) {
    if (!/^[a-z0-9-]{1,20}$/.test(prefix)) throw new HaagentError('HA_ERR_LAB', `lab prefix "${prefix}" must be 1..20 of [a-z0-9-]`);
    this.sw = `${prefix}-sw`;
    this.client = `${prefix}-cl`;
    this.hosts = [
      { name: 'h1', ns: `${prefix}-h1`, intAddress: '10.66.0.11', extAddress: '10.77.0.11' },
      { name: 'h2', ns: `${prefix}-h2`, intAddress: '10.66.0.12', extAddress: '10.77.0.12' },
    ];
  }

  get namespaces(): string[] {
    return [this.sw, this.client, ...this.hosts.map((h) => h.ns)];
  }

  async create(): Promise<void> {
    await this.destroy();
    for (const ns of this.namespaces) {
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    for (const br of ['brint', 'brext']) {
      await ip('-n', this.sw, 'link', 'add', br, 'type', 'bridge');
      await ip('-n', this.sw, 'link', 'set', br, 'up');
    }
    if (this.opts.directInternal === true) {
      const [a, b] = this.hosts;
      await ip('link', 'add', 'int0', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'int0', 'netns', b.ns);
      for (const h of this.hosts) {
        await ip('-n', h.ns, 'addr', 'add', `${h.intAddress}/24`, 'dev', 'int0');
        await ip('-n', h.ns, 'link', 'set', 'int0', 'up');
      }
    }
    for (const h of this.hosts) {
      if (this.opts.directInternal !== true) await this.plug(h.ns, 'int0', `${h.name}i`, 'brint', `${h.intAddress}/24`);
      await this.plug(h.ns, 'ext0', `${h.name}e`, 'brext', `${h.extAddress}/24`);
    }
    await this.plug(this.client, 'eth0', 'cle', 'brext', `${CLIENT_ADDRESS}/24`);
  }

  /** A veth from `ns`/`ifname` to a port of bridge `br` in the switch namespace. */
  private async plug(ns: string, ifname: string, port: string, br: string, cidr: string): Promise<void> {
    await ip('link', 'add', port, 'netns', this.sw, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns);
    await ip('-n', this.sw, 'link', 'set', port, 'master', br);
    await ip('-n', this.sw, 'link', 'set', port, 'up');
    await ip('-n', ns, 'addr', 'add', cidr, 'dev', ifname);
    await ip('-n', ns, 'link', 'set', ifname, 'up');
  }

  /** Power loss of a host's network: both NICs down (carrier of the switch ports drops too). */
  async linksDown(host: LabHost): Promise<void> {
    await ip('-n', host.ns, 'link', 'set', 'int0', 'down');
    await ip('-n', host.ns, 'link', 'set', 'ext0', 'down');
  }

  async linksUp(host: LabHost): Promise<void> {
    await ip('-n', host.ns, 'link', 'set', 'int0', 'up');
    await ip('-n', host.ns, 'link', 'set', 'ext0', 'up');
  }

  /** Addresses on a host's ext0 (to see who holds the VIP). */
  async extAddresses(host: LabHost): Promise<string[]> {
    const out = await ip('-n', host.ns, '-j', 'addr', 'show', 'dev', 'ext0');
    const parsed = JSON.parse(out) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
    return (parsed[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
  }

  /** The client's neighbour entry for `address`: its MAC, or undefined. */
  async clientNeighbour(address: string): Promise<string | undefined> {
    const out = await ip('-n', this.client, '-j', 'neigh', 'show', address);
    const parsed = JSON.parse(out) as Array<{ lladdr?: string }>;
    return parsed[0]?.lladdr;
  }

  async hostMac(host: LabHost, ifname = 'ext0'): Promise<string> {
    const out = await ip('-n', host.ns, '-j', 'link', 'show', 'dev', ifname);
    const parsed = JSON.parse(out) as Array<{ address?: string }>;
    return parsed[0]?.address ?? '';
  }

  async destroy(): Promise<void> {
    const existing = (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]);
    for (const ns of this.namespaces) {
      if (existing.includes(ns)) await ip('netns', 'del', ns).catch(() => undefined);
    }
  }
}
