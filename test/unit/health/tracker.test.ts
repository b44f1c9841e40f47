import t from 'tap';
import fc from 'fast-check';
import { applyResult, createHealth, sameVerdict, verdict, type HealthState } from '../../../src/core/health/tracker.js';
import type { CheckConfig } from '../../../src/core/config/types.js';
import { fileCheck, httpCheck, ifaceCheck, tcpCheck } from './helpers.js';

const OK = { ok: true, detail: 'ok', latencyMs: 1 };
const FAIL = { ok: false, detail: 'fail', latencyMs: 1 };
const file = (value: number) => ({ ok: true, detail: `v=${value}`, latencyMs: 0, value });

/** Applies results in order at t = 1000, 2000, ...; returns the final state. */
function feed(state: HealthState, name: string, results: readonly { ok: boolean; detail: string; latencyMs: number; value?: number }[]): HealthState {
  return results.reduce((s, r, i) => applyResult(s, name, r, (i + 1) * 1000).state, state);
}

function statusOf(state: HealthState, name: string): string | undefined {
  return state.checks.find((c) => c.name === name)?.status;
}

const web = (o: Partial<Pick<CheckConfig, 'rise' | 'fall' | 'weight'>> = {}) => httpCheck('http://127.0.0.1/', { name: 'web', ...o });

t.test('before any result a check is unknown, and unknown counts as failing', (t) => {
  const s = createHealth([web({ weight: 0 }), tcpCheck('127.0.0.1', 80, { name: 'db', weight: 30 })], 100);
  t.equal(statusOf(s, 'web'), 'unknown');
  t.same(verdict(s), { effectivePriority: 70, faults: ['check:web'] });
  t.end();
});

t.test('the first result decides the status directly, whatever rise and fall say', (t) => {
  const s = createHealth([web({ rise: 5, fall: 5 })], 100);
  t.equal(statusOf(applyResult(s, 'web', OK, 1).state, 'web'), 'healthy');
  t.equal(statusOf(applyResult(s, 'web', FAIL, 1).state, 'web'), 'failing');
  t.ok(applyResult(s, 'web', OK, 1).changed, 'unknown -> healthy is a change');
  t.ok(applyResult(s, 'web', FAIL, 1).changed, 'unknown -> failing is a change');
  t.end();
});

t.test('a healthy check turns failing after `fall` consecutive failures', (t) => {
  let s = feed(createHealth([web({ fall: 3 })], 100), 'web', [OK]);
  for (let i = 1; i <= 2; i++) {
    const r = applyResult(s, 'web', FAIL, 10_000 + i);
    t.equal(statusOf(r.state, 'web'), 'healthy', `still healthy after ${i} failure(s)`);
    t.notOk(r.changed);
    s = r.state;
  }
  const r = applyResult(s, 'web', FAIL, 10_003);
  t.equal(statusOf(r.state, 'web'), 'failing');
  t.ok(r.changed);
  t.end();
});

t.test('a success resets the failure count', (t) => {
  const s = feed(createHealth([web({ fall: 2 })], 100), 'web', [OK, FAIL, OK, FAIL]);
  t.equal(statusOf(s, 'web'), 'healthy');
  t.equal(s.checks[0]?.failCount, 1);
  t.equal(statusOf(feed(s, 'web', [FAIL]), 'web'), 'failing');
  t.end();
});

t.test('a failing check turns healthy after `rise` consecutive successes; a failure resets the count', (t) => {
  let s = feed(createHealth([web({ rise: 3 })], 100), 'web', [FAIL]);
  s = feed(s, 'web', [OK, OK, FAIL, OK, OK]);
  t.equal(statusOf(s, 'web'), 'failing', 'the failure in between restarted the count');
  const r = applyResult(s, 'web', OK, 99_000);
  t.equal(statusOf(r.state, 'web'), 'healthy');
  t.ok(r.changed);
  t.end();
});

t.test('rise 1 / fall 1 follow every result', (t) => {
  let s = createHealth([web({ rise: 1, fall: 1 })], 100);
  for (const [r, want] of [[OK, 'healthy'], [FAIL, 'failing'], [OK, 'healthy'], [FAIL, 'failing']] as const) {
    s = applyResult(s, 'web', r, 1).state;
    t.equal(statusOf(s, 'web'), want);
  }
  t.end();
});

t.test('interface checks are event-driven: each link event decides directly (no rise/fall)', (t) => {
  let s = createHealth([ifaceCheck('eth1', { rise: 3, fall: 3 })], 100);
  s = applyResult(s, 'if-eth1', OK, 1).state;
  const down = applyResult(s, 'if-eth1', FAIL, 2);
  t.equal(statusOf(down.state, 'if-eth1'), 'failing');
  t.ok(down.changed);
  t.equal(statusOf(applyResult(down.state, 'if-eth1', OK, 3).state, 'if-eth1'), 'healthy');
  t.end();
});

t.test('the last result is recorded with its time; counts and status are kept per check', (t) => {
  const s0 = createHealth([web(), tcpCheck('127.0.0.1', 80, { name: 'db' })], 100);
  const { state } = applyResult(s0, 'db', { ok: false, detail: 'connect 127.0.0.1:80: ECONNREFUSED', latencyMs: 0.4 }, 4242);
  t.same(state.checks[1]?.last, { ok: false, detail: 'connect 127.0.0.1:80: ECONNREFUSED', latencyMs: 0.4, atMs: 4242 });
  t.equal(state.checks[0]?.last, undefined, 'other checks untouched');
  t.equal(state.checks[1]?.failCount, 1);
  t.ok(Object.isFrozen(state) && Object.isFrozen(state.checks) && Object.isFrozen(state.checks[1]));
  t.equal(s0.checks[1]?.status, 'unknown', 'the input state is not modified');
  t.end();
});

t.test('a result for an unknown check name changes nothing', (t) => {
  const s = createHealth([web()], 100);
  const r = applyResult(s, 'nope', OK, 1);
  t.equal(r.state, s);
  t.notOk(r.changed);
  t.end();
});

t.test('failing checks with a weight lower the priority by the sum of their weights', (t) => {
  const checks = [web({ weight: 10 }), tcpCheck('127.0.0.1', 80, { name: 'db', weight: 25 }), tcpCheck('127.0.0.1', 81, { name: 'cache', weight: 5 })];
  let s = createHealth(checks, 150);
  s = feed(s, 'web', [FAIL]);
  s = feed(s, 'db', [FAIL]);
  s = feed(s, 'cache', [OK]);
  t.same(verdict(s), { effectivePriority: 115, faults: [] });
  s = feed(s, 'db', [OK, OK]);
  t.same(verdict(s), { effectivePriority: 140, faults: [] });
  t.end();
});

t.test('the effective priority is clamped to 1..254', (t) => {
  const low = feed(createHealth([web({ weight: 200 })], 50), 'web', [FAIL]);
  t.equal(verdict(low).effectivePriority, 1);
  const high = feed(createHealth([fileCheck('/run/prio', { name: 'f' })], 250), 'f', [file(30)]);
  t.equal(verdict(high).effectivePriority, 254);
  t.end();
});

t.test('address owner (255): 255 only while every check is healthy and the file adjustment is 0', (t) => {
  t.equal(verdict(createHealth([], 255)).effectivePriority, 255, 'no checks');
  const checks = [web({ weight: 10 }), fileCheck('/run/prio', { name: 'f', weight: 5 })];
  let s = createHealth(checks, 255);
  t.equal(verdict(s).effectivePriority, 240, 'unknown checks count as failing: 255 - 15');
  s = feed(s, 'web', [OK]);
  s = feed(s, 'f', [file(0)]);
  t.equal(verdict(s).effectivePriority, 255, 'all healthy, file value 0');
  t.equal(verdict(feed(s, 'f', [file(-5)])).effectivePriority, 250, 'a negative file value lowers it');
  t.equal(verdict(feed(s, 'f', [file(5)])).effectivePriority, 254, 'a positive one cannot keep it at 255');
  t.equal(verdict(feed(s, 'web', [FAIL, FAIL])).effectivePriority, 245, 'a failing weighted check: 255 - 10');
  const owner0 = feed(feed(createHealth([web({ weight: 0 })], 255), 'web', [OK]), 'web', [FAIL, FAIL]);
  t.same(verdict(owner0), { effectivePriority: 254, faults: ['check:web'] }, 'a FAULT check: not every check is healthy');
  t.end();
});

t.test('healthy file checks add their value (may be negative); their value changes are changes', (t) => {
  const checks = [fileCheck('/run/a', { name: 'a' }), fileCheck('/run/b', { name: 'b' })];
  let s = createHealth(checks, 100);
  s = feed(s, 'a', [file(10)]);
  s = feed(s, 'b', [file(-5)]);
  t.same(verdict(s), { effectivePriority: 105, faults: [] });
  const r = applyResult(s, 'a', file(20), 50_000);
  t.ok(r.changed, 'same status, new value');
  t.equal(verdict(r.state).effectivePriority, 115);
  const same = applyResult(r.state, 'a', file(20), 51_000);
  t.notOk(same.changed, 'same status, same value');
  t.end();
});

t.test('a file check keeps its last good value through failures below `fall`, and drops it once failing', (t) => {
  let s = feed(createHealth([fileCheck('/run/a', { name: 'a', weight: 7, fall: 2 })], 100), 'a', [file(10)]);
  s = feed(s, 'a', [FAIL]);
  t.equal(verdict(s).effectivePriority, 110, 'one failure: still healthy, value still counted');
  s = feed(s, 'a', [FAIL]);
  t.same(verdict(s), { effectivePriority: 93, faults: [] }, 'failing: its weight counts, its value does not');
  t.end();
});

t.test('a failing file check with weight 0 is a fault source, like any check', (t) => {
  const s = feed(createHealth([fileCheck('/run/a', { name: 'a', weight: 0 })], 100), 'a', [{ ok: false, detail: 'read /run/a: ENOENT', latencyMs: 0 }]);
  t.same(verdict(s), { effectivePriority: 100, faults: ['check:a'] });
  t.end();
});

t.test('failing checks with weight 0 are fault sources named check:<name>, in configured order; they do not lower the priority', (t) => {
  const checks = [web({ weight: 0 }), tcpCheck('127.0.0.1', 80, { name: 'db', weight: 0 }), tcpCheck('127.0.0.1', 81, { name: 'cache', weight: 20 })];
  let s = createHealth(checks, 100);
  s = feed(s, 'db', [FAIL]);
  s = feed(s, 'web', [FAIL]);
  s = feed(s, 'cache', [OK]);
  t.same(verdict(s), { effectivePriority: 100, faults: ['check:web', 'check:db'] });
  s = feed(s, 'web', [OK, OK]);
  t.same(verdict(s), { effectivePriority: 100, faults: ['check:db'] });
  s = feed(s, 'db', [OK, OK]);
  t.same(verdict(s), { effectivePriority: 100, faults: [] });
  t.end();
});

t.test('sameVerdict compares priority and faults', (t) => {
  t.ok(sameVerdict({ effectivePriority: 5, faults: ['a'] }, { effectivePriority: 5, faults: ['a'] }));
  t.notOk(sameVerdict({ effectivePriority: 5, faults: ['a'] }, { effectivePriority: 6, faults: ['a'] }));
  t.notOk(sameVerdict({ effectivePriority: 5, faults: ['a'] }, { effectivePriority: 5, faults: ['b'] }));
  t.notOk(sameVerdict({ effectivePriority: 5, faults: [] }, { effectivePriority: 5, faults: ['a'] }));
  t.end();
});

t.test('property: the priority stays in 1..255, 255 only for an owner; faults are exactly the non-healthy weight-0 checks', (t) => {
  const checkArb = fc.record({
    weight: fc.integer({ min: 0, max: 253 }), rise: fc.integer({ min: 1, max: 4 }), fall: fc.integer({ min: 1, max: 4 }),
    isFile: fc.boolean(),
  });
  const eventArb = fc.record({ index: fc.nat(), ok: fc.boolean(), value: fc.integer({ min: -300, max: 300 }) });
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 255 }), fc.array(checkArb, { maxLength: 5 }), fc.array(eventArb, { maxLength: 40 }),
    (base, specs, events) => {
      const checks: CheckConfig[] = specs.map((c, i) => (c.isFile
        ? fileCheck(`/f${i}`, { name: `c${i}`, weight: c.weight, rise: c.rise, fall: c.fall })
        : tcpCheck('127.0.0.1', 80, { name: `c${i}`, weight: c.weight, rise: c.rise, fall: c.fall })));
      let s = createHealth(checks, base);
      for (const [n, e] of events.entries()) {
        if (checks.length === 0) break;
        const c = checks[e.index % checks.length];
        if (c === undefined) continue;
        const r = e.ok ? { ok: true, detail: '', latencyMs: 0, ...(c.type === 'file' ? { value: e.value } : {}) } : { ok: false, detail: '', latencyMs: 0 };
        const before = verdict(s);
        const applied = applyResult(s, c.name, r, n);
        if (!applied.changed && !sameVerdict(before, verdict(applied.state))) return false;
        s = applied.state;
      }
      const v = verdict(s);
      if (v.effectivePriority < 1 || v.effectivePriority > 255) return false;
      if (v.effectivePriority === 255 && base !== 255) return false;
      const expectedFaults = s.checks.filter((c) => c.status !== 'healthy' && c.weight === 0).map((c) => `check:${c.name}`);
      return sameVerdict(v, { effectivePriority: v.effectivePriority, faults: expectedFaults });
    },
  ), { numRuns: 300 });
  t.end();
});
