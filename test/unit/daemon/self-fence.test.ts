/**
 * SelfFence (src/daemon/self-fence.ts) with a fake kernel: what each arm, disarm, VIP update
 * and close asks of the kernel, in order; an arm that never settles is bounded; a failing
 * kernel is reported (status, log) and never rejects into the takeover; the off setting and
 * short intervals under auto never touch the kernel; a backup priority learned from peers
 * retimes an armed fence only when its timeout changes, and never under a configured one.
 */
import { pino } from 'pino';
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import type { FencedInstance } from '../../../src/core/fence/self-fence.js';
import { SelfFence, type FenceKernel } from '../../../src/daemon/self-fence.js';

const log = pino({ level: 'silent' });

function instance(name: string, extra = ''): InstanceConfig {
  const r = parseConfigYaml(`instances:\n  - name: ${name}\n    vrid: ${name === 'a' ? 1 : 2}\n    interface: eth0\n    advert-interval: 100ms\n    vips: [192.0.2.${name === 'a' ? 10 : 11}/24]\n${extra}`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config.instances[0] as InstanceConfig;
}

class FakeKernel implements FenceKernel {
  readonly calls: string[] = [];
  fail: Error | undefined;
  hang = false;
  async apply(armed: readonly FencedInstance[]): Promise<void> {
    this.calls.push(`apply ${armed.map((f) => `${f.vrid}:${f.addresses.join(',')}:${f.timeoutMs}`).join(' ')}`);
    if (this.hang) await new Promise(() => undefined);
    if (this.fail !== undefined) throw this.fail;
  }
  retimeFails = false;
  async retime(armed: readonly FencedInstance[]): Promise<void> {
    this.calls.push(`retime ${armed.map((f) => `${f.vrid}:${f.addresses.join(',')}:${f.timeoutMs}`).join(' ')}`);
    if (this.retimeFails) throw new Error('nft: No such file or directory');
    if (this.fail !== undefined) throw this.fail;
  }
  async remove(): Promise<void> {
    this.calls.push('remove');
    if (this.fail !== undefined) throw this.fail;
  }
}

t.test('arm, a second arm, disarm, close: each apply is the whole wanted state', async (t) => {
  const k = new FakeKernel();
  const f = new SelfFence(log, k);
  await f.arm(instance('a'), 1000);
  t.match(f.status(instance('a')), { enabled: true, armed: true, timeoutMs: 280 });
  await f.arm(instance('b'), 1000);
  await f.disarm('a');
  await f.close();
  t.same(k.calls, ['apply 1:192.0.2.10:280', 'apply 1:192.0.2.10:280 2:192.0.2.11:280', 'apply 2:192.0.2.11:280', 'remove']);
  t.equal(f.status(instance('a')).armed, false);
});

t.test('a reload that changes an armed instance\'s VIPs re-applies; a disarmed one is left alone', async (t) => {
  const k = new FakeKernel();
  const f = new SelfFence(log, k);
  await f.arm(instance('a'), 1000);
  await f.update({ ...instance('a'), vips: instance('b').vips });
  await f.update(instance('b'));
  await f.close();
  t.same(k.calls, ['apply 1:192.0.2.10:280', 'apply 1:192.0.2.11:280', 'remove'], 'the second update (b, not armed) applies nothing');
});

t.test('self-fence-backup-priority: the armed timeout, status and a reload that changes it follow the key', async (t) => {
  const k = new FakeKernel();
  const f = new SelfFence(log, k);
  const p100 = instance('a', '    self-fence-backup-priority: 100\n');
  t.match(f.status(p100), { enabled: true, armed: false, timeoutMs: 340, backupPriority: 100, backupPriorityFrom: 'config' }, 'before arming: the timeout it would use');
  t.match(f.status(instance('a')), { timeoutMs: 280, backupPriority: 254, backupPriorityFrom: 'any' }, 'auto: any backup');
  await f.arm(p100, 1000);
  t.match(f.status(p100), { armed: true, timeoutMs: 340 });
  await f.update(instance('a', '    self-fence-backup-priority: 200\n'));
  await f.close();
  t.same(k.calls, ['apply 1:192.0.2.10:340', 'apply 1:192.0.2.10:300', 'remove'], 'priority 100: 360 - 20 ms; 200: 320 - 20 ms');
});

t.test('learned backup priority (auto): used at arm, retimes (rules only) on a change of timeout, never per report', async (t) => {
  const k = new FakeKernel();
  const f = new SelfFence(log, k);
  await f.learn('a', 100);
  t.same(k.calls, [], 'not armed: nothing applied');
  t.match(f.status(instance('a')), { armed: false, timeoutMs: 340, backupPriority: 100, backupPriorityFrom: 'peers' });
  await f.arm(instance('a'), 1000);
  await f.learn('a', 100);
  await f.learn('a', 101);
  t.same(k.calls, ['apply 1:192.0.2.10:340'], 'armed with the learned 340 ms; the same value, or one with the same timeout, applies nothing');
  await f.learn('a', 200);
  await f.learn('a', undefined);
  t.same(k.calls.slice(1), ['retime 1:192.0.2.10:300', 'retime 1:192.0.2.10:280'], 'priority 200: 300 ms; unknown: any backup, 280 ms');
  t.match(f.status(instance('a')), { armed: true, timeoutMs: 280, backupPriority: 254, backupPriorityFrom: 'any' });
  await f.close();
});

t.test('learned priority: ignored under a configured one; a failed retime applies the whole fence; after a failed apply, the whole fence', async (t) => {
  const k = new FakeKernel();
  const f = new SelfFence(log, k);
  const p200 = instance('a', '    self-fence-backup-priority: 200\n');
  await f.arm(p200, 1000);
  await f.learn('a', 1);
  t.same(k.calls, ['apply 1:192.0.2.10:300'], 'configured 200: the peers\' report changes nothing');
  t.match(f.status(p200), { timeoutMs: 300, backupPriority: 200, backupPriorityFrom: 'config' });
  await f.disarm('a');
  k.calls.length = 0;
  await f.arm(instance('a'), 1000);
  k.retimeFails = true;
  await f.learn('a', 100);
  t.same(k.calls, ['apply 1:192.0.2.10:370', 'retime 1:192.0.2.10:340', 'apply 1:192.0.2.10:340'], 'armed with the priority learned meanwhile (1: 370 ms); the table was not as applied: rebuilt whole');
  k.retimeFails = false;
  k.fail = new Error('nft: No such device');
  await f.learn('a', 200);
  k.fail = undefined;
  await f.learn('a', 100);
  t.same(k.calls.slice(3), ['retime 1:192.0.2.10:300', 'apply 1:192.0.2.10:300', 'apply 1:192.0.2.10:340'], 'a failed retime and apply; then the kernel state is not known: the whole fence');
  t.match(f.status(instance('a')), { armed: true, timeoutMs: 340 });
  t.notOk('error' in f.status(instance('a')));
});

t.test('a retime queued behind a VIP change is not a retime: the kernel does not hold those VIPs yet', async (t) => {
  const k = new FakeKernel();
  const f = new SelfFence(log, k);
  await f.arm(instance('a'), 1000);
  const learned = f.learn('a', 100);
  const updated = f.update({ ...instance('a'), vips: instance('b').vips });
  await Promise.all([learned, updated]);
  t.same(k.calls, ['apply 1:192.0.2.10:280', 'apply 1:192.0.2.11:340'], 'one whole apply for both (queued together), never a retime with other VIPs');
});

t.test('requests made while a sync is queued share it: a burst of arms is two nft runs, not one per arm', async (t) => {
  const k = new FakeKernel();
  const f = new SelfFence(log, k);
  const many = Array.from({ length: 50 }, (_, i) => {
    const r = parseConfigYaml(`instances:\n  - name: i${i}\n    vrid: ${i + 1}\n    interface: eth0\n    advert-interval: 100ms\n    vips: [192.0.2.${i + 1}/32]\n`);
    if (!r.ok) throw new Error('bad config');
    return r.config.instances[0] as InstanceConfig;
  });
  await Promise.all(many.map((inst) => f.arm(inst, 5000)));
  t.equal(k.calls.length, 1, 'one apply for 50 arms made in the same turn');
  t.equal(k.calls[0]?.split(' ').length, 51, 'and it holds all 50');
  for (const inst of many) t.equal(f.status(inst).armed, true);
  // One apply running, the rest queued: the running one does not see them, the next one does.
  const first = f.disarm('i0');
  await Promise.resolve();
  await Promise.resolve();
  const rest = many.slice(1).map((inst) => f.disarm(inst.name));
  await Promise.all([first, ...rest]);
  t.ok(k.calls.length <= 3, `at most two runs for 50 disarms (${k.calls.length - 1})`);
  t.equal(k.calls[k.calls.length - 1], 'remove', 'the last one removes the table');
  t.equal(f.status(many[0] as InstanceConfig).armed, false);
});

t.test('off, and auto under 50 ms adverts, never touch the kernel', async (t) => {
  const k = new FakeKernel();
  const f = new SelfFence(log, k);
  await f.arm(instance('a', '    self-fence: off\n'), 1000);
  const fast = parseConfigYaml('instances:\n  - name: c\n    vrid: 3\n    interface: eth0\n    advert-interval: 40ms\n    vips: [192.0.2.12/24]\n');
  if (!fast.ok) throw new Error('config');
  await f.arm(fast.config.instances[0] as InstanceConfig, 1000);
  f.disarm('a');
  t.same(k.calls, []);
  t.equal(f.status(instance('a', '    self-fence: off\n')).enabled, false);
});

t.test('a kernel that fails: logged, shown in status, the arm still resolves; the next success clears it', async (t) => {
  const k = new FakeKernel();
  k.fail = new Error('nft -f x failed: Error: Could not process rule: No such device');
  const f = new SelfFence(log, k);
  await f.arm(instance('a'), 1000);
  t.match(f.status(instance('a')), { armed: false, error: /self-fence not applied: .*No such device/ });
  k.fail = undefined;
  await f.arm(instance('a'), 1000);
  t.match(f.status(instance('a')), { armed: true });
  t.notOk('error' in f.status(instance('a')));
});

t.test('a hung kernel delays the VIPs by the bound at most', async (t) => {
  const k = new FakeKernel();
  k.hang = true;
  const f = new SelfFence(log, k);
  const t0 = performance.now();
  await f.arm(instance('a'), 50);
  t.ok(performance.now() - t0 < 5000, 'arm returned (bounded)');
  t.equal(f.status(instance('a')).armed, false);
});

t.test('cleanup: an earlier table is removed; without nft it only complains when a fence is wanted', async (t) => {
  const k = new FakeKernel();
  k.fail = new Error('nft not found');
  const f = new SelfFence(log, k);
  await f.cleanup([instance('a', '    self-fence: off\n')]);
  t.notOk('error' in f.status(instance('a')), 'nothing wanted: silent');
  await f.cleanup([instance('a')]);
  t.match(f.status(instance('a')).error, /nftables unavailable: nft not found/);
  t.same(k.calls, ['remove', 'remove']);
});
