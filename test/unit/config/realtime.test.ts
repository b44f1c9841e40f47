/**
 * The realtime and lock-memory keys (top level) and their start flags: defaults (off), the
 * accepted forms, and clear errors naming the key for bad values; the unit file turns them on
 * within the limits it grants.
 */
import t from 'tap';
import { join } from 'node:path';
import { validateConfig } from '../../../src/core/config/validate.js';
import { loadConfig } from '../../../src/cli/load-config.js';
import { packageRoot } from '../../../src/adapters/package-info.js';
import { parseServiceSection } from '../../helpers/unit-sandbox.js';

const base = (top: Record<string, unknown>): unknown => ({ instances: [{ vrid: 1, interface: 'eth0', vips: ['192.0.2.10/24'] }], ...top });

t.test('off by default; a priority (rr by default) or fifo; lock-memory a boolean', (t) => {
  const r0 = validateConfig(base({}));
  t.ok(r0.ok && r0.config.realtime === undefined && r0.config.lockMemory === undefined, 'absent: off, and the config keeps its former shape');
  const r1 = validateConfig(base({ realtime: { priority: 10 }, 'lock-memory': true }));
  t.same(r1.ok ? [r1.config.realtime, r1.config.lockMemory] : undefined, [{ priority: 10, policy: 'rr' }, true]);
  const r2 = validateConfig(base({ realtime: { priority: 99, policy: 'fifo' } }));
  t.same(r2.ok ? r2.config.realtime : undefined, { priority: 99, policy: 'fifo' });
  t.end();
});

t.test('bad values are config errors naming the key', (t) => {
  const errs = (top: Record<string, unknown>): string[] => {
    const r = validateConfig(base(top));
    return r.ok ? [] : r.errors.map((e) => e.message);
  };
  t.match(errs({ realtime: { priority: 0 } }), [/^realtime\.priority: /]);
  t.match(errs({ realtime: { priority: 100 } }), [/^realtime\.priority: /]);
  t.match(errs({ realtime: { priority: 'high' } }), [/^realtime\.priority: /]);
  t.match(errs({ realtime: {} }), [/^realtime\.priority: is required/]);
  t.match(errs({ realtime: { priority: 10, policy: 'deadline' } }), [/^realtime\.policy: must be rr or fifo, got "deadline"/]);
  t.match(errs({ realtime: { priority: 10, nice: 1 } }), [/^realtime\.nice: /]);
  t.match(errs({ realtime: 10 }), [/^realtime: must be a mapping like \{ priority: 10 \}/]);
  t.match(errs({ 'lock-memory': 'yes please' }), [/^lock-memory: /]);
  t.end();
});

t.test('start flags --realtime-priority and --lock-memory', (t) => {
  const { config } = loadConfig({ interface: 'eth0', vip: ['192.0.2.10/24'], vrid: '1', realtimePriority: '20', lockMemory: true }, false);
  t.same([config.realtime, config.lockMemory], [{ priority: 20, policy: 'rr' }, true]);
  t.throws(() => loadConfig({ interface: 'eth0', vip: ['192.0.2.10/24'], vrid: '1', realtimePriority: '200' }, false), /realtime\.priority/);
  t.end();
});

t.test('the unit file turns both on within the limits it grants', (t) => {
  const props = parseServiceSection(join(packageRoot(), 'examples', 'haagent.service'));
  const exec = props.get('ExecStart')?.at(-1) ?? '';
  const prio = Number(/--realtime-priority (\d+)/.exec(exec)?.[1]);
  t.ok(prio >= 1 && prio <= 99, 'ExecStart asks for a real-time priority');
  t.match(exec, /--lock-memory/);
  t.ok(Number(props.get('LimitRTPRIO')?.at(-1)) >= prio, 'LimitRTPRIO allows it (no CAP_SYS_NICE in the bounding set)');
  t.equal(props.get('LimitMEMLOCK')?.at(-1), 'infinity');
  t.equal(props.get('RestrictRealtime')?.at(-1), 'no', 'the seccomp filter does not refuse SCHED_RR');
  t.end();
});
