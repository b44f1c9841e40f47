/**
 * The documented keys (src/core/config/keys.ts) are exactly the keys the validator accepts, at
 * every level: an unknown key is placed in each mapping and the validator's own "allowed: ..."
 * list is compared with the registry, both ways. A key added to the validator without docs (or
 * documented but not accepted) fails here.
 */
import t from 'tap';
import { CONFIG_KEY_GROUPS, type ConfigKeyGroup } from '../../../src/core/config/keys.js';
import { validateConfig } from '../../../src/core/config/validate.js';

const UNKNOWN = 'zz-not-a-key';
const base = (): Record<string, unknown> => ({ vrid: 51, interface: 'eth1', vips: ['192.0.2.10/24'] });

const SYNC = { interface: 'eth1', local: '10.66.0.11', peer: '10.66.0.12', 'snat-address': '10.66.0.100/24' };

/** A config whose mapping at `path` (for `type`, where keys depend on it) holds `extra`. */
function configWith(path: string, extra: Record<string, unknown>, type?: string): Record<string, unknown> {
  const inst = base();
  const top: Record<string, unknown> = { instances: [inst] };
  switch (path) {
    case '': Object.assign(top, extra); break;
    case 'metrics': top['metrics'] = { listen: '127.0.0.1:9650', ...extra }; break;
    case 'realtime': top['realtime'] = { priority: 10, ...extra }; break;
    case 'alerts': top['alerts'] = extra; break;
    case 'alerts.targets[]': top['alerts'] = { targets: [{ type, ...(type === 'webhook' ? { url: 'http://127.0.0.1:9093/' } : {}), ...extra }] }; break;
    case 'etcd': top['etcd'] = { endpoints: ['http://127.0.0.1:2379'], ...extra }; break;
    case 'etcd.tls': top['etcd'] = { endpoints: ['https://127.0.0.1:2379'], tls: extra }; break;
    case 'alerts.rate-limit': top['alerts'] = { 'rate-limit': extra }; break;
    case 'instances[]': Object.assign(inst, extra); break;
    case 'instances[].auth': inst['vrrp-version'] = 2; inst['auth'] = type === 'hmac' ? { type, keys: { 1: `hex:${'00'.repeat(32)}` }, ...extra } : { type: 'pass', password: 'x', ...extra }; break;
    case 'instances[].garp': inst['garp'] = extra; break;
    case 'instances[].checks[]': inst['checks'] = [{ type, ...extra }]; break;
    case 'instances[].hooks': inst['hooks'] = Object.fromEntries(Object.keys(extra).map((k) => [k, ['/bin/true']])); break;
    case 'instances[].hooks.<hook>': inst['hooks'] = { master: { command: ['/bin/true'], ...extra } }; break;
    case 'instances[].paths[]': inst['paths'] = [{ interface: 'eth0', peer: '192.0.2.2', ...extra }]; break;
    case 'instances[].witness[]': inst['paths'] = [{ interface: 'eth0', peer: '192.0.2.2' }]; inst['witness'] = [{ type, ...extra }]; break;
    case 'instances[].virtual-services[]': inst['virtual-services'] = [{ port: 80, 'real-servers': [{ address: '10.0.0.11' }], ...extra }]; break;
    case 'instances[].guards[]': inst['guards'] = [{ command: ['/bin/true'], ...extra }]; break;
    case 'instances[].cold-start': inst['cold-start'] = extra; break;
    case 'instances[].virtual-services[].real-servers[]': inst['virtual-services'] = [{ port: 80, 'real-servers': [{ address: '10.0.0.11', ...extra }] }]; break;
    case 'instances[].conntrack-sync': inst['conntrack-sync'] = { ...SYNC, ...extra }; break;
    case 'instances[].conntrack-sync.redundant[]': inst['conntrack-sync'] = { ...SYNC, redundant: [{ interface: 'eth2', local: '10.79.0.1', peer: '10.79.0.2', ...extra }] }; break;
    default: throw new Error(`no config builder for ${path}: add one when adding a group`);
  }
  return top;
}

/** The validator's allowed keys at `path`, read from its unknown-key message. */
function allowedKeys(path: string, type?: string): string[] {
  const r = validateConfig(configWith(path, { [UNKNOWN]: 1 }, type));
  const msg = r.ok ? undefined : r.errors.map((e) => e.message).find((m) => m.includes(`unknown key "${UNKNOWN}"`));
  if (msg === undefined) throw new Error(`${path}: the unknown key was not reported (${r.ok ? 'accepted' : r.errors.map((e) => e.message).join('; ')})`);
  const m = /\(allowed: ([^)]*)\)/.exec(msg);
  return (m?.[1] ?? '').split(', ').sort();
}

/** The `type` values that pick keys in this group (checks, witnesses), or [undefined]. */
function typesOf(g: ConfigKeyGroup): Array<string | undefined> {
  const typeKey = g.keys.find((k) => k.key === 'type');
  const fromOnly = [...new Set(g.keys.flatMap((k) => k.onlyFor ?? []))];
  return typeKey !== undefined && fromOnly.length > 0 ? fromOnly : [undefined];
}

t.test('every mapping the validator checks has a group, and each group matches its allowed keys', (t) => {
  for (const g of CONFIG_KEY_GROUPS) {
    for (const type of typesOf(g)) {
      const documented = g.keys.filter((k) => k.onlyFor === undefined || (type !== undefined && k.onlyFor.includes(type))).map((k) => k.key).sort();
      t.same(documented, allowedKeys(g.path, type), `${g.path || '(top level)'}${type === undefined ? '' : ` type ${type}`}: documented = accepted`);
    }
  }
  t.end();
});

t.test('every documented key, set to its example, is not reported unknown', (t) => {
  for (const g of CONFIG_KEY_GROUPS) {
    for (const k of g.keys) {
      const type = k.onlyFor?.[0] ?? typesOf(g)[0];
      const r = validateConfig(configWith(g.path, { [k.key]: k.example }, type));
      const unknown = r.ok ? [] : r.errors.filter((e) => e.message.startsWith('unknown key'));
      t.same(unknown.map((e) => `${e.path}: ${e.message}`), [], `${g.path}.${k.key}`);
    }
  }
  t.end();
});

t.test('the check can fail: a key missing from the registry shows up as a difference', (t) => {
  const g = CONFIG_KEY_GROUPS.find((x) => x.path === 'instances[].garp');
  t.ok(g);
  const documented = (g?.keys ?? []).filter((k) => k.key !== 'refresh').map((k) => k.key).sort();
  t.not(JSON.stringify(documented), JSON.stringify(allowedKeys('instances[].garp')));
  t.end();
});

t.test('every key has a type, a default, a description and an example; no key twice in a group', (t) => {
  for (const g of CONFIG_KEY_GROUPS) {
    const names = g.keys.map((k) => k.key);
    t.equal(new Set(names).size, names.length, `${g.path}: unique keys`);
    for (const k of g.keys) {
      for (const f of ['type', 'default', 'description', 'example'] as const) t.ok(k[f].trim() !== '', `${g.path}.${k.key}.${f}`);
    }
  }
  t.end();
});
