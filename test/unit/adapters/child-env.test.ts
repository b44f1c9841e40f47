import t from 'tap';
import { DEFAULT_LANG, SAFE_PATH, childEnvironment } from '../../../src/adapters/child-env.js';

const agent = { PATH: '/home/op/bin:/usr/bin', LANG: 'fr_FR.UTF-8', AWS_SECRET_ACCESS_KEY: 'k', NOTIFY_SOCKET: '/run/n', PGPASSFILE: '/etc/pgpass' };

t.test('only PATH (fixed), LANG and the caller\'s variables when nothing is listed', (t) => {
  t.same(childEnvironment([], { HAAGENT_STATE: 'MASTER' }, agent), { PATH: SAFE_PATH, LANG: 'fr_FR.UTF-8', HAAGENT_STATE: 'MASTER' });
  t.same(childEnvironment([], {}, {}), { PATH: SAFE_PATH, LANG: DEFAULT_LANG }, 'LANG defaults when the agent has none');
  t.same(childEnvironment([], {}, { LANG: '' }), { PATH: SAFE_PATH, LANG: DEFAULT_LANG }, 'an empty LANG counts as none');
  t.end();
});

t.test('listed names come from the agent (absent ones are left out); literals as given; the caller wins', (t) => {
  const env = childEnvironment(
    [{ name: 'PGPASSFILE' }, { name: 'MISSING' }, { name: 'TZ', value: 'UTC' }, { name: 'PATH' }, { name: 'HAAGENT_STATE', value: 'X' }],
    { HAAGENT_STATE: 'MASTER' }, agent,
  );
  t.same(env, { PATH: '/home/op/bin:/usr/bin', LANG: 'fr_FR.UTF-8', PGPASSFILE: '/etc/pgpass', TZ: 'UTC', HAAGENT_STATE: 'MASTER' });
  t.notOk('AWS_SECRET_ACCESS_KEY' in env || 'NOTIFY_SOCKET' in env);
  t.same(agent.PATH, '/home/op/bin:/usr/bin', 'the agent\'s environment is not changed');
  t.end();
});
