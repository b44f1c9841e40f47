import t from 'tap';
import { ConfigError, HAAGENT_ERROR_CODES, HaagentError, errorMessage, isHaagentErrorCode } from '../../src/core/errors.js';

t.test('ConfigError names the key path and line', (t) => {
  const e = new ConfigError('instances[0].vrid', 'must be 1..255', 7);
  t.ok(e instanceof HaagentError);
  t.equal(e.code, 'HA_ERR_CONFIG');
  t.equal(e.message, 'instances[0].vrid (line 7): must be 1..255');
  t.end();
});

t.test('isHaagentErrorCode: our codes only (a code read from the control socket is checked)', async (t) => {
  t.equal(isHaagentErrorCode('HA_ERR_LIMIT'), true);
  t.equal(isHaagentErrorCode('HA_ERR_CONFIG'), true);
  t.equal(isHaagentErrorCode('HA_ERR_NOPE'), false);
  t.equal(isHaagentErrorCode(42), false);
  t.equal(new Set(HAAGENT_ERROR_CODES).size, HAAGENT_ERROR_CODES.length, 'no code twice');
});

t.test('errorMessage: an Error gives its message, anything else its string form', async (t) => {
  t.equal(errorMessage(new HaagentError('HA_ERR_LIMIT', 'too many')), 'too many');
  t.equal(errorMessage(new Error('boom', { cause: new Error('under') })), 'boom', 'the cause is not added');
  t.equal(errorMessage('plain'), 'plain');
  t.equal(errorMessage(undefined), 'undefined');
  t.equal(errorMessage(42), '42');
});
