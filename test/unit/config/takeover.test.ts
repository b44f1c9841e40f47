/** The takeover keys (src/core/config/takeover.ts): defaults, values, and refusals with their key paths. */
import t from 'tap';
import { validateConfig } from '../../../src/core/config/validate.js';

const base = (extra: Record<string, unknown>): Record<string, unknown> => ({
  instances: [{ vrid: 51, interface: 'eth1', vips: ['192.0.2.10/24'], ...extra }],
});

function errors(extra: Record<string, unknown>): string[] {
  const r = validateConfig(base(extra));
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

t.test('no takeover keys: the instance has no takeover field (its former shape)', (t) => {
  const r = validateConfig(base({}));
  t.ok(r.ok);
  if (r.ok) t.equal(r.config.instances[0]?.takeover, undefined);
  t.end();
});

t.test('all keys: parsed with their units; guard names default to the basename', (t) => {
  const r = validateConfig(base({
    guards: [{ command: ['/etc/haagent/guard-fresh', '-q'], timeout: '3s' }, ['/usr/bin/true'], { command: ['/bin/x'], name: 'other' }],
    'guard-retry': '500ms',
    'cold-start': { 'wait-for-peer': true, timeout: '2s' },
    'promotion-backoff': '4s',
  }));
  t.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('; '));
  if (!r.ok) return t.end();
  const tk = r.config.instances[0]?.takeover;
  t.same(tk?.guards, [
    { name: 'guard-fresh', command: ['/etc/haagent/guard-fresh', '-q'], timeoutMs: 3000 },
    { name: 'true', command: ['/usr/bin/true'], timeoutMs: 5000 },
    { name: 'other', command: ['/bin/x'], timeoutMs: 5000 },
  ]);
  t.equal(tk?.guardRetryMs, 500);
  t.same(tk?.coldStart, { waitForPeer: true, timeoutMs: 2000 });
  t.equal(tk?.promotionBackoffMs, 4000);
  t.end();
});

t.test('refusals name the key', (t) => {
  t.match(errors({ guards: [{ command: ['relative'] }] }).join('\n'), /guards\[0\]\.command\[0\].*absolute path/);
  t.match(errors({ guards: [{ command: ['/bin/a'], timeout: '0s' }] }).join('\n'), /guards\[0\]\.timeout/);
  t.match(errors({ guards: [['/bin/a'], ['/sbin/a']] }).join('\n'), /guards\[1\]\.name.*used twice/);
  t.match(errors({ guards: [{ command: ['/bin/a'], shell: true }] }).join('\n'), /guards\[0\].*unknown key "shell"/);
  t.match(errors({ guards: 'x' }).join('\n'), /guards: must be a list/);
  t.match(errors({ guards: Array.from({ length: 9 }, (_, i) => ({ command: ['/bin/a'], name: `g${i}` })) }).join('\n'), /guards/);
  t.match(errors({ 'guard-retry': '10ms' }).join('\n'), /guard-retry: must be from 100ms/);
  t.match(errors({ 'cold-start': { 'wait-for-peer': 'yes' } }).join('\n'), /cold-start\.wait-for-peer/);
  t.match(errors({ 'cold-start': true }).join('\n'), /cold-start: must be a mapping/);
  t.match(errors({ 'promotion-backoff': '7200s' }).join('\n'), /promotion-backoff: must be at most 1h/);
  t.end();
});
