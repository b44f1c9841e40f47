/**
 * buildRuleset / emptyRuleset: golden libnftables JSON for each scheduler (hand-written from
 * `nft -j list table inet haagent` of the equivalent text rules, nftables 1.0.6), IPv6
 * services, weight expansion, down servers, determinism, and the argument checks buildRuleset
 * makes itself (the fields of a service are validated by the config: test/unit/config/services.test.ts).
 */
import t from 'tap';
import { HaagentError } from '../../../src/core/errors.js';
import { buildRuleset, emptyRuleset, LEGACY_TABLE_FAMILY, SOURCE_HASH_SEED, weightedSlots } from '../../../src/core/lb/ruleset.js';
import type { NftCommand, NftRuleset, RealServer, Scheduler, UpFlags, VirtualService } from '../../../src/core/lb/types.js';

const T = { family: 'inet', table: 'haagent' } as const;

/** A real server with its verdict beside it (the fixtures' way of writing both at once). */
type Server = RealServer & { readonly up: boolean };
type Service = Omit<VirtualService, 'realServers'> & { readonly realServers: readonly Server[] };

function rs(address: string, port: number, weight = 1, up = true): Server {
  return { address, port, weight, check: undefined, up };
}

function svc(scheduler: Scheduler, realServers: readonly Server[], port = 80, snat?: string): Service {
  return { mode: 'nftables', vip: '10.88.0.100', port, protocol: 'tcp', scheduler, realServers, snat };
}

/** The verdicts the fixtures carry, as buildRuleset takes them. */
function upFlags(services: readonly Service[]): UpFlags {
  return services.map((s) => s.realServers.map((r) => r.up));
}

function build(services: readonly Service[]): NftRuleset {
  return buildRuleset(services, upFlags(services));
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
  t.same(build([svc('round-robin', pair)]), {
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
  t.same(build([svc('weighted', pair)]), {
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

t.test('source-hash: jhash ip saddr with the fixed seed; snat to the snat address', async (t) => {
  t.equal(SOURCE_HASH_SEED, 0x68616167);
  t.same(build([svc('source-hash', pair, 80, '10.88.0.1')]), {
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
  const doc = build([svc('weighted', three)]);
  const text = JSON.stringify(doc);
  t.notMatch(text, '10.88.0.11');
  t.match(text, '"mod":3');
  t.match(text, '[{"range":[0,1]},{"concat":["10.88.0.12",80]}],[2,{"concat":["10.88.0.13",80]}]');
  const rr = JSON.stringify(build([svc('round-robin', three)]));
  t.match(rr, '"set":[[0,{"concat":["10.88.0.12",80]}],[1,{"concat":["10.88.0.13",80]}]]', 'slots renumbered from 0');
});

t.test('one up server: a plain dnat to addr:port', async (t) => {
  for (const scheduler of ['round-robin', 'weighted', 'source-hash'] as const) {
    const doc = build([svc(scheduler, [rs('10.88.0.11', 80, 5, false), rs('10.88.0.12', 8080, 3)])]);
    t.same(doc.nftables.slice(5), [
      ...dnatRules(`haagent 10.88.0.100:80/tcp ${scheduler}`, { dnat: { family: 'ip', addr: '10.88.0.12', port: 8080 } }),
      postrouting({ masquerade: null }),
    ], scheduler);
  }
});

t.test('no up server: no rule for that service, the chains stay (empty)', async (t) => {
  const doc = build([svc('round-robin', [rs('10.88.0.11', 80, 1, false)]), svc('round-robin', pair, 443)]);
  t.same(doc.nftables.slice(0, 5), header);
  const rules = doc.nftables.slice(5).map((c) => JSON.stringify(c));
  t.equal(rules.length, 3, 'prerouting, output and postrouting for :443 only');
  for (const r of rules) t.match(r, '10.88.0.100:443/tcp');
  t.same(build([]), { nftables: header }, 'no services: our table with empty chains');
  t.same(build([svc('weighted', [])]), { nftables: header }, 'no real servers at all');
});

t.test('several services: rules grouped by chain, services in the order given', async (t) => {
  const doc = build([svc('round-robin', pair, 80), svc('source-hash', pair, 443)]);
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
  const a = JSON.stringify(build(services));
  const b = JSON.stringify(build(structuredClone(services)));
  t.equal(a, b);
  t.equal(JSON.stringify(services), before);
});

t.test('only our table is named', async (t) => {
  const doc = build([svc('round-robin', pair), svc('weighted', pair, 81, '10.88.0.1')]);
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

t.test('what the config cannot guarantee for the list: HA_ERR_INVALID_ARGUMENT naming the path', async (t) => {
  // The fields of each service are validated by the config alone (test/unit/config/services.test.ts).
  const cases: [() => unknown, RegExp][] = [
    // Two instances may both hold a service on the same vip:port; the config checks one instance.
    [() => build([svc('round-robin', pair), svc('weighted', pair)]), /services\[1\]: 10\.88\.0\.100:80\/tcp is defined twice/],
    [() => build([svc('weighted', [rs('10.88.0.11', 80), rs('10.88.0.11', 80, 2, false)])]), /realServers\[1\]: 10\.88\.0\.11:80 is listed twice in 10\.88\.0\.100:80\/tcp/],
    [() => buildRuleset([svc('round-robin', pair)], []), /^up: has 0 entries for 1 services$/],
    [() => buildRuleset([svc('round-robin', pair)], [[true]]), /^up\[0\]: has 1 verdicts for 2 real servers$/],
  ];
  for (const [call, message] of cases) {
    let caught: unknown;
    try {
      call();
    } catch (e) {
      caught = e;
    }
    t.ok(caught instanceof HaagentError && caught.code === 'HA_ERR_INVALID_ARGUMENT', `${message.source}: HA_ERR_INVALID_ARGUMENT`);
    t.match((caught as Error | undefined)?.message, message);
  }
  // The same server on two ports, and the same address in two services, are fine.
  t.doesNotThrow(() => build([svc('round-robin', [rs('10.88.0.11', 80), rs('10.88.0.11', 81)]), svc('round-robin', pair, 81)]));
});

t.test('IPv6 service: ip6 matches, dnat ip6, jhash ip6 saddr, snat ip6 (forms of nft -j list, nftables 1.0.6)', async (t) => {
  const v6 = [rs('fd00:88::11', 80), rs('fd00:88::12', 8080)];
  const service: Service = { mode: 'nftables', vip: 'fd00:88::100', port: 80, protocol: 'tcp', scheduler: 'source-hash', realServers: v6, snat: 'fd00:88::1' };
  const doc = build([service, svc('round-robin', pair)]);
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
  const one = build([{ ...service, realServers: [rs('fd00:88::12', 8080)] }]);
  t.match(JSON.stringify(one), '{"dnat":{"family":"ip6","addr":"fd00:88::12","port":8080}}', 'one server: plain dnat ip6');
  t.match(JSON.stringify(doc), '{"payload":{"protocol":"ip","field":"daddr"}},"right":"10.88.0.100"', 'the IPv4 service beside it keeps ip');
});

t.test('floatingSnat (conntrack sync): the local real server is NATed to the floating address too, and stateless packets to the VIP port are dropped', async (t) => {
  const floating = { ...svc('round-robin', [rs('10.88.0.11', 80)], 80, '10.66.0.100'), floatingSnat: true };
  const doc = build([floating]);
  const balanced = [
    { match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } },
    { match: { op: '==', left: { ct: { key: 'ip daddr', dir: 'original' } }, right: '10.88.0.100' } },
    { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } },
    { match: { op: '==', left: { ct: { key: 'proto-dst', dir: 'original' } }, right: 80 } },
  ];
  const snat = { snat: { family: 'ip', addr: '10.66.0.100' } };
  t.same(doc.nftables.slice(header.length + 3), [
    { add: { chain: { ...T, name: 'input', type: 'nat', hook: 'input', prio: 100, policy: 'accept' } } },
    { add: { rule: { ...T, chain: 'input', comment: 'haagent 10.88.0.100:80/tcp local server via the floating address', expr: [...balanced, snat] } } },
    { add: { chain: { ...T, name: 'no-reset', type: 'filter', hook: 'input', prio: 0, policy: 'accept' } } },
    { add: { rule: { ...T, chain: 'no-reset', comment: 'haagent 10.88.0.100:80/tcp no reset for a connection without state', expr: [...vipPort80, { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'invalid' } }, { drop: null }] } } },
  ]);
  t.same(doc.nftables.slice(header.length + 2, header.length + 3), [postrouting(snat)], 'postrouting as before');
  // Without the flag nothing changes: no input chains.
  t.notOk(JSON.stringify(build([svc('round-robin', [rs('10.88.0.11', 80)], 80, '10.66.0.100')])).includes('"input"'));
});
