/** keepalived command lines -> argument vectors without a shell; lines that need a shell are refused. */
import t from 'tap';
import { splitCommand } from '../../../src/core/import/command.js';

t.test('words, quotes and escapes become an argument vector', (t) => {
  t.same(splitCommand('/usr/bin/killall -0 haproxy'), { ok: true, argv: ['/usr/bin/killall', '-0', 'haproxy'] });
  t.same(splitCommand("  /bin/check   'a b'  \"c d\" e\\ f  "), { ok: true, argv: ['/bin/check', 'a b', 'c d', 'e f'] });
  t.same(splitCommand("/bin/sh -c 'pidof x | wc -l'"), { ok: true, argv: ['/bin/sh', '-c', 'pidof x | wc -l'] }, 'an explicit shell is fine');
  t.same(splitCommand("/bin/x ''"), { ok: true, argv: ['/bin/x', ''] }, 'an empty quoted argument is kept');
  t.end();
});

t.test('anything a shell would interpret is reported, not wrapped', (t) => {
  for (const line of ['cat /proc/x | grep y', '/bin/a && /bin/b', '/bin/a; /bin/b', '/bin/a > /tmp/log', '/bin/a < in',
    '/bin/check $HOST', '/bin/check "$HOST"', '/bin/ls /tmp/*.pid', '/bin/echo `id`', '/bin/ls ~/x', '/bin/a || /bin/b', '/bin/a &']) {
    const r = splitCommand(line);
    t.equal(r.ok, false, line);
    if (!r.ok) t.match(r.reason, /needs a shell/, line);
  }
  t.match(splitCommand('/bin/a "open'), { ok: false, reason: /double quote is not closed/ });
  t.match(splitCommand('   '), { ok: false, reason: /empty/ });
  t.end();
});
