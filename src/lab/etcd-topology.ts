/**
 * The etcd lab in network namespaces (`haagent lab --etcd`, the etcd namespace tests): N agent
 * hosts and a witness on one switch, with an etcd member on h1, h2 and the witness.
 *
 *   <p>-sw    the switch: bridge br0 (10.88.0.0/24), one port per host named after it
 *   <p>-h1..  hosts: eth0 10.88.0.11, .12, ... (VRRP adverts, the VIP 10.88.0.100, etcd)
 *   <p>-w     the witness: eth0 10.88.0.10 (an etcd member only)
 *
 * Partitions are cut in the switch with an nftables bridge filter: the links stay up (no
 * carrier loss the agents would see as a fault), only frames between the ports are dropped, so
 * a cut looks like a broken network path. `destroy()` removes everything and is safe to repeat.
 */
import { HaagentError } from '../core/errors.js';
import { ip, run } from './sh.js';

export const ETCD_LAB_VIP = '10.88.0.100';
export const ETCD_LAB_VIP_CIDR = `${ETCD_LAB_VIP}/24`;

export interface EtcdLabHost {
  /** 'h1'.., or 'w' for the witness. */
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  /** The switch port this host is plugged into. */
  readonly port: string;
}

export class EtcdTopology {
  readonly sw: string;
  readonly hosts: readonly EtcdLabHost[];
  readonly witness: EtcdLabHost;

  constructor(readonly prefix: string, hostCount = 2) {
    if (!/^[a-z0-9-]{1,16}$/.test(prefix)) throw new HaagentError('HA_ERR_LAB', `lab prefix "${prefix}" must be 1..16 of [a-z0-9-]`);
    if (!Number.isInteger(hostCount) || hostCount < 2 || hostCount > 8) throw new HaagentError('HA_ERR_LAB', `an etcd lab has 2..8 hosts, not ${hostCount}`);
    this.sw = `${prefix}-sw`;
    this.hosts = Array.from({ length: hostCount }, (_, i) => ({ name: `h${i + 1}`, ns: `${prefix}-h${i + 1}`, address: `10.88.0.${11 + i}`, port: `p${i + 1}` }));
    this.witness = { name: 'w', ns: `${prefix}-w`, address: '10.88.0.10', port: 'pw' };
  }

  /** h1, h2 and the witness: where the etcd members run. */
  get members(): readonly EtcdLabHost[] {
    const [h1, h2] = this.hosts;
    if (h1 === undefined || h2 === undefined) throw new HaagentError('HA_ERR_LAB', 'an etcd lab needs two hosts');
    return [h1, h2, this.witness];
  }

  host(name: string): EtcdLabHost {
    const h = [...this.hosts, this.witness].find((x) => x.name === name);
    if (h === undefined) throw new HaagentError('HA_ERR_LAB', `no host ${name} in the etcd lab`);
    return h;
  }

  get namespaces(): string[] {
    return [this.sw, ...this.hosts.map((h) => h.ns), this.witness.ns];
  }

  async create(): Promise<void> {
    await this.destroy();
    for (const ns of this.namespaces) {
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await ip('-n', this.sw, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', this.sw, 'link', 'set', 'br0', 'up');
    for (const h of [...this.hosts, this.witness]) {
      await ip('link', 'add', h.port, 'netns', this.sw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns);
      await ip('-n', this.sw, 'link', 'set', h.port, 'master', 'br0');
      await ip('-n', this.sw, 'link', 'set', h.port, 'up');
      await ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
      await ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
    }
    await this.nft('add', 'table', 'bridge', 'lab');
    await this.nft('add', 'chain', 'bridge', 'lab', 'cut', '{ type filter hook forward priority 0; policy accept; }');
  }

  private nft(...args: string[]): Promise<string> {
    return run('ip', ['netns', 'exec', this.sw, 'nft', ...args]);
  }

  /** Nothing reaches `host` and nothing leaves it (its link stays up). */
  async isolate(host: EtcdLabHost): Promise<void> {
    await this.nft('add', 'rule', 'bridge', 'lab', 'cut', 'iifname', host.port, 'drop');
    await this.nft('add', 'rule', 'bridge', 'lab', 'cut', 'oifname', host.port, 'drop');
  }

  /** `a` and `b` no longer reach each other; both still reach everyone else. */
  async cutBetween(a: EtcdLabHost, b: EtcdLabHost): Promise<void> {
    await this.nft('add', 'rule', 'bridge', 'lab', 'cut', 'iifname', a.port, 'oifname', b.port, 'drop');
    await this.nft('add', 'rule', 'bridge', 'lab', 'cut', 'iifname', b.port, 'oifname', a.port, 'drop');
  }

  /** Every cut removed. */
  async heal(): Promise<void> {
    await this.nft('flush', 'chain', 'bridge', 'lab', 'cut');
  }

  async destroy(): Promise<void> {
    const existing = (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]);
    for (const ns of this.namespaces) {
      if (existing.includes(ns)) await ip('netns', 'del', ns).catch(() => undefined);
    }
  }
}
