import t from 'tap';
import { parseControlRequest } from '../../../src/core/control/types.js';

t.test('control requests: valid, and each malformed kind with a reason', (t) => {
  t.same(parseControlRequest('{"command":"status"}'), { ok: true, request: { command: 'status' } });
  t.same(parseControlRequest('{"command":'), { ok: false, message: 'request is not valid JSON' });
  t.same(parseControlRequest('[1]'), { ok: false, message: 'request must be a JSON object' });
  t.same(parseControlRequest('null'), { ok: false, message: 'request must be a JSON object' });
  const unknown = parseControlRequest('{"command":"reboot"}');
  t.notOk(unknown.ok);
  if (!unknown.ok) t.match(unknown.message, /unknown command "reboot"/);
  t.end();
});
