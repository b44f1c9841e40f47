/**
 * The peer guard (src/core/peer/guard.ts) on a fake clock: each decision (hello acceptance,
 * epochs, config notices, a MASTER hello as its advert, isolation on every trigger, the stricter
 * check before a Master_Down expiry) and the order of the effects it returns.
 */
import t from 'tap';
import {
  beforeMasterDown, evaluateIsolation, GUARD_RULES, guardStatus, ISOLATED_DETAIL, newPeerGuard, NOT_ISOLATED_DETAIL, onHello, onVrrpHeard,
  type GuardEffect, type GuardOptions, type HelloContext, type PeerGuard,
} from '../../../src/core/peer/guard.js';
import type { Hello } from '../../../src/core/peer/hello.js';
import { peerExpiryMs } from '../../../src/core/peer/presence.js';
import { EPOCH_JUMP_MARGIN } from '../../../src/core/peer/rules.js';
import {
  guardTiming, helloIntervalMs, isolationCheckEveryMs, isolationSilenceMs, preExpirySilenceMs, witnessTiming,
} from '../../../src/core/peer/timing.js';

const A_CS = 100; // 1 s advert interval
const OURS = 'aaaaaaaaaaaaaaaa';
const THEIRS = 'bbbbbbbbbbbbbbbb';
const OUR_ADDRESS = '10.0.0.1';

function guard(opts: Partial<GuardOptions> = {}): PeerGuard {
  return newPeerGuard({ advertIntervalCs: A_CS, fingerprint: OURS, witnessConfigured: true, ...opts });
}

let seq = 0;
function hello(over: Partial<Hello> = {}): Hello {
  seq += 1;
  return {
    v: 2, instance: 'web', vrid: 51, node: 'lb-b', state: 'BACKUP', priority: 100, vrrpAddress: '10.0.0.2',
    advertIntervalCs: A_CS, epoch: 3, fingerprint: OURS, boot: '1111111111111111', bootMs: 1, seq, ...over,
  };
}

function ctx(nowMs: number, over: Partial<HelloContext> = {}): HelloContext {
  return { nowMs, witnessReachable: false, ownEpoch: 0, ourVrrpAddress: OUR_ADDRESS, ...over };
}

const types = (effects: readonly GuardEffect[]): string[] => effects.map((e) => (e.type === 'input' ? `input:${e.input.type}` : e.type));

t.test('guardTiming gathers the named timings of timing.ts, nothing recomputed', async (t) => {
  for (const cs of [3, 10, 100, 255, 4095]) {
    t.same(guardTiming(cs), {
      helloIntervalMs: helloIntervalMs(cs), isolationSilenceMs: isolationSilenceMs(cs), preExpirySilenceMs: preExpirySilenceMs(cs),
      checkEveryMs: isolationCheckEveryMs(cs), witness: witnessTiming(cs),
    }, `A = ${cs} cs`);
  }
  t.equal(guard().timing.isolationSilenceMs, 2050, 'a new guard takes the timing of its interval (2A + 50 ms)');
});

t.test('isolation: no peer on any path and no witness reachable, after the silence; reported once per change', async (t) => {
  const g = guard();
  const silence = g.timing.isolationSilenceMs;
  t.same(onVrrpHeard(g, { nowMs: 1000, witnessReachable: false }), [], 'an advert just heard: not isolated');
  t.equal(g.lastVrrpRxMs, 1000);
  t.same(evaluateIsolation(g, { nowMs: 1000 + silence, witnessReachable: false }), [], 'silence exactly the bound: not yet');
  const on = evaluateIsolation(g, { nowMs: 1001 + silence, witnessReachable: false });
  t.same(on, [
    { type: 'isolation', active: true, detail: ISOLATED_DETAIL },
    { type: 'input', input: { type: 'fault', source: 'isolated', active: true } },
  ], 'the notice first, then the fault for the state machine');
  t.equal(g.isolated, true);
  t.same(evaluateIsolation(g, { nowMs: 5000 + silence, witnessReachable: false }), [], 'no repeat while the verdict stands');
  const off = evaluateIsolation(g, { nowMs: 6000 + silence, witnessReachable: true });
  t.same(off, [
    { type: 'isolation', active: false, detail: NOT_ISOLATED_DETAIL },
    { type: 'input', input: { type: 'fault', source: 'isolated', active: false } },
  ], 'a witness back in view ends it');
  t.equal(g.isolated, false);
});

t.test('isolation: a witness not probed yet, or reachable, never isolates', async (t) => {
  const g = guard();
  t.same(evaluateIsolation(g, { nowMs: 1e9, witnessReachable: undefined }), []);
  t.same(evaluateIsolation(g, { nowMs: 1e9, witnessReachable: true }), []);
  t.equal(g.isolated, false);
});

t.test('isolation: off without a witness configured, whatever the silence', async (t) => {
  const g = guard({ witnessConfigured: false });
  t.same(evaluateIsolation(g, { nowMs: 1e9, witnessReachable: false }), []);
  t.same(beforeMasterDown(g, { nowMs: 1e9, witnessReachable: false }), []);
  t.same(onVrrpHeard(g, { nowMs: 5, witnessReachable: false }), []);
  t.equal(g.lastVrrpRxMs, 5, 'the advert is still recorded');
});

t.test('an accepted VRRP advert ends an isolation at once', async (t) => {
  const g = guard();
  t.equal(types(evaluateIsolation(g, { nowMs: 10_000, witnessReachable: false })).join(','), 'isolation,input:fault');
  const effects = onVrrpHeard(g, { nowMs: 10_001, witnessReachable: false });
  t.match(effects, [{ type: 'isolation', active: false }, { type: 'input', input: { source: 'isolated', active: false } }]);
});

t.test('before a Master_Down expiry the stricter silence applies (one interval + slack)', async (t) => {
  const g = guard();
  onHello(g, hello(), 'int', ctx(0));
  const now = { nowMs: g.timing.preExpirySilenceMs + 1, witnessReachable: false };
  t.ok(now.nowMs < g.timing.isolationSilenceMs, 'inside the ordinary silence');
  t.same(evaluateIsolation(g, now), [], 'the periodic check does not isolate yet');
  t.match(beforeMasterDown(g, now), [{ type: 'isolation', active: true }, { type: 'input', input: { type: 'fault', active: true } }],
    'the check before the expiry does: this backup fences itself instead of taking over');
  const g2 = guard();
  onHello(g2, hello(), 'int', ctx(0));
  t.same(beforeMasterDown(g2, { nowMs: g2.timing.preExpirySilenceMs, witnessReachable: false }), [], 'a peer heard within the stricter silence keeps it');
});

t.test('a caller-given silence (an alternative wiring) replaces the guard timing', async (t) => {
  const g = guard();
  onVrrpHeard(g, { nowMs: 0, witnessReachable: false });
  t.same(evaluateIsolation(g, { nowMs: 3000, witnessReachable: false, silenceMs: 5000 }), [], 'within the given silence: not isolated');
  t.match(evaluateIsolation(g, { nowMs: 3000, witnessReachable: false }), [{ type: 'isolation', active: true }], 'the guard timing (2050 ms) isolates');
});

t.test('onHello from a MASTER: effects in order: epoch, config notice, advert, isolation', async (t) => {
  const g = guard();
  evaluateIsolation(g, { nowMs: 10_000, witnessReachable: false });
  t.equal(g.isolated, true, 'isolated before the hello');
  const v = onHello(g, hello({ state: 'MASTER', priority: 200, epoch: 9, fingerprint: THEIRS }), 'ext', ctx(10_005));
  t.equal(v.accepted, true);
  if (!v.accepted) return;
  t.equal(v.fresh, true);
  t.same(types(v.effects), ['observe-epoch', 'config-mismatch', 'input:advert', 'isolation', 'input:fault']);
  t.same(v.effects[0], { type: 'observe-epoch', epoch: 9 });
  t.same(v.effects[1], { type: 'config-mismatch', peer: 'lb-b', ours: OURS, theirs: THEIRS });
  t.same(v.effects[2], { type: 'input', input: { type: 'advert', from: '10.0.0.2', priority: 200, maxAdvertIntervalCs: A_CS } });
  t.match(v.effects[3], { type: 'isolation', active: false });
});

t.test('onHello: no advert from a BACKUP, from our own address, or at priority 0', async (t) => {
  const cases: Partial<Hello>[] = [{ state: 'BACKUP' }, { state: 'MASTER', vrrpAddress: OUR_ADDRESS }, { state: 'MASTER', priority: 0 }];
  for (const c of cases) {
    const g = guard();
    const v = onHello(g, hello(c), 'int', ctx(1));
    t.ok(v.accepted && !types(v.effects).includes('input:advert'), JSON.stringify(c));
  }
});

t.test('onHello: config mismatch reported once per fingerprint, then the match', async (t) => {
  const g = guard();
  const notices = (v: ReturnType<typeof onHello>): string[] => (v.accepted ? types(v.effects).filter((x) => x.startsWith('config')) : ['dropped']);
  t.same(notices(onHello(g, hello({ fingerprint: THEIRS }), 'int', ctx(1))), ['config-mismatch']);
  t.same(notices(onHello(g, hello({ fingerprint: THEIRS }), 'int', ctx(2))), [], 'same fingerprint: not again');
  t.same(notices(onHello(g, hello({ fingerprint: 'cccccccccccccccc' }), 'int', ctx(3))), ['config-mismatch'], 'another one: reported');
  t.same(notices(onHello(g, hello({ fingerprint: OURS }), 'int', ctx(4))), ['config-match']);
  t.same(notices(onHello(g, hello({ fingerprint: OURS }), 'int', ctx(5))), [], 'matching stays quiet');
  t.equal(g.mismatches.size, 0);
  g.fingerprint = THEIRS; // a reload changed our VIP list
  t.same(notices(onHello(g, hello({ fingerprint: OURS }), 'int', ctx(6))), ['config-mismatch'], 'our side changed: reported');
});

t.test('onHello: a reordered (older) hello moves no notice', async (t) => {
  const g = guard();
  const newer = hello({ fingerprint: THEIRS });
  const older = { ...newer, seq: newer.seq - 1 };
  onHello(g, newer, 'int', ctx(1));
  const v = onHello(g, { ...older, fingerprint: OURS }, 'int', ctx(2));
  t.ok(v.accepted && v.fresh);
  t.notOk(v.accepted && types(v.effects).includes('config-match'), 'only the newest hello speaks for the fingerprint');
});

t.test('onHello: epoch bound against ours and the largest peer epoch, checked before presence', async (t) => {
  const g = guard();
  const jump = onHello(g, hello({ epoch: 10 + EPOCH_JUMP_MARGIN + 1 }), 'int', ctx(1, { ownEpoch: 10 }));
  t.match(jump, { accepted: false, reason: 'epoch-jump' });
  t.same(guardStatus(g, 1).peers, [], 'a refused hello leaves no presence');
  t.equal(onHello(g, hello({ epoch: 10 + EPOCH_JUMP_MARGIN }), 'int', ctx(2, { ownEpoch: 10 })).accepted, true, 'exactly the margin');
  const v = onHello(g, hello({ node: 'lb-c', boot: '2222222222222222', epoch: 10 + 2 * EPOCH_JUMP_MARGIN }), 'int', ctx(3, { ownEpoch: 10 }));
  t.equal(v.accepted, true, 'the margin counts from the largest epoch seen from any peer');
});

t.test('onHello: replays dropped, a copy on another path only refreshes that path', async (t) => {
  const g = guard();
  const h = hello({ state: 'MASTER' });
  t.equal(onHello(g, h, 'int', ctx(1)).accepted, true);
  t.match(onHello(g, h, 'int', ctx(2)), { accepted: false, reason: 'replay' });
  const copy = onHello(g, h, 'ext', ctx(3));
  t.same(copy, { accepted: true, fresh: false, effects: [] }, 'no second advert, no second epoch');
  t.same(guardStatus(g, 3).peers[0]?.paths, { int: 2, ext: 0 });
});

t.test('rules are injectable (the simulation runs broken variants through the same guard)', async (t) => {
  const calls: string[] = [];
  const g = guard({
    rules: {
      ...GUARD_RULES,
      helloAsAdvert: () => { calls.push('helloAsAdvert'); return undefined; },
      isIsolated: () => { calls.push('isIsolated'); return true; },
    },
  });
  const v = onHello(g, hello({ state: 'MASTER' }), 'int', ctx(1, { witnessReachable: true }));
  t.same(calls, ['helloAsAdvert', 'isIsolated'], 'advert decided before isolation');
  t.ok(v.accepted && types(v.effects).join(',') === 'observe-epoch,isolation,input:fault');
});

t.test('guardStatus: fingerprint, isolated, peers with match and ages; silent peers expire', async (t) => {
  const g = guard();
  onHello(g, hello({ fingerprint: THEIRS, epoch: 4 }), 'int', ctx(1000));
  onHello(g, hello(), 'ext', ctx(1500));
  const st = guardStatus(g, 2000);
  t.same(st, {
    fingerprint: OURS, isolated: false,
    peers: [{ node: 'lb-b', state: 'BACKUP', priority: 100, epoch: 3, vrrpAddress: '10.0.0.2', fingerprintMatch: true, lastSeenAgoMs: 500, paths: { int: 1000, ext: 500 } }],
  });
  t.same(guardStatus(g, 1500 + peerExpiryMs(A_CS)).peers.length, 1, 'at the expiry bound: kept');
  t.same(guardStatus(g, 1501 + peerExpiryMs(A_CS)).peers, [], 'past it: forgotten');
});
