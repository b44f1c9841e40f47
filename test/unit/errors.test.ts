import t from 'tap';
import { ConfigError, HaagentError } from '../../src/core/errors.js';

t.test('ConfigError names the key path and line', (t) => {
  const e = new ConfigError('instances[0].vrid', 'must be 1..255', 7);
  t.ok(e instanceof HaagentError);
  t.equal(e.code, 'HA_ERR_CONFIG');
  t.equal(e.message, 'instances[0].vrid (line 7): must be 1..255');
  t.end();
});
