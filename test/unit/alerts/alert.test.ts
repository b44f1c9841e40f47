import t from 'tap';
import { alertOf } from '../../../src/core/alerts/alert.js';
import { admit, EMPTY_RATE_STATE, RATE_STATE_MAX_KEYS } from '../../../src/core/alerts/rate-limit.js';
import { alertmanagerBody, chatBody, rfc5424Line, syslogPriorityName } from '../../../src/core/alerts/format.js';
import { Collector } from '../../../src/core/config/collector.js';
import { parseAlerts, webhookOrigin } from '../../../src/core/config/alerts.js';

const at = '2026-11-30T12:00:00.000Z';

t.test('alertOf: FAULT is critical, the VIP moving is a warning, checks and packets are not alerts', async (t) => {
  const fault = alertOf({ at, type: 'transition', instance: 'web', vrid: 51, from: 'MASTER', to: 'FAULT', reason: 'check http failing' });
  t.match(fault, { kind: 'transition-fault', severity: 'critical', instance: 'web', firing: true, summary: /web \(VRID 51\) entered FAULT from MASTER: check http failing/ });
  t.match(alertOf({ at, type: 'transition', instance: 'web', vrid: 51, from: 'BACKUP', to: 'MASTER', reason: 'master-down timer expired' }), { kind: 'transition-master', severity: 'warning' });
  t.match(alertOf({ at, type: 'transition', instance: 'web', vrid: 51, from: 'MASTER', to: 'BACKUP', reason: 'higher priority' }), { kind: 'transition-left-master' });
  t.equal(alertOf({ at, type: 'transition', instance: 'web', vrid: 51, from: 'INIT', to: 'BACKUP', reason: 'start' }), undefined);
  t.equal(alertOf({ at, type: 'check', instance: 'web', check: 'http', status: 'failing', ok: false, detail: 'x', latencyMs: 1 }), undefined);
  t.equal(alertOf({ at, type: 'drop', instance: null, iface: 'eth0', reason: 'bad-vrid' }), undefined);
  t.equal(alertOf({ at, type: 'hook', instance: 'web', hook: 'master', ok: true, exitCode: 0, timedOut: false, durationMs: 3 }), undefined);
  t.match(alertOf({ at, type: 'hook', instance: 'web', hook: 'before-master', ok: false, exitCode: 3, timedOut: false, durationMs: 12.4 }), { severity: 'critical', summary: 'web: the before-master hook exited with status 3 after 12 ms' });
  t.match(alertOf({ at, type: 'hook', instance: 'web', hook: 'backup', ok: false, exitCode: null, timedOut: true, durationMs: 30000 }), { severity: 'warning', summary: /timed out/ });
  t.match(alertOf({ at, type: 'warning', instance: 'web', kind: 'config-mismatch', active: true, detail: 'adverts from 10.0.0.2 dropped: address list differs' }), { kind: 'config-mismatch', severity: 'critical', firing: true });
  t.match(alertOf({ at, type: 'warning', instance: 'web', kind: 'isolated', active: false, detail: 'no longer isolated' }), { severity: 'info', firing: false, summary: 'web: cleared: no longer isolated' });
  t.match(alertOf({ at, type: 'reload', ok: false, detail: 'bad vrid' }), { kind: 'reload-refused', instance: null });
  t.match(alertOf({ at, type: 'epoch-state', instance: 'web', ok: false, persisted: false, detail: 'ENOSPC' }), { kind: 'epoch-state', severity: 'critical', firing: true, summary: 'web: fencing epoch file problem: ENOSPC' });
  t.match(alertOf({ at, type: 'epoch-state', instance: 'web', ok: true, persisted: true, detail: 'written' }), { severity: 'info', firing: false });
  t.match(alertOf({ at, type: 'lb-rules', ok: false, services: 1, detail: 'nft: not found' }), { severity: 'critical' });
});

t.test('rate limit: burst per key, refilled over time, suppressed alerts folded into the next one', async (t) => {
  const limit = { burst: 2, perMs: 1000 };
  let s = EMPTY_RATE_STATE;
  const results: boolean[] = [];
  for (let i = 0; i < 4; i++) {
    const a = admit(s, 'k', 0, limit);
    s = a.state;
    results.push(a.admitted);
  }
  t.same(results, [true, true, false, false], 'two admitted, then suppressed');
  t.equal(admit(s, 'other', 0, limit).admitted, true, 'another key has its own bucket');
  const later = admit(s, 'k', 500, limit);
  t.equal(later.admitted, true, 'half the period refills one token');
  t.equal(later.suppressedBefore, 2, 'the two suppressed ones are reported');
  t.equal(admit(later.state, 'k', 500, limit).admitted, false);
  let big = EMPTY_RATE_STATE;
  for (let i = 0; i < RATE_STATE_MAX_KEYS + 50; i++) big = admit(big, `k${i}`, 0, limit).state;
  t.equal(big.size, RATE_STATE_MAX_KEYS, 'the key table is bounded');
});

t.test('formats: Alertmanager v2 array, chat text, RFC 5424 line', async (t) => {
  const alert = alertOf({ at, type: 'transition', instance: 'web', vrid: 51, from: 'MASTER', to: 'FAULT', reason: 'r' });
  if (alert === undefined) throw new Error('no alert');
  const am = JSON.parse(alertmanagerBody(alert, { node: 'h1', suppressedBefore: 0 })) as Array<Record<string, unknown>>;
  t.equal(am.length, 1);
  t.same(am[0]?.['labels'], { alertname: 'haagent_transition_fault', severity: 'critical', node: 'h1', service: 'haagent', vrrp_instance: 'web' });
  t.equal(am[0]?.['startsAt'], at);
  t.notOk('endsAt' in (am[0] ?? {}), 'a firing alert has no endsAt');
  const cleared = alertOf({ at, type: 'warning', instance: null, kind: 'isolated', active: false, detail: 'ok' });
  if (cleared === undefined) throw new Error('no alert');
  t.equal((JSON.parse(alertmanagerBody(cleared, { node: 'h1', suppressedBefore: 0 })) as Array<Record<string, unknown>>)[0]?.['endsAt'], at);
  t.same(JSON.parse(chatBody(alert, { node: 'h1', suppressedBefore: 3 })), { text: '[critical] haagent on h1: web (VRID 51) entered FAULT from MASTER: r (+3 similar suppressed by the rate limit)' });
  t.equal(rfc5424Line(alert, { node: 'h1', suppressedBefore: 0 }, 'local3', 42), `<154>1 ${at} h1 haagent 42 transition-fault - [critical] haagent on h1: web (VRID 51) entered FAULT from MASTER: r`);
  t.equal(syslogPriorityName('daemon', 'critical'), 'daemon.crit');
});

t.test('config: targets validated with their key path, defaults, URL tokens not shown', async (t) => {
  const c = new Collector(() => undefined);
  const ok = parseAlerts(c, { targets: [{ type: 'webhook', url: 'https://chat.example/hooks/SECRET?x=1', format: 'chat' }, { type: 'syslog' }, { type: 'syslog', address: '[2001:db8::5]:1514', facility: 'local3' }], 'rate-limit': { burst: 3, per: '30s' } }, ['alerts']);
  t.same(c.errors, []);
  t.match(ok, { targets: [{ type: 'webhook', format: 'chat', timeoutMs: 5000 }, { type: 'syslog', facility: 'daemon', address: undefined }, { type: 'syslog', facility: 'local3', address: { host: '2001:db8::5', port: 1514 } }], rateLimit: { burst: 3, perMs: 30000 } });
  t.equal(webhookOrigin('https://chat.example/hooks/SECRET?x=1'), 'https://chat.example');

  const bad = new Collector(() => undefined);
  parseAlerts(bad, { targets: [{ type: 'webhook', url: 'ftp://x' }, { type: 'pager' }, { type: 'syslog', address: 'logs.example:514' }, { type: 'syslog', facility: 'kern' }], 'rate-limit': { per: '10ms' } }, ['alerts']);
  t.same(bad.errors.map((e) => e.path), ['alerts.targets[0].url', 'alerts.targets[1].type', 'alerts.targets[2].address', 'alerts.targets[3].facility', 'alerts.rate-limit.per']);
  const many = new Collector(() => undefined);
  parseAlerts(many, { targets: Array.from({ length: 17 }, () => ({ type: 'syslog' })) }, ['alerts']);
  t.match(many.errors[0]?.message, /at most 16/);
});

t.test('alertOf: a held-back takeover is critical while it lasts; a forced promotion is a warning', async (t) => {
  t.match(alertOf({ at, type: 'takeover-blocked', instance: 'db', reason: 'guard', detail: 'fresh: exit 1', active: true }),
    { kind: 'takeover-blocked', severity: 'critical', firing: true, summary: 'db: takeover held back (guard): fresh: exit 1' });
  t.match(alertOf({ at, type: 'takeover-blocked', instance: 'db', reason: 'guard', detail: 'x', active: false }), { severity: 'info', firing: false });
  t.match(alertOf({ at, type: 'promote-forced', instance: 'db' }), { kind: 'promote-forced', severity: 'warning', instance: 'db' });
  t.equal(alertOf({ at, type: 'guard', instance: 'db', guard: 'fresh', ok: false, exitCode: 1, timedOut: false, durationMs: 3 }), undefined, 'each guard run is not an alert');
});
