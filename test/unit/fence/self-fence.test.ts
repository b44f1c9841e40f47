/**
 * The self-fence's pure parts (src/core/fence/self-fence.ts): the timeout against the backup's
 * Master_Down_Interval, the auto threshold, the script's shape (what the kernel is given), the
 * rule-size split, the refusal of unquotable names; and the `self-fence` config key. The kernel
 * itself is exercised in test/integration/self-fence.test.ts.
 */
import t from 'tap';
import fc from 'fast-check';
import { fenceEnabled, fenceScript, fenceTimeoutMs, FENCE_UPDATES_PER_RULE, type FencedInstance } from '../../../src/core/fence/self-fence.js';
import { masterDownIntervalMs } from '../../../src/core/fsm/timers.js';
import { validateConfig } from '../../../src/core/config/validate.js';

const inst = (over: Partial<FencedInstance> = {}): FencedInstance => ({
  vrid: 51, family: 4, interface: 'int0', external: 'ext0', addresses: ['10.77.0.100'], timeoutMs: 280, ...over,
});

t.test('the timeout ends before any backup\'s Master_Down_Interval and leaves a live master more than one interval', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 4095 }), fc.integer({ min: 1, max: 254 }), (cs, prio) => {
    const timeout = fenceTimeoutMs(cs);
    const interval = cs * 10;
    // A jiffy of rounding (10 ms at HZ=100) on top still ends before the takeover.
    const before = timeout + 10 <= masterDownIntervalMs(prio, cs, 3);
    return before && timeout >= 2 * interval;
  }), { seed: 5151, numRuns: 2000 });
  t.equal(fenceTimeoutMs(10), 280, '100 ms adverts: 280 ms');
  t.equal(fenceTimeoutMs(1), 20, '10 ms adverts: the 2 x interval floor');
  t.equal(fenceTimeoutMs(100), 2980, '1 s adverts');
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
  t.match(s, /chain out\d \{\n {4}type filter hook egress device "int0" priority 0; policy accept;\n {4}ip protocol 112 @th,8,8 51 @th,16,8 != 0 update @alive4 \{ 10\.77\.0\.100 timeout 280ms \}\n/, 'the heartbeat NIC refreshes on VRID 51 adverts with priority > 0');
  t.match(s, /hook egress device "ext0"[^}]*arp saddr ip @fenced4 arp saddr ip != @alive4 counter drop/, 'ARP from an expired VIP is dropped on the VIP NIC');
  t.match(s, /hook ingress device "ext0"[^}]*ip daddr @fenced4 ip daddr != @alive4 counter drop/, 'traffic to it too');
  t.notMatch(s, /device "ext0"[^}]*update/, 'adverts do not leave through the VIP NIC here: no refresh rule there');
  t.end();
});

t.test('IPv6: nexthdr 112 refreshes alive6; v4 and v6 instances share the table', (t) => {
  const s = fenceScript([inst(), inst({ family: 6, addresses: ['2001:db8::10'], interface: 'eth1', external: 'eth1' })]);
  t.match(s, 'ip6 nexthdr 112 @th,8,8 51 @th,16,8 != 0 update @alive6 { 2001:db8::10 timeout 280ms }');
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
