/**
 * The agent's wiring on fake ports (no root, no sockets, no netlink), with real timers at a
 * 100 ms advert interval: adverts from a higher-priority peer keep us BACKUP; once they stop,
 * the Master_Down expiry makes us MASTER and the (fake) kernel gets the VIP; a reload of the VIP
 * list is applied in place (no transition); shutdown sends priority 0 and removes the VIPs.
 */
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { AgentConfig } from '../../../src/core/config/types.js';
import type { AgentEvent } from '../../../src/core/control/events.js';
import { decodeAdvertisement } from '../../../src/core/packet/decode.js';
import { encodeIpv4Datagram } from '../../../src/core/packet/encode.js';
import { MemoryEpochStore } from '../../../src/adapters/epoch-store.js';
import type { LinkInfo, NetlinkPort, NetlinkWatcher } from '../../../src/adapters/netlink/index.js';
import { Agent } from '../../../src/daemon/agent.js';
import type { AgentPorts, VrrpReceiver } from '../../../src/daemon/agent-ports.js';
import { FakeEtcd, FakeLease } from './etcd-fakes.js';

const OUR_ADDRESS = '10.0.0.1';
const PEER_ADDRESS = '10.0.0.2';
const VIP = '192.0.2.10/24';
const VIP2 = '192.0.2.11/24';

function config(vips: readonly string[]): AgentConfig {
  const r = parseConfigYaml(`state-dir: /nonexistent/haagent-test\ninstances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [${vips.join(', ')}]\n    advert-interval: 100ms\n    priority: 100\n    preempt: true\n`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

/** rtnetlink as a set of addresses; every change is recorded. */
class FakeNetlink implements NetlinkPort {
  readonly addresses = new Set<string>();
  readonly calls: string[] = [];
  readonly watcher = Object.assign(new EventEmitter(), { close: () => undefined }) as unknown as NetlinkWatcher;
  closed = false;
  private link(ifname: string): LinkInfo {
    if (ifname !== 'eth1') throw new Error(`no such interface ${ifname}`);
    return { ifindex: 2, ifname, up: true, running: true, operState: 'up', mac: '02:00:00:00:00:01' };
  }
  async addVip(ifname: string, cidr: string): Promise<void> { this.calls.push(`add ${ifname} ${cidr}`); this.addresses.add(cidr); }
  async renewVips(ifname: string, entries: readonly { readonly cidr: string }[]): Promise<undefined[]> {
    return Promise.all(entries.map(async ({ cidr }) => { await this.addVip(ifname, cidr); return undefined; }));
  }
  async removeVip(ifname: string, cidr: string): Promise<void> { this.calls.push(`remove ${ifname} ${cidr}`); this.addresses.delete(cidr); }
  async listAddresses(): Promise<never[]> { return []; }
  async hasVip(_ifname: string, cidr: string): Promise<boolean> { return this.addresses.has(cidr); }
  async primaryIpv4(ifname: string): Promise<string | undefined> { return ifname === 'eth1' ? OUR_ADDRESS : undefined; }
  async linkLocalIpv6(): Promise<string | undefined> { return undefined; }
  async getLink(ifname: string): Promise<LinkInfo> { return this.link(ifname); }
  async getLinkByIndex(): Promise<LinkInfo> { return this.link('eth1'); }
  async watch(): Promise<NetlinkWatcher> { return this.watcher; }
  close(): void { this.closed = true; }
}

interface Fakes {
  readonly ports: AgentPorts;
  readonly netlink: FakeNetlink;
  /** Priorities of the adverts we sent, in order. */
  readonly sent: number[];
  readonly announced: () => number;
  /** Delivers a datagram as the VRRP socket of eth1 would. */
  readonly deliver: (datagram: Uint8Array) => void;
}

function fakes(): Fakes {
  const netlink = new FakeNetlink();
  const sent: number[] = [];
  let announced = 0;
  let receiver: VrrpReceiver | undefined;
  const ports: AgentPorts = {
    netlink,
    clock: () => performance.now(),
    ensureStateDir: () => undefined,
    openVrrp: (_source, r) => {
      receiver = r;
      return {
        send: async (message) => {
          const d = decodeAdvertisement(message, { family: 4, ttl: 255, src: OUR_ADDRESS, dst: '224.0.0.18' });
          if (d.ok) sent.push(d.advert.priority);
        },
        close: () => undefined,
      };
    },
    epochStore: () => new MemoryEpochStore(),
    witness: () => undefined,
    announcer: () => ({ announce: async () => { announced++; }, quiet: () => undefined, setVips: () => undefined, close: () => undefined }),
    containment: () => ({ mode: 'process-group', detail: 'unit test' }),
  };
  return {
    ports, netlink, sent, announced: () => announced,
    deliver: (datagram) => receiver?.onDatagram('eth1', datagram),
  };
}

const peerAdvert = (priority: number): Uint8Array =>
  encodeIpv4Datagram({ version: 3, family: 4, vrid: 51, priority, maxAdvertIntervalCs: 10, addresses: [VIP.split('/')[0] ?? ''] }, { src: PEER_ADDRESS, dst: '224.0.0.18' });

async function until(cond: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

async function agentOn(t: Test, f: Fakes, reloadTo?: () => AgentConfig): Promise<{ agent: Agent; events: AgentEvent[] }> {
  const agent = await Agent.create({
    config: config([VIP]), configSource: 'unit test', log: pino({ level: 'silent' }), version: '0.0.0-test',
    ...(reloadTo === undefined ? {} : { reloadConfig: reloadTo }),
  }, f.ports);
  t.teardown(() => agent.shutdown());
  const events: AgentEvent[] = [];
  agent.events.subscribe((e) => events.push(e));
  return { agent, events };
}

const stateOf = (agent: Agent): string | undefined => agent.status().instances[0]?.state;

t.test('adverts from a higher-priority peer keep us BACKUP; when they stop, Master_Down makes us MASTER with the VIP', async (t) => {
  const f = fakes();
  t.same(f.netlink.calls, [], 'nothing touched before the agent starts');
  const { agent, events } = await agentOn(t, f);
  t.same(f.netlink.calls, [`remove eth1 ${VIP}`], 'a VIP left by an earlier crash is removed first');
  t.equal(stateOf(agent), 'BACKUP');
  // Six advert intervals of adverts: well past our Master_Down_Interval (about 0.36 s).
  for (let i = 0; i < 12; i++) {
    f.deliver(peerAdvert(150));
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(stateOf(agent), 'BACKUP', 'still BACKUP after 0.6 s of adverts from priority 150');
  t.match(agent.status().instances[0]?.master, { address: PEER_ADDRESS, priority: 150, self: false });
  t.notOk(f.netlink.addresses.has(VIP), 'no VIP while the peer is master');
  t.same(f.sent, [], 'a backup sends no adverts');
  t.ok(await until(() => stateOf(agent) === 'MASTER'), 'MASTER once the adverts stopped');
  t.ok(await until(() => f.netlink.addresses.has(VIP)), 'the fake kernel got the VIP');
  t.ok(await until(() => f.sent.length > 0 && f.announced() > 0), 'adverts sent and the VIP announced');
  t.equal(f.sent[0], 100, 'adverts at our priority');
  t.match(events.filter((e) => e.type === 'transition'), [{ from: 'BACKUP', to: 'MASTER' }]);
});

t.test('reload of the VIP list: updated in place (no transition), the kernel gets the new VIP; shutdown removes both', async (t) => {
  const f = fakes();
  let next = (): AgentConfig => config([VIP]);
  const { agent, events } = await agentOn(t, f, () => next());
  t.ok(await until(() => stateOf(agent) === 'MASTER' && f.netlink.addresses.has(VIP)), 'MASTER alone, VIP added');
  const transitionsBefore = events.filter((e) => e.type === 'transition').length;
  next = () => config([VIP, VIP2]);
  const detail = await agent.reload();
  t.match(detail, /1 updated in place \(web\), 0 restarted/);
  t.ok(await until(() => f.netlink.addresses.has(VIP2)), 'the added VIP is in the kernel');
  t.equal(stateOf(agent), 'MASTER', 'no transition');
  t.same(agent.status().instances[0]?.vips, [VIP, VIP2]);
  t.equal(events.filter((e) => e.type === 'transition').length, transitionsBefore, 'no transition event since the reload began');
  t.match(events.filter((e) => e.type === 'reload'), [{ ok: true }]);
  next = () => config(['not-an-address']); // throws, as loading a bad file does
  await t.rejects(agent.reload(), { code: 'HA_ERR_CONFIG' }, 'a bad config is refused...');
  t.equal(stateOf(agent), 'MASTER', '...and the running one stays');
  const sentBefore = f.sent.length;
  await agent.shutdown();
  t.notOk(f.netlink.addresses.has(VIP) || f.netlink.addresses.has(VIP2), 'shutdown removed every VIP');
  t.equal(f.sent.slice(sentBefore).at(-1), 0, 'the last advert was priority 0 (hand over at once)');
  t.ok(f.netlink.closed, 'netlink closed');
});

t.test('an unknown interface refuses the start and touches nothing', async (t) => {
  const f = fakes();
  const bad = config([VIP]);
  const inst = bad.instances[0];
  if (inst === undefined) throw new Error('no instance');
  await t.rejects(Agent.create({
    config: { ...bad, instances: [{ ...inst, interface: 'eth9', external: 'eth9' }] }, configSource: 'unit test', log: pino({ level: 'silent' }), version: '0',
  }, f.ports), { code: 'HA_ERR_CONFIG', message: /interface "eth9" not found/ });
  t.same(f.netlink.calls, [], 'no address touched');
});

t.test('election: etcd on the agent: the etcd client is started once, the key holder is MASTER without a VRRP packet, a VRRP advert is only counted; shutdown frees the key and stops the client', async (t) => {
  const f = fakes();
  const etcd = new FakeEtcd();
  const lease = new FakeLease(etcd);
  const life: string[] = [];
  const ports: AgentPorts = {
    ...f.ports,
    etcdClient: () => ({
      kv: etcd.client(), lease,
      start: async () => { life.push('start'); },
      stop: async () => { life.push('stop'); },
    }),
  };
  const r = parseConfigYaml('state-dir: /nonexistent/haagent-test\netcd:\n  endpoints: [http://127.0.0.1:2379]\n  lease: 2s\n  keepalive-interval: 100ms\n  request-timeout: 100ms\n'
    + `instances:\n  - name: web\n    vrid: 51\n    interface: eth1\n    vips: [${VIP}]\n    advert-interval: 100ms\n    priority: 100\n    election: etcd\n`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const agent = await Agent.create({ config: r.config, configSource: 'unit test', log: pino({ level: 'silent' }), version: '0.0.0-test' }, ports);
  let shut = false;
  t.teardown(() => (shut ? undefined : agent.shutdown()));
  t.ok(await until(() => stateOf(agent) === 'MASTER'), 'MASTER with the key');
  t.ok(await until(() => f.netlink.addresses.has(VIP)), 'the VIP added');
  t.ok(etcd.keys.has('/haagent/web/leader'), 'the leader key exists');
  t.equal(agent.status().instances[0]?.epoch, Number(etcd.keys.get('/haagent/web/leader')?.createRevision), 'epoch = create revision');
  t.ok(await until(() => agent.status().instances[0]?.election?.holder === OUR_ADDRESS), 'status: this node holds the key (as of the next read)');
  t.match(agent.status().instances[0]?.election, { mode: 'etcd', reachable: true });
  f.deliver(peerAdvert(200));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(stateOf(agent), 'MASTER', 'a VRRP advert does not move an instance elected on etcd');
  t.equal(agent.status().instances[0]?.drops['election-etcd'], 1, 'it is counted as a drop');
  t.same(f.sent, [], 'no VRRP advert sent');
  await agent.shutdown();
  shut = true;
  t.notOk(etcd.keys.has('/haagent/web/leader'), 'the key was freed');
  t.same(life, ['start', 'stop'], 'client started once, stopped at shutdown');
});
