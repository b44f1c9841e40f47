/**
 * buildRuleset / emptyRuleset: golden libnftables JSON for each scheduler (hand-written from
 * `nft -j list table inet haagent` of the equivalent text rules, nftables 1.0.6), IPv6
 * services, weight expansion, down servers, determinism, and argument checks.
 */
import t from 'tap';
import { HaagentError } from '../../../src/core/errors.js';
import { buildRuleset, emptyRuleset, LEGACY_TABLE_FAMILY, SOURCE_HASH_SEED, weightedSlots } from '../../../src/core/lb/ruleset.js';
import type { NftCommand, RealServer, Scheduler, VirtualService } from '../../../src/core/lb/types.js';

const T = { family: 'inet', table: 'haagent' } as const;

function rs(address: string, port: number, weight = 1, up = true): RealServer {
  return { address, port, weight, up };
}

function svc(scheduler: Scheduler, realServers: readonly RealServer[], port = 80, snatAddress?: string): VirtualService {
  return { vip: '10.88.0.100', port, protocol: 'tcp', scheduler, realServers, ...(snatAddress === undefined ? {} : { snatAddress }) };
}

const header: NftCommand[] = [
  { add: { table: { family: 'inet', name: 'haagent' } } },
  { flush: { table: { family: 'inet', name: 'haagent' } } },
  { add: { chain: { ...T, name: 'prerouting', type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' } } },
  { add: { chain: { ...T, name: 'output', type: 'nat', hook: 'output', prio: -100, policy: 'accept' } } },
  { add: { chain: { ...T, name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
];

const vipPort80 = [
  { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '10.88.0.100' } },
  { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 80 } },
];

function postrouting(nat: object, port = 80): NftCommand {
  return {
    add: {
      rule: {
        ...T, chain: 'postrouting', comment: `haagent 10.88.0.100:${port}/tcp replies via the balancer`,
        expr: [
          { match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } },
          { match: { op: '==', left: { ct: { key: 'ip daddr', dir: 'original' } }, right: '10.88.0.100' } },
          { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } },
          { match: { op: '==', left: { ct: { key: 'proto-dst', dir: 'original' } }, right: port } },
          nat,
        ],
      },
    },
  } as NftCommand;
}

/** The prerouting and output rules for VIP:80 with the given DNAT statement. */
function dnatRules(comment: string, dnat: object): NftCommand[] {
  return ['prerouting', 'output'].map((chain) => ({ add: { rule: { ...T, chain, comment, expr: [...vipPort80, dnat] } } }) as NftCommand);
}

const pair = [rs('10.88.0.11', 80, 3), rs('10.88.0.12', 8080, 1)];

t.test('round-robin: the whole transaction (numgen inc, masquerade)', async (t) => {
  t.same(buildRuleset([svc('round-robin', pair)]), {
    nftables: [
      ...header,
      ...dnatRules('haagent 10.88.0.100:80/tcp round-robin', {
        dnat: {
          family: 'ip',
          addr: {
            map: {
              key: { numgen: { mode: 'inc', mod: 2, offset: 0 } },
              data: { set: [[0, { concat: ['10.88.0.11', 80] }], [1, { concat: ['10.88.0.12', 8080] }]] },
            },
          },
        },
      }),
      postrouting({ masquerade: null }),
    ],
  });
});

t.test('weighted: numgen random over ranges sized by weight', async (t) => {
  t.same(buildRuleset([svc('weighted', pair)]), {
    nftables: [
      ...header,
      ...dnatRules('haagent 10.88.0.100:80/tcp weighted', {
        dnat: {
          family: 'ip',
          addr: {
            map: {
              key: { numgen: { mode: 'random', mod: 4, offset: 0 } },
              data: { set: [[{ range: [0, 2] }, { concat: ['10.88.0.11', 80] }], [3, { concat: ['10.88.0.12', 8080] }]] },
            },
          },
        },
      }),
      postrouting({ masquerade: null }),
    ],
  });
});

t.test('source-hash: jhash ip saddr with the fixed seed; snat to snatAddress', async (t) => {
  t.equal(SOURCE_HASH_SEED, 0x68616167);
  t.same(buildRuleset([svc('source-hash', pair, 80, '10.88.0.1')]), {
    nftables: [
      ...header,
      ...dnatRules('haagent 10.88.0.100:80/tcp source-hash', {
        dnat: {
          family: 'ip',
          addr: {
            map: {
              key: { jhash: { mod: 2, seed: 0x68616167, expr: { payload: { protocol: 'ip', field: 'saddr' } } } },
              data: { set: [[0, { concat: ['10.88.0.11', 80] }], [1, { concat: ['10.88.0.12', 8080] }]] },
            },
          },
        },
      }),
      postrouting({ snat: { family: 'ip', addr: '10.88.0.1' } }),
    ],
  });
});

t.test('weights: expanded in config order, divided by their gcd', async (t) => {
  const slots = (ws: number[]): unknown => {
    const r = weightedSlots(ws.map((w, i) => rs(`10.0.0.${i + 1}`, 80, w)));
    return { mod: r.mod, ranges: r.slots.map((s) => [s.from, s.to, s.server.address]) };
  };
  t.same(slots([3, 1]), { mod: 4, ranges: [[0, 2, '10.0.0.1'], [3, 3, '10.0.0.2']] });
  t.same(slots([30, 10]), { mod: 4, ranges: [[0, 2, '10.0.0.1'], [3, 3, '10.0.0.2']] }, 'gcd 10');
  t.same(slots([50, 50]), { mod: 2, ranges: [[0, 0, '10.0.0.1'], [1, 1, '10.0.0.2']] });
  t.same(slots([1, 100, 7]), { mod: 108, ranges: [[0, 0, '10.0.0.1'], [1, 100, '10.0.0.2'], [101, 107, '10.0.0.3']] });
  t.same(slots([2, 4, 6]), { mod: 6, ranges: [[0, 0, '10.0.0.1'], [1, 2, '10.0.0.2'], [3, 5, '10.0.0.3']] });
  // A weight's share is preserved: each server owns exactly weight/g slots of mod.
  const ws = [7, 13, 100, 1, 42];
  const r = weightedSlots(ws.map((w, i) => rs(`10.0.0.${i + 1}`, 80, w)));
  t.same(r.slots.map((s) => s.to - s.from + 1), ws);
  t.equal(r.mod, ws.reduce((a, b) => a + b, 0));
});

t.test('down servers are excluded; the weights of the up ones decide', async (t) => {
  const three = [rs('10.88.0.11', 80, 2, false), rs('10.88.0.12', 80, 4), rs('10.88.0.13', 80, 2)];
  const doc = buildRuleset([svc('weighted', three)]);
  const text = JSON.stringify(doc);
  t.notMatch(text, '10.88.0.11');
  t.match(text, '"mod":3');
  t.match(text, '[{"range":[0,1]},{"concat":["10.88.0.12",80]}],[2,{"concat":["10.88.0.13",80]}]');
  const rr = JSON.stringify(buildRuleset([svc('round-robin', three)]));
  t.match(rr, '"set":[[0,{"concat":["10.88.0.12",80]}],[1,{"concat":["10.88.0.13",80]}]]', 'slots renumbered from 0');
});

t.test('one up server: a plain dnat to addr:port', async (t) => {
  for (const scheduler of ['round-robin', 'weighted', 'source-hash'] as const) {
    const doc = buildRuleset([svc(scheduler, [rs('10.88.0.11', 80, 5, false), rs('10.88.0.12', 8080, 3)])]);
    t.same(doc.nftables.slice(5), [
      ...dnatRules(`haagent 10.88.0.100:80/tcp ${scheduler}`, { dnat: { family: 'ip', addr: '10.88.0.12', port: 8080 } }),
      postrouting({ masquerade: null }),
    ], scheduler);
  }
});

t.test('no up server: no rule for that service, the chains stay (empty)', async (t) => {
  const doc = buildRuleset([svc('round-robin', [rs('10.88.0.11', 80, 1, false)]), svc('round-robin', pair, 443)]);
  t.same(doc.nftables.slice(0, 5), header);
  const rules = doc.nftables.slice(5).map((c) => JSON.stringify(c));
  t.equal(rules.length, 3, 'prerouting, output and postrouting for :443 only');
  for (const r of rules) t.match(r, '10.88.0.100:443/tcp');
  t.same(buildRuleset([]), { nftables: header }, 'no services: our table with empty chains');
  t.same(buildRuleset([svc('weighted', [])]), { nftables: header }, 'no real servers at all');
});

t.test('several services: rules grouped by chain, services in the order given', async (t) => {
  const doc = buildRuleset([svc('round-robin', pair, 80), svc('source-hash', pair, 443)]);
  const where = doc.nftables.slice(5).map((c) => {
    const r = (c['add'] as { rule: { chain: string; comment: string } }).rule;
    return `${r.chain} ${r.comment.split(' ')[1] ?? ''}`;
  });
  t.same(where, [
    'prerouting 10.88.0.100:80/tcp', 'prerouting 10.88.0.100:443/tcp',
    'output 10.88.0.100:80/tcp', 'output 10.88.0.100:443/tcp',
    'postrouting 10.88.0.100:80/tcp', 'postrouting 10.88.0.100:443/tcp',
  ]);
});

t.test('deterministic: same input, same document; input not mutated', async (t) => {
  const services = [svc('weighted', pair, 80, '10.88.0.1'), svc('source-hash', pair, 81), svc('round-robin', pair, 82, '10.88.0.1')];
  const before = JSON.stringify(services);
  const a = JSON.stringify(buildRuleset(services));
  const b = JSON.stringify(buildRuleset(structuredClone(services)));
  t.equal(a, b);
  t.equal(JSON.stringify(services), before);
});

t.test('only our table is named', async (t) => {
  const doc = buildRuleset([svc('round-robin', pair), svc('weighted', pair, 81, '10.88.0.1')]);
  for (const cmd of [...doc.nftables, ...emptyRuleset().nftables]) {
    const [verb, body] = Object.entries(cmd)[0] ?? [];
    t.ok(['add', 'flush', 'delete'].includes(verb ?? ''), `verb ${String(verb)}`);
    const [kind, obj] = Object.entries(body as object)[0] as [string, { family: string; name?: string; table?: string }];
    t.equal(obj.family, 'inet');
    t.equal(kind === 'table' ? obj.name : obj.table, 'haagent');
  }
});

t.test('emptyRuleset: add then delete our table (works whether or not it exists)', async (t) => {
  t.same(emptyRuleset(), {
    nftables: [
      { add: { table: { family: 'inet', name: 'haagent' } } },
      { delete: { table: { family: 'inet', name: 'haagent' } } },
    ],
  });
  t.same(emptyRuleset(LEGACY_TABLE_FAMILY), {
    nftables: [{ add: { table: { family: 'ip', name: 'haagent' } } }, { delete: { table: { family: 'ip', name: 'haagent' } } }],
  }, 'the legacy table of earlier versions');
});

t.test('malformed input: HA_ERR_INVALID_ARGUMENT naming the path', async (t) => {
  const bad = (services: unknown): unknown => () => buildRuleset(services as VirtualService[]);
  const cases: [unknown, RegExp][] = [
    [[{ ...svc('round-robin', pair), vip: '10.88.0.256' }], /services\[0\]\.vip: "10\.88\.0\.256" is not an IP address/],
    [[{ ...svc('round-robin', pair), vip: '2001:db8::1' }], /services\[0\]\.realServers\[0\]\.address: "10\.88\.0\.11" is not an IPv6 address like the VIP/],
    [[{ ...svc('round-robin', pair), port: 0 }], /services\[0\]\.port: 0 is not a port/],
    [[{ ...svc('round-robin', pair), port: 65536 }], /services\[0\]\.port/],
    [[{ ...svc('round-robin', pair), protocol: 'udp' }], /services\[0\]\.protocol: "udp" is not supported/],
    [[{ ...svc('round-robin', pair), scheduler: 'lc' }], /services\[0\]\.scheduler: "lc" is not one of round-robin, weighted, source-hash/],
    [[svc('round-robin', pair), svc('weighted', pair)], /services\[1\]: 10\.88\.0\.100:80\/tcp is defined twice/],
    [[svc('round-robin', [rs('10.88.0.11', 80), rs('10.88.0.1', 80.5)])], /services\[0\]\.realServers\[1\]\.port/],
    [[svc('round-robin', [rs('10.88.0.011', 80)])], /realServers\[0\]\.address/],
    [[svc('weighted', [rs('10.88.0.11', 80, 0)])], /realServers\[0\]\.weight: 0 is not an integer 1\.\.100/],
    [[svc('weighted', [rs('10.88.0.11', 80, 101)])], /realServers\[0\]\.weight: 101/],
    [[svc('weighted', [rs('10.88.0.11', 80, 1.5)])], /realServers\[0\]\.weight/],
    [[svc('weighted', [{ ...rs('10.88.0.11', 80), up: 'yes' } as unknown as RealServer])], /realServers\[0\]\.up: must be a boolean/],
    [[svc('weighted', [rs('10.88.0.11', 80), rs('10.88.0.11', 80, 2, false)])], /realServers\[1\]: 10\.88\.0\.11:80 is listed twice in 10\.88\.0\.100:80\/tcp/],
    [[svc('round-robin', pair, 80, 'eth0')], /services\[0\]\.snatAddress: "eth0" is not an IP address/],
    [[svc('round-robin', pair, 80, '2001:db8::1')], /services\[0\]\.snatAddress: "2001:db8::1" is not an IPv4 address like the VIP/],
  ];
  for (const [services, message] of cases) {
    let caught: unknown;
    try {
      (bad(services) as () => void)();
    } catch (e) {
      caught = e;
    }
    t.ok(caught instanceof HaagentError && caught.code === 'HA_ERR_INVALID_ARGUMENT', `${message.source}: HA_ERR_INVALID_ARGUMENT`);
    t.match((caught as Error | undefined)?.message, message);
  }
  // The same server on two ports, and the same address in two services, are fine.
  t.doesNotThrow(() => buildRuleset([svc('round-robin', [rs('10.88.0.11', 80), rs('10.88.0.11', 81)]), svc('round-robin', pair, 81)]));
});

t.test('IPv6 service: ip6 matches, dnat ip6, jhash ip6 saddr, snat ip6 (forms of nft -j list, nftables 1.0.6)', async (t) => {
  const v6 = [rs('fd00:88::11', 80), rs('fd00:88::12', 8080)];
  const service: VirtualService = { vip: 'fd00:88::100', port: 80, protocol: 'tcp', scheduler: 'source-hash', realServers: v6, snatAddress: 'fd00:88::1' };
  const doc = buildRuleset([service, svc('round-robin', pair)]);
  t.same(doc.nftables.slice(0, 5), header, 'one inet table for both families');
  const rules = doc.nftables.slice(5).map((c) => (c['add'] as { rule: { chain: string; comment: string; expr: unknown[] } }).rule);
  const pre = rules.find((r) => r.chain === 'prerouting' && r.comment.includes('fd00'));
  t.equal(pre?.comment, 'haagent [fd00:88::100]:80/tcp source-hash');
  t.same(pre?.expr, [
    { match: { op: '==', left: { payload: { protocol: 'ip6', field: 'daddr' } }, right: 'fd00:88::100' } },
    { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 80 } },
    {
      dnat: {
        family: 'ip6',
        addr: {
          map: {
            key: { jhash: { mod: 2, seed: SOURCE_HASH_SEED, expr: { payload: { protocol: 'ip6', field: 'saddr' } } } },
            data: { set: [[0, { concat: ['fd00:88::11', 80] }], [1, { concat: ['fd00:88::12', 8080] }]] },
          },
        },
      },
    },
  ]);
  const post = rules.find((r) => r.chain === 'postrouting' && r.comment.includes('fd00'));
  t.same(post?.expr, [
    { match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } },
    { match: { op: '==', left: { ct: { key: 'ip6 daddr', dir: 'original' } }, right: 'fd00:88::100' } },
    { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } },
    { match: { op: '==', left: { ct: { key: 'proto-dst', dir: 'original' } }, right: 80 } },
    { snat: { family: 'ip6', addr: 'fd00:88::1' } },
  ]);
  const one = buildRuleset([{ ...service, realServers: [rs('fd00:88::12', 8080)] }]);
  t.match(JSON.stringify(one), '{"dnat":{"family":"ip6","addr":"fd00:88::12","port":8080}}', 'one server: plain dnat ip6');
  t.match(JSON.stringify(doc), '{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.88.0.100"', 'the IPv4 service beside it keeps ip');
});
