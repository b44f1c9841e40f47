import t from 'tap';
import { excerpt, MAX_REQUEST_CHARS, MAX_REQUEST_DEPTH, nestingPastDepth, parseControlRequest } from '../../../src/core/control/types.js';

const invalid = (message: string): object => ({ ok: false, code: 'HA_ERR_INVALID_ARGUMENT', message });

t.test('control requests: valid, and each malformed kind with a reason', (t) => {
  t.same(parseControlRequest('{"command":"status"}'), { ok: true, request: { command: 'status' } });
  t.same(parseControlRequest('{"command":'), invalid('request is not valid JSON'));
  t.same(parseControlRequest('[1]'), invalid('request must be a JSON object'));
  t.same(parseControlRequest('null'), invalid('request must be a JSON object'));
  const unknown = parseControlRequest('{"command":"reboot"}');
  t.notOk(unknown.ok);
  if (!unknown.ok) t.match(unknown.message, /unknown command "reboot"/);
  t.end();
});

t.test('every field is checked, and the message names what came instead', (t) => {
  t.match(parseControlRequest('{}'), invalid('request has no "command" (known: status, maintenance, switchover, reload, events, promote)'));
  t.match(parseControlRequest('{"command":[1,2,3]}'), { code: 'HA_ERR_INVALID_ARGUMENT', message: /^unknown command an array of 3 item\(s\)/ });
  t.match(parseControlRequest('{"command":{"a":1}}'), { message: /^unknown command an object/ });
  t.match(parseControlRequest('{"command":1e999}'), { message: /^unknown command Infinity/ });
  t.match(parseControlRequest('{"command":"maintenance","on":"yes"}'), invalid('maintenance needs "on": true or false, got "yes"'));
  t.match(parseControlRequest('{"command":"switchover","instance":7}'), invalid('"instance" must be a non-empty string, got 7'));
  t.match(parseControlRequest('{"command":"events","types":["transition","nope"]}'), { code: 'HA_ERR_INVALID_ARGUMENT', message: /got "nope"$/ });
  t.match(parseControlRequest('{"command":"events","types":"drop"}'), { message: /got "drop"$/ });
  t.same(parseControlRequest('{"command":"events","types":["drop","transition"]}'), { ok: true, request: { command: 'events', types: ['drop', 'transition'] } });
  t.same(parseControlRequest('{"command":"maintenance","on":false,"instance":"web","extra":[[1]]}'), { ok: true, request: { command: 'maintenance', on: false, instance: 'web' } });
  t.end();
});

t.test('over-bound input is refused with HA_ERR_LIMIT before it is parsed', (t) => {
  const nested = `{"command":${'['.repeat(4000)}${']'.repeat(4000)}}`;
  t.match(parseControlRequest(nested), { ok: false, code: 'HA_ERR_LIMIT', message: `request nests brackets deeper than ${MAX_REQUEST_DEPTH} levels (at character 19); requests are flat objects` });
  // Unbalanced and never closed: still refused by depth, not parsed.
  t.match(parseControlRequest('{'.repeat(9)), { code: 'HA_ERR_LIMIT', message: /at character 9\)/ });
  const exactly = `${'['.repeat(MAX_REQUEST_DEPTH - 1)}{"command":"status"}${']'.repeat(MAX_REQUEST_DEPTH - 1)}`;
  t.match(parseControlRequest(exactly), invalid('request must be a JSON object'), 'depth 8 is parsed (and refused for its shape)');
  const long = `{"command":"status","pad":"${'x'.repeat(MAX_REQUEST_CHARS)}"}`;
  t.match(parseControlRequest(long), { code: 'HA_ERR_LIMIT', message: `request is ${long.length} characters long; at most ${MAX_REQUEST_CHARS}` });
  t.end();
});

t.test('brackets inside strings (and escaped quotes) do not count as nesting', (t) => {
  const instance = `a\\"${'[{'.repeat(50)}`;
  t.same(parseControlRequest(`{"command":"switchover","instance":"${instance}"}`), { ok: true, request: { command: 'switchover', instance: `a"${'[{'.repeat(50)}` } });
  t.equal(nestingPastDepth('["\\\\"]', 1), -1, 'an escaped backslash ends before the closing quote');
  t.equal(nestingPastDepth('[[', 1), 1);
  t.equal(nestingPastDepth('"[[[', 1), -1, 'an unterminated string hides its brackets');
  t.end();
});

t.test('excerpts are bounded and printable', (t) => {
  const r = parseControlRequest(JSON.stringify({ command: `\u001b[31m${'x'.repeat(10_000)}` }));
  t.notOk(r.ok);
  if (!r.ok) {
    t.ok(r.message.length < 200, 'a 10,000-character command is quoted in under 200 characters', { length: r.message.length });
    t.match(r.message, /^unknown command "\\u001b\[31mxxx/);
    t.match(r.message, /\.\.\."/, 'the cut is marked');
  }
  t.equal(excerpt('a\u202eb\u2028c'), '"a\\u202eb\\u2028c"', 'bidi overrides and line separators are escaped');
  t.equal(excerpt('\ud800'), '"\\ud800"', 'a lone surrogate is escaped');
  t.equal(excerpt('h\u00e9llo w\u00f6rld'), '"h\u00e9llo w\u00f6rld"', 'ordinary letters stay as they are');
  t.equal(excerpt(undefined), 'nothing');
  t.equal(excerpt(null), 'null');
  t.end();
});

t.test('promote needs force: true', (t) => {
  t.same(parseControlRequest('{"command":"promote","force":true}'), { ok: true, request: { command: 'promote', force: true } });
  t.same(parseControlRequest('{"command":"promote","force":true,"instance":"db"}'), { ok: true, request: { command: 'promote', force: true, instance: 'db' } });
  t.match(parseControlRequest('{"command":"promote"}'), invalid('promote overrides the takeover guards and needs "force": true, got nothing'));
  t.match(parseControlRequest('{"command":"promote","force":"yes"}'), invalid('promote overrides the takeover guards and needs "force": true, got "yes"'));
  t.end();
});
