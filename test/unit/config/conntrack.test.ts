/**
 * `conntrack-sync:`: parsing and defaults, the floating SNAT it imposes on the services, the
 * errors with their key paths, the conntrackd.conf text, the `conntrackd -s` decoder (seeded
 * fuzz: never throws) and the effective YAML round trip.
 */
import t from 'tap';
import fc from 'fast-check';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { conntrackdConf, ignoredAddresses, PURGE_TIMEOUT_S } from '../../../src/core/config/conntrackd-conf.js';
import { parseConntrackStats } from '../../../src/core/config/conntrack-stats.js';
import { effectiveYaml } from '../../../src/cli/effective-yaml.js';

const head = `instances:
  - vrid: 7
    interface: int0
    vips: [10.77.0.100/24]
`;
const services = `    virtual-services:
      - port: 8080
        real-servers: [{ address: 10.66.0.11 }, { address: 10.66.0.12 }]
      - { port: 8081, mode: proxy, real-servers: [{ address: 10.66.0.11 }] }
`;

function errors(text: string): string[] {
  const r = parseConfigYaml(text);
  return r.ok ? [] : r.errors.map((e) => e.message.replace(/ \(line \d+\)/, ''));
}

t.test('defaults; every nftables service is NATed to the floating address, proxy ones are left alone', (t) => {
  const r = parseConfigYaml(`${head}${services}    conntrack-sync: { interface: int0, local: 10.66.0.11, peer: 10.66.0.12, snat-address: 10.66.0.100/24 }\n`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  t.match(inst?.conntrackSync, {
    links: [{ interface: 'int0', local: '10.66.0.11', peer: '10.66.0.12' }], port: 3780,
    snat: { cidr: '10.66.0.100/24', address: '10.66.0.100' }, snatInterface: 'int0', commitTimeoutMs: 5000,
  });
  t.match(inst?.virtualServices[0], { mode: 'nftables', snat: '10.66.0.100', floatingSnat: true });
  t.match(inst?.virtualServices[1], { mode: 'proxy', snat: undefined });
  t.equal(inst?.virtualServices[1]?.floatingSnat, undefined);
  t.end();
});

t.test('without the key the instance and its services keep their former shape', (t) => {
  const r = parseConfigYaml(`${head}${services}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  t.notOk('conntrackSync' in (r.config.instances[0] ?? {}));
  t.notOk('floatingSnat' in (r.config.instances[0]?.virtualServices[0] ?? {}));
  t.end();
});

t.test('redundant links, port, snat-interface, commit-timeout', (t) => {
  const r = parseConfigYaml(`${head}${services}    conntrack-sync:
      interface: sync0
      local: 10.79.0.1
      peer: 10.79.0.2
      port: 3999
      redundant: [{ interface: sync1, local: 10.79.1.1, peer: 10.79.1.2 }]
      snat-address: 10.66.0.100/24
      snat-interface: int0
      commit-timeout: 1500ms
`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  t.match(r.config.instances[0]?.conntrackSync, { links: [{ interface: 'sync0' }, { interface: 'sync1', local: '10.79.1.1', peer: '10.79.1.2' }], port: 3999, snatInterface: 'int0', commitTimeoutMs: 1500 });
  t.end();
});

t.test('errors name the key path', (t) => {
  t.match(errors(`${head}${services}    conntrack-sync: { interface: int0, local: 10.66.0.11 }\n`), [
    /conntrack-sync\.peer: is required/, /conntrack-sync\.snat-address: is required/,
  ]);
  t.match(errors(`${head}${services}    conntrack-sync: { interface: int0, local: 10.66.0.11, peer: 10.66.0.11, snat-address: 10.66.0.100/24, bogus: 1 }\n`), [
    /conntrack-sync\.bogus: unknown key/, /conntrack-sync\.peer: is the same address as local/,
  ]);
  t.match(errors(`${head}${services}    conntrack-sync: { interface: int0, local: 10.66.0.11, peer: 10.66.0.12, snat-address: 10.66.0.11/24 }\n`), [
    /snat-address: 10\.66\.0\.11 is a sync link address/,
  ]);
  t.match(errors(`${head}${services}    conntrack-sync: { interface: int0, local: 10.66.0.11, peer: "fd00::2", snat-address: 10.66.0.100/24, commit-timeout: 2m }\n`), [
    /conntrack-sync\.peer: fd00::2: conntrack sync is configured for IPv4 only/, /commit-timeout: must be from 100ms to 1m/,
  ]);
  const four = Array.from({ length: 4 }, (_, i) => `{ interface: s${i}, local: 10.79.${i}.1, peer: 10.79.${i}.2 }`).join(', ');
  t.match(errors(`${head}${services}    conntrack-sync: { interface: int0, local: 10.66.0.11, peer: 10.66.0.12, snat-address: 10.66.0.100/24, redundant: [${four}] }\n`), [
    /conntrack-sync\.redundant: has 4 links, over the limit of 3/,
  ]);
  // A service NATed elsewhere could not move; no nftables service: nothing to synchronise.
  t.match(errors(`${head}    virtual-services: [{ port: 80, snat: 10.66.0.1, real-servers: [{ address: 10.66.0.11 }] }]
    conntrack-sync: { interface: int0, local: 10.66.0.11, peer: 10.66.0.12, snat-address: 10.66.0.100/24 }\n`), [
    /virtual-services\[0\]\.snat: is 10\.66\.0\.1 but conntrack-sync\.snat-address is 10\.66\.0\.100/,
  ]);
  t.match(errors(`${head}    conntrack-sync: { interface: int0, local: 10.66.0.11, peer: 10.66.0.12, snat-address: 10.66.0.100/24 }\n`), [
    /instances\[0\]\.conntrack-sync: needs at least one virtual service in nftables mode/,
  ]);
  t.end();
});

t.test('conntrackd.conf: own lock and socket, FTFW, UDP Default then the redundant links, the ignore list', (t) => {
  const r = parseConfigYaml(`${head}${services}    conntrack-sync:
      { interface: sync0, local: 10.79.0.1, peer: 10.79.0.2, redundant: [{ interface: int0, local: 10.66.0.11, peer: 10.66.0.12 }], snat-address: 10.66.0.100/24 }
`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const sync = r.config.instances[0]?.conntrackSync;
  if (sync === undefined) throw new Error('no sync');
  // int0's addresses are real servers: never ignored (their connections' reply source).
  const realServers = ['10.66.0.11', '10.66.0.12'];
  t.same(ignoredAddresses(sync, realServers), ['127.0.0.1', '10.79.0.1', '10.79.0.2', '10.66.0.100']);
  const text = conntrackdConf(sync, { lockFile: '/s/7-web.lock', socketPath: '/s/7-web.ctl', logFile: '/s/7-web.log' }, realServers);
  t.match(text, /LockFile \/s\/7-web\.lock\n/);
  t.match(text, /UNIX \{\n\s+Path \/s\/7-web\.ctl\n\s+\}/);
  t.match(text, /Mode FTFW \{[^}]*PurgeTimeout 15/);
  t.equal(PURGE_TIMEOUT_S, 15);
  t.match(text, /UDP Default \{\n\s+IPv4_address 10\.79\.0\.1\n\s+IPv4_Destination_Address 10\.79\.0\.2\n\s+Port 3780\n\s+Interface sync0/);
  t.match(text, /\n {2}UDP \{\n\s+IPv4_address 10\.66\.0\.11\n\s+IPv4_Destination_Address 10\.66\.0\.12\n\s+Port 3780\n\s+Interface int0/);
  t.match(text, /Protocol Accept \{\n\s+TCP\n\s+\}/);
  const ignore = /Address Ignore \{([^}]*)\}/.exec(text)?.[1] ?? '';
  t.same(ignore.trim().split(/\s*\n\s*/), ['IPv4_address 127.0.0.1', 'IPv4_address 10.79.0.1', 'IPv4_address 10.79.0.2', 'IPv4_address 10.66.0.100'], 'the ignore block: no real server address');
  t.equal((text.match(/\{/g) ?? []).length, (text.match(/\}/g) ?? []).length, 'braces balance');
  t.end();
});

const STATS = `cache internal:
current active connections:	          12
connections created:		          14	failed:	           0

cache external:
current active connections:	          25
connections created:		          25	failed:	           0

traffic processed:
                   0 Bytes                         0 Pckts

UDP traffic (active device=sync1):
                 116 Bytes sent                   24 Bytes recv
                   3 Pckts sent                    2 Pckts recv
                   0 Error send                    1 Error recv

message tracking:
                   0 Malformed msgs                    0 Lost msgs
`;

t.test('conntrackd -s: counts and the active link; unreadable text is a reason, not a throw', (t) => {
  t.same(parseConntrackStats(STATS), { ok: true, stats: { internalEntries: 12, externalEntries: 25, activeDevice: 'sync1', packetsSent: 3, packetsReceived: 2, sendErrors: 0, receiveErrors: 1 } });
  t.match(parseConntrackStats(''), { ok: false, reason: 'no-cache-counts' });
  t.match(parseConntrackStats(STATS.replace(/UDP traffic[^]*?\n\n/, '')), { ok: false, reason: 'no-udp-counters' });
  t.match(parseConntrackStats('x'.repeat(1_000_000)), { ok: false, detail: 'x'.repeat(200) }, 'a huge input is cut, the detail bounded');
  fc.assert(fc.property(fc.string({ maxLength: 2000 }), fc.nat({ max: STATS.length }), (junk, at) => {
    const r = parseConntrackStats(STATS.slice(0, at) + junk + STATS.slice(at));
    return typeof r.ok === 'boolean' && (r.ok || r.detail.length <= 200);
  }), { seed: 4242, numRuns: 300 });
  t.end();
});

t.test('effective YAML gives the same sync config back', (t) => {
  const r = parseConfigYaml(`${head}${services}    conntrack-sync: { interface: sync0, local: 10.79.0.1, peer: 10.79.0.2, redundant: [{ interface: sync1, local: 10.79.1.1, peer: 10.79.1.2 }], snat-address: 10.66.0.100/24, snat-interface: int0 }\n`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const back = parseConfigYaml(effectiveYaml(r.config));
  if (!back.ok) throw new Error(back.errors.map((e) => e.message).join('\n'));
  t.same(back.config.instances[0]?.conntrackSync, r.config.instances[0]?.conntrackSync);
  t.same(back.config.instances[0]?.virtualServices, r.config.instances[0]?.virtualServices);
  t.end();
});
