/**
 * The self-fence's pure parts (src/core/fence/self-fence.ts): the timeout against the backup's
 * Master_Down_Interval (for any backup, and for a configured backup priority, v2 and v3), the
 * auto threshold, the script's shape (what the kernel is given), the
 * rule-size split, the refusal of unquotable names; and the `self-fence` config key. The kernel
 * itself is exercised in test/integration/self-fence.test.ts.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  fenceEnabled, fenceRetimeScript, fenceScript, fenceTimeoutMs, FENCE_ANY_BACKUP_PRIORITY, FENCE_MARGIN_MS, FENCE_UPDATES_PER_RULE, type FencedInstance,
} from '../../../src/core/fence/self-fence.js';
import { masterDownIntervalMs, skewTimeMs } from '../../../src/core/fsm/timers.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { validateConfig } from '../../../src/core/config/validate.js';

const inst = (over: Partial<FencedInstance> = {}): FencedInstance => ({
  vrid: 51, family: 4, interface: 'int0', external: 'ext0', addresses: ['10.77.0.100'], timeoutMs: 280, ...over,
});

t.test('the timeout ends before any backup\'s Master_Down_Interval and leaves a live master more than one interval', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 4095 }), fc.integer({ min: 1, max: 254 }), (cs, prio) => {
    const timeout = fenceTimeoutMs(cs, FENCE_ANY_BACKUP_PRIORITY, 3);
    const interval = cs * 10;
    // A jiffy of rounding (10 ms at HZ=100) on top still ends before the takeover.
    const before = timeout + 10 <= masterDownIntervalMs(prio, cs, 3);
    return before && timeout >= 2 * interval;
  }), { seed: 5151, numRuns: 2000 });
  t.equal(fenceTimeoutMs(10, FENCE_ANY_BACKUP_PRIORITY, 3), 280, '100 ms adverts: 280 ms');
  t.equal(fenceTimeoutMs(1, FENCE_ANY_BACKUP_PRIORITY, 3), 20, '10 ms adverts: the 2 x interval floor');
  t.equal(fenceTimeoutMs(100, FENCE_ANY_BACKUP_PRIORITY, 3), 2980, '1 s adverts');
  t.end();
});

t.test('for a backup priority, the timeout ends FENCE_MARGIN_MS before that backup (and every lower one) takes over, v2 and v3', (t) => {
  // v3: any interval 10 ms..40.95 s; v2: whole seconds 1..255 s.
  const v3 = fc.record({ version: fc.constant(3 as const), cs: fc.integer({ min: 1, max: 4095 }) });
  const v2 = fc.record({ version: fc.constant(2 as const), cs: fc.integer({ min: 1, max: 255 }).map((s) => s * 100) });
  fc.assert(fc.property(fc.oneof(v3, v2), fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 254 }), ({ version, cs }, prio, other) => {
    const timeout = fenceTimeoutMs(cs, prio, version);
    const down = masterDownIntervalMs(prio, cs, version);
    const floor = 2 * cs * 10;
    if (timeout < floor) return false;
    // Not the floor: exactly the margin before THIS backup's takeover, no earlier.
    if (timeout > floor && timeout !== down - FENCE_MARGIN_MS) return false;
    if (timeout === floor && down - FENCE_MARGIN_MS > floor) return false;
    const otherDown = masterDownIntervalMs(other, cs, version);
    // Every backup at or below the priority takes over no earlier than the margin after expiry.
    if (other <= prio && timeout + FENCE_MARGIN_MS > otherDown && timeout !== floor) return false;
    // A backup above it can come first, by at most the difference in skew (the documented risk).
    if (other > prio && timeout !== floor && timeout - otherDown > skewTimeMs(prio, cs, version) - skewTimeMs(other, cs, version) - FENCE_MARGIN_MS) return false;
    // The floor (2 x interval) still ends before any backup's 3 x interval + skew.
    if (timeout === floor && timeout >= otherDown) return false;
    // A lower backup priority never gives a shorter timeout.
    return other > prio || fenceTimeoutMs(cs, other, version) >= timeout;
  }), { seed: 6262, numRuns: 5000 });
  // Worked by hand from RFC 9568 / RFC 3768 section 6.1:
  t.equal(fenceTimeoutMs(10, 100, 3), 340, 'v3 100 ms, priority 100: 300 + 60 (floor(156 x 10 / 256) = 6 cs) - 20');
  t.equal(fenceTimeoutMs(10, 200, 3), 300, 'v3 100 ms, priority 200: 300 + 20 (2 cs) - 20');
  t.equal(fenceTimeoutMs(10, 1, 3), 370, 'v3 100 ms, priority 1: 300 + 90 (9 cs) - 20');
  t.equal(fenceTimeoutMs(100, 100, 3), 3580, 'v3 1 s, priority 100: 3000 + 600 - 20');
  t.equal(fenceTimeoutMs(5, 1, 3), 170, 'v3 50 ms, priority 1: 150 + 40 (4 cs) - 20');
  t.equal(fenceTimeoutMs(100, 100, 2), 3589, 'v2 1 s, priority 100: 3000 + 609 (156000 / 256) - 20');
  t.equal(fenceTimeoutMs(100, 254, 2), 2987, 'v2 1 s, any backup: 3000 + 7 - 20');
  t.equal(fenceTimeoutMs(1, 1, 3), 20, 'v3 10 ms, priority 1: 30 + 0 - 20 = 10 is under the 2 x interval floor');
  t.equal(fenceTimeoutMs(2, 254, 3), 40, 'v3 20 ms, any backup: 60 + 0 - 20 = 40 is the floor itself');
  t.equal(fenceTimeoutMs(2, 100, 3), 50, 'v3 20 ms, priority 100: 60 + 10 (1 cs) - 20');
  t.equal(fenceTimeoutMs(3, 254, 3), 70, 'v3 30 ms, any backup: 90 + 0 - 20 = 70 is above the 60 ms floor');
  t.end();
});

t.test('auto fences from 50 ms adverts on; on and off are what they say', (t) => {
  t.equal(fenceEnabled('auto', 5), true);
  t.equal(fenceEnabled('auto', 4), false, '40 ms: the room for a late advert is too small under load');
  t.equal(fenceEnabled('on', 1), true);
  t.equal(fenceEnabled('off', 100), false);
  t.equal(fenceEnabled('auto', 100, false), false, 'no adverts (election: etcd): nothing would refresh it');
  t.equal(fenceEnabled('on', 100, false), false);
  t.end();
});

t.test('no instance armed: the script only removes the table (no error when it is absent)', (t) => {
  t.equal(fenceScript([]), 'table netdev haagent_fence {}\ndelete table netdev haagent_fence\n');
  t.end();
});

t.test('an armed instance: fresh elements, refresh on its own advert, drops on both NICs', (t) => {
  const s = fenceScript([inst()]);
  t.match(s, /^table netdev haagent_fence \{\}\ndelete table netdev haagent_fence\ntable netdev haagent_fence \{\n/, 'replaces the table whole, in one transaction');
  t.match(s, 'set alive4 { type ipv4_addr; flags dynamic,timeout; size 65535; elements = { 10.77.0.100 timeout 280ms }; }');
  t.match(s, 'set fenced4 { type ipv4_addr; elements = { 10.77.0.100 }; }');
  t.match(s, 'set alive6 { type ipv6_addr; flags dynamic,timeout; size 65535; }', 'no IPv6 VIP: an empty set');
  t.match(s, /chain out(\d) \{\n {4}type filter hook egress device "int0" priority 0; policy accept;\n {4}ip protocol 112 @th,16,8 != 0 @th,8,8 vmap \{ 51 : jump r\1v4x51 \}\n/, 'the heartbeat NIC dispatches VRID 51 adverts with priority > 0 to their refresh chain');
  t.match(s, /chain r\dv4x51 \{\n {4}update @alive4 \{ 10\.77\.0\.100 timeout 280ms \}\n {2}\}\n/, 'which refreshes the VIP');
  t.match(s, /hook egress device "ext0"[^}]*arp saddr ip @fenced4 arp saddr ip != @alive4 counter drop/, 'ARP from an expired VIP is dropped on the VIP NIC');
  t.match(s, /hook ingress device "ext0"[^}]*ip daddr @fenced4 ip daddr != @alive4 counter drop/, 'traffic to it too');
  t.notMatch(s, /device "ext0"[^}]*update/, 'adverts do not leave through the VIP NIC here: no refresh rule there');
  t.end();
});

t.test('IPv6: nexthdr 112 refreshes alive6; v4 and v6 instances share the table', (t) => {
  const s = fenceScript([inst(), inst({ family: 6, addresses: ['2001:db8::10'], interface: 'eth1', external: 'eth1' })]);
  t.match(s, /ip6 nexthdr 112 @th,16,8 != 0 @th,8,8 vmap \{ 51 : jump (r\dv6x51) \}/);
  t.match(s, /chain r\dv6x51 \{\n {4}update @alive6 \{ 2001:db8::10 timeout 280ms \}\n/);
  t.match(s, 'elements = { 2001:db8::10 timeout 280ms }');
  t.equal((s.match(/hook egress/g) ?? []).length, 3, 'one egress chain per NIC (eth1, ext0, int0)');
  t.end();
});

t.test('many VIPs: the updates are split so no rule goes over the kernel\'s 128 expressions', (t) => {
  const addresses = Array.from({ length: 255 }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  const s = fenceScript([inst({ addresses })]);
  const rules = s.split('\n').filter((l) => l.includes('update @alive4'));
  t.equal(rules.length, Math.ceil(255 / FENCE_UPDATES_PER_RULE));
  t.ok(rules.every((r) => (r.match(/update /g) ?? []).length <= FENCE_UPDATES_PER_RULE));
  t.equal(rules.reduce((n, r) => n + (r.match(/update /g) ?? []).length, 0), 255, 'every VIP refreshed');
  t.end();
});

t.test('two instances listing the same address share one element', (t) => {
  const s = fenceScript([inst(), inst({ vrid: 52 })]);
  t.match(s, 'elements = { 10.77.0.100 timeout 280ms }; }');
  t.end();
});

t.test('many instances on one NIC: one dispatch rule, one refresh chain per VRID (one lookup per packet)', (t) => {
  const armed = Array.from({ length: 255 }, (_, i) => inst({ vrid: i + 1, addresses: [`10.2.0.${i + 1}`] }));
  const s = fenceScript(armed);
  const dispatch = s.split('\n').filter((l) => l.includes('vmap'));
  t.equal(dispatch.length, 1, 'one dispatch rule');
  t.equal((dispatch[0]?.match(/ : jump /g) ?? []).length, 255, 'every VRID in its map');
  t.equal((s.match(/chain r\dv4x\d+ \{/g) ?? []).length, 255);
  t.match(s, /chain r\dv4x200 \{\n {4}update @alive4 \{ 10\.2\.0\.200 timeout 280ms \}\n/);
  t.notMatch(s, /@th,8,8 \d/, 'no per-instance VRID match on the hooked chain');
  const shared = fenceScript([inst(), inst({ addresses: ['10.77.0.101'] })]);
  t.match(shared, /chain r\dv4x51 \{\n {4}update @alive4 \{ 10\.77\.0\.100 timeout 280ms \}\n {4}update @alive4 \{ 10\.77\.0\.101 timeout 280ms \}\n/, 'two instances with one VRID share a chain');
  t.end();
});

t.test('a retime rewrites only the egress chains\' rules, in one transaction, and leaves the sets and their elements alone', (t) => {
  const armed = [inst({ timeoutMs: 340 }), inst({ vrid: 52, family: 6, addresses: ['2001:db8::10'], interface: 'eth1', external: 'eth1', timeoutMs: 300 })];
  const s = fenceRetimeScript(armed);
  const full = fenceScript(armed);
  t.match(s, /^flush chain netdev haagent_fence out0\nflush chain netdev haagent_fence r0v6x52\nflush chain netdev haagent_fence out1\nflush chain netdev haagent_fence out2\nflush chain netdev haagent_fence r2v4x51\ntable netdev haagent_fence \{\n/, 'every egress and refresh chain flushed first (eth1, ext0, int0)');
  t.notMatch(s, /set |elements|delete|hook ingress/, 'no set, element, table removal or ingress chain: every VIP keeps its current expiry');
  const chains = [...s.matchAll(/ {2}chain (?:out|r)\S* \{\n(?:.*\n)*? {2}\}\n/g)];
  t.equal(chains.length, 5, 'three egress chains and two refresh chains');
  for (const m of chains) t.ok(full.includes(m[0]), 'each chain exactly as the full script builds it');
  t.match(s, 'update @alive4 { 10.77.0.100 timeout 340ms }');
  t.match(s, 'update @alive6 { 2001:db8::10 timeout 300ms }');
  t.throws(() => fenceRetimeScript([]), { code: 'HA_ERR_INTERNAL' }, 'nothing armed: a caller\'s bug');
  t.end();
});

t.test('a name or address that could break the script is refused (HA_ERR_INTERNAL), never quoted', (t) => {
  t.throws(() => fenceScript([inst({ interface: 'eth0" ; flush ruleset' })]), { code: 'HA_ERR_INTERNAL' });
  t.throws(() => fenceScript([inst({ addresses: ['10.0.0.1 }'] })]), { code: 'HA_ERR_INTERNAL' });
  t.end();
});

t.test('config: self-fence auto (default) | on | off, a bad value names the key', (t) => {
  const base = (extra: Record<string, unknown>): unknown => ({ instances: [{ vrid: 1, interface: 'eth0', vips: ['192.0.2.10/24'], ...extra }] });
  const ok = (extra: Record<string, unknown>): string | undefined => {
    const r = validateConfig(base(extra));
    return r.ok ? r.config.instances[0]?.selfFence : undefined;
  };
  t.equal(ok({}), 'auto');
  t.equal(ok({ 'self-fence': 'off' }), 'off');
  t.equal(ok({ 'self-fence': 'on' }), 'on');
  t.equal(ok({ 'self-fence': false }), 'off', 'YAML false');
  const r = validateConfig(base({ 'self-fence': 'sometimes' }));
  t.notOk(r.ok);
  if (!r.ok) t.match(r.errors[0]?.message, /instances\[0\]\.self-fence: must be one of auto, on, off, got "sometimes"/);
  t.end();
});

t.test('config: self-fence-backup-priority auto (default) | 1..254; a bad value names the key and its line', (t) => {
  const base = (extra: Record<string, unknown>): unknown => ({ instances: [{ vrid: 1, interface: 'eth0', vips: ['192.0.2.10/24'], ...extra }] });
  const value = (raw: unknown): number | string | undefined => {
    const r = validateConfig(base({ 'self-fence-backup-priority': raw }));
    if (!r.ok) return r.errors.map((e) => e.message).join('\n');
    return r.config.instances[0]?.selfFenceBackupPriority;
  };
  t.equal(value(undefined), undefined, 'absent: auto');
  const plain = validateConfig(base({}));
  t.notOk(plain.ok && 'selfFenceBackupPriority' in (plain.config.instances[0] ?? {}), 'absent: the config keeps its former shape');
  t.equal(value('auto'), undefined, 'auto');
  t.equal(value(100), 100);
  t.equal(value(1), 1);
  t.equal(value(254), 254);
  for (const bad of [0, 255, 1.5, -1, 'high', '100', true]) {
    t.match(value(bad), /^instances\[0\]\.self-fence-backup-priority: must be auto or an integer from 1 to 254/, `refused: ${JSON.stringify(bad)}`);
  }
  const y = parseConfigYaml('instances:\n  - vrid: 1\n    interface: eth0\n    vips: [192.0.2.10/24]\n    self-fence-backup-priority: 255\n');
  t.notOk(y.ok);
  if (!y.ok) t.match(y.errors[0]?.message, /^instances\[0\]\.self-fence-backup-priority \(line 5\): must be auto or an integer from 1 to 254 .*got 255$/);
  t.end();
});
