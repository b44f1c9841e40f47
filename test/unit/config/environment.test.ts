import t from 'tap';
import fc from 'fast-check';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { validateConfig } from '../../../src/core/config/validate.js';
import { ENVIRONMENT_NAME, MAX_ENVIRONMENT_ENTRIES } from '../../../src/core/config/hooks.js';

const base = 'instances:\n  - vrid: 1\n    interface: eth0\n    vips: [10.0.0.1/24]\n';

t.test('environment: names and NAME=value literals, in order, frozen; absent = none', (t) => {
  const r = parseConfigYaml(`${base}    environment: [PGPASSFILE, http_proxy, "TZ=UTC", "EMPTY=", "OPTS=a=b c"]\n`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const env = r.config.instances[0]?.environment;
  t.same(env, [
    { name: 'PGPASSFILE' }, { name: 'http_proxy' }, { name: 'TZ', value: 'UTC' }, { name: 'EMPTY', value: '' }, { name: 'OPTS', value: 'a=b c' },
  ]);
  t.notOk(env !== undefined && 'value' in (env[0] ?? {}), 'a bare name has no value field (taken from the agent at run time)');
  t.ok(Object.isFrozen(env) && Object.isFrozen(env?.[2]));
  const none = parseConfigYaml(base);
  t.same(none.ok ? none.config.instances[0]?.environment : undefined, []);
  t.end();
});

t.test('environment errors name the entry\'s path and line; literal values are never echoed', (t) => {
  const r = parseConfigYaml(`${base}    environment:
      - PGPASSFILE
      - 1BAD
      - "HAAGENT_STATE=MASTER"
      - "bad-name=x"
      - PGPASSFILE
      - 42
      - "=topsecret"
      - "NUL=a\\0topsecret"
  - vrid: 2
    interface: eth0
    vips: [10.0.0.2/24]
    environment: PGPASSFILE
`);
  t.notOk(r.ok);
  if (r.ok) return t.end();
  const msgs = r.errors.map((e) => e.message).join('\n');
  t.match(msgs, /instances\[0\]\.environment\[1\] \(line 7\): "1BAD" is not a valid variable name/);
  t.match(msgs, /instances\[0\]\.environment\[2\] \(line 8\): HAAGENT_STATE: HAAGENT_\* variables are set by the agent and cannot be overridden/);
  t.match(msgs, /instances\[0\]\.environment\[3\] \(line 9\): "bad-name" is not a valid variable name/);
  t.match(msgs, /instances\[0\]\.environment\[4\] \(line 10\): PGPASSFILE is listed twice/);
  t.match(msgs, /instances\[0\]\.environment\[5\] \(line 11\): must be a string NAME or NAME=value, got number/);
  t.match(msgs, /instances\[0\]\.environment\[6\] \(line 12\): "" is not a valid variable name/);
  t.match(msgs, /instances\[0\]\.environment\[7\] \(line 13\): the value of NUL contains a NUL character/);
  t.match(msgs, /instances\[1\]\.environment \(line 17\): must be a list/);
  t.notMatch(msgs, /topsecret|MASTER/, 'no literal value in any message');
  t.equal(r.errors.length, 8, 'one error per bad entry, none for the good ones');
  t.end();
});

t.test('environment is bounded: more than MAX_ENVIRONMENT_ENTRIES entries, over-long names and values', (t) => {
  const many = Array.from({ length: MAX_ENVIRONMENT_ENTRIES + 1 }, (_, i) => `V${i}`);
  const r = validateConfig({ instances: [{ vrid: 1, interface: 'eth0', vips: ['10.0.0.1/24'], environment: many }] });
  t.notOk(r.ok);
  t.match(r.ok ? '' : r.errors.map((e) => e.message).join('\n'), new RegExp(`instances\\[0\\]\\.environment: has ${MAX_ENVIRONMENT_ENTRIES + 1} entries; at most ${MAX_ENVIRONMENT_ENTRIES}`));
  const exact = validateConfig({ instances: [{ vrid: 1, interface: 'eth0', vips: ['10.0.0.1/24'], environment: many.slice(1) }] });
  t.ok(exact.ok, `${MAX_ENVIRONMENT_ENTRIES} entries are fine`);
  const long = validateConfig({ instances: [{ vrid: 1, interface: 'eth0', vips: ['10.0.0.1/24'], environment: ['N'.repeat(129), `V=${'x'.repeat(4097)}`] }] });
  const msgs = long.ok ? '' : long.errors.map((e) => e.message).join('\n');
  t.match(msgs, /environment\[0\]: the name is longer than 128 characters/);
  t.match(msgs, /environment\[1\]: the value of V is longer than 4096 characters/);
  t.end();
});

t.test('property: an entry is accepted exactly when its name is valid and not HAAGENT_*', (t) => {
  fc.assert(fc.property(fc.string({ maxLength: 20 }), fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), (name, value) => {
    const entry = value === undefined ? name : `${name}=${value}`;
    const r = validateConfig({ instances: [{ vrid: 1, interface: 'eth0', vips: ['10.0.0.1/24'], environment: [entry] }] });
    const nameOfEntry = entry.split('=')[0] ?? '';
    const valid = ENVIRONMENT_NAME.test(nameOfEntry) && !nameOfEntry.startsWith('HAAGENT_') && !entry.includes('\0');
    if (r.ok !== valid) return false;
    if (r.ok) {
      const got = r.config.instances[0]?.environment[0];
      const eq = entry.indexOf('=');
      return got?.name === nameOfEntry && got.value === (eq < 0 ? undefined : entry.slice(eq + 1));
    }
    return true;
  }), { seed: 0x5eed, numRuns: 500 });
  t.end();
});
