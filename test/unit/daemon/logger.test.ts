/** The agent's log lines: JSON fields, the text format, journald priority prefixes, user errors. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/adapters/package-info.js';
import { ConfigError, HaagentError } from '../../../src/core/errors.js';
import { ConfigInvalidError } from '../../../src/core/config/invalid.js';
import {
  chooseLogOutput, createLogger, formatTextEntry, isJournalStream, syslogPriority,
  type LogFormat, type LogLevel,
} from '../../../src/daemon/logger.js';

/** A logger writing into an array; `lines()` splits what was written into lines. */
function capture(format: LogFormat, priorityPrefix: boolean, level: LogLevel = 'trace'): { log: ReturnType<typeof createLogger>; lines: () => string[] } {
  const chunks: string[] = [];
  const log = createLogger({ level, format, priorityPrefix, sink: { write: (s: string) => { chunks.push(s); } } });
  return { log, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

const badConfig = (): ConfigInvalidError => new ConfigInvalidError('/etc/haagent/haagent.yaml', [
  new ConfigError('instances[0].vrid', 'must be an integer from 1 to 255, got 300', 3),
  new ConfigError('instances[0].vips', 'needs at least one address', 4),
]);

t.test('json: level name, ISO time, pid, msg and fields', (t) => {
  const { log, lines } = capture('json', false);
  log.child({ instance: 'vrid51' }).warn({ vip: '10.0.0.1/24' }, 'VIP removed by someone else');
  const [line] = lines();
  const e = JSON.parse(line ?? '') as Record<string, unknown>;
  t.equal(e['level'], 'warn');
  t.type(e['time'], 'string');
  t.equal(new Date(e['time'] as string).toISOString(), e['time'], 'time is ISO 8601');
  t.equal(e['pid'], process.pid);
  t.equal(e['msg'], 'VIP removed by someone else');
  t.equal(e['instance'], 'vrid51');
  t.equal(e['vip'], '10.0.0.1/24');
  t.end();
});

t.test('level filter still applies', (t) => {
  const { log, lines } = capture('json', false, 'warn');
  log.info('hidden');
  log.error('shown');
  t.same(lines().map((l) => (JSON.parse(l) as { msg: string }).msg), ['shown']);
  t.end();
});

t.test('a user error logs one line, its code and message, no stack', (t) => {
  for (const format of ['json', 'text'] as const) {
    const { log, lines } = capture(format, false);
    const err = new HaagentError('HA_ERR_CONFIG', `reload refused, the running config stays: ${badConfig().message}`, { cause: badConfig() });
    log.error({ err }, 'reload refused: the running config stays');
    const out = lines();
    t.equal(out.length, 1, `${format}: one line`);
    const text = out.join('\n');
    t.notMatch(text, /\bat .*\.(ts|js):\d+/, `${format}: no stack frame`);
    t.notMatch(text, /aggregateErrors|"stack"/, `${format}: neither the nested errors nor a stack`);
    t.match(text, /instances\[0\]\.vrid \(line 3\): must be an integer from 1 to 255, got 300/, `${format}: the problem and where it is`);
    t.ok(text.length < 600, `${format}: short (${text.length} bytes)`);
    if (format === 'json') t.same((JSON.parse(text) as { err: unknown }).err, { type: 'HaagentError', code: 'HA_ERR_CONFIG', message: err.message });
  }
  for (const code of ['HA_ERR_INVALID_ARGUMENT', 'HA_ERR_LIMIT'] as const) {
    const { log, lines } = capture('json', false);
    log.warn({ err: new HaagentError(code, 'request line over 65536 bytes') }, 'bad control request');
    t.same((JSON.parse(lines()[0] ?? '') as { err: unknown }).err, { type: 'HaagentError', code, message: 'request line over 65536 bytes' }, code);
  }
  t.end();
});

t.test('an unexpected error keeps its stack', (t) => {
  const { log, lines } = capture('json', false);
  const err = new Error('boom');
  log.error({ err }, 'applying failed');
  const e = JSON.parse(lines()[0] ?? '') as { err: { message: string; stack: string } };
  t.equal(e.err.message, 'boom');
  t.match(e.err.stack, /logger\.test\.ts:\d+/);
  const io = new HaagentError('HA_ERR_NETLINK', 'RTM_NEWADDR failed: EPERM');
  const c = capture('text', false);
  c.log.error({ err: io }, 'adding VIP failed');
  const out = c.lines();
  t.match(out[0], /ERROR adding VIP failed err="RTM_NEWADDR failed: EPERM" code=HA_ERR_NETLINK$/);
  t.ok(out.length > 1, 'stack frames on the following lines');
  t.ok(out.slice(1).every((l) => l.startsWith('    at ')), 'indented frames');
  t.end();
});

t.test('text: one readable line per event', (t) => {
  const { log, lines } = capture('text', false);
  log.child({ instance: 'vrid51', vrid: 51 }).info({ from: 'BACKUP', to: 'MASTER', reason: 'master-down timer expired' }, 'BACKUP -> MASTER: master-down timer expired');
  log.info({ vips: ['10.0.0.1/24'], detail: 'a\nb' }, 'line one\nline two');
  const out = lines();
  t.equal(out.length, 2);
  t.match(out[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}\[vrid51\] BACKUP -> MASTER: master-down timer expired vrid=51 from=BACKUP to=MASTER reason="master-down timer expired"$/);
  t.notMatch(out[0], /pid=/);
  t.match(out[1], /INFO {2}line one\\nline two vips=\["10\.0\.0\.1\/24"\] detail="a\\nb"$/, 'newlines escaped: still one line');
  t.end();
});

t.test('formatTextEntry without time, odd values', (t) => {
  t.same(formatTextEntry({ level: 'debug', time: '2026-01-01T00:00:00.000Z', msg: 'x', n: 3, ok: true, s: '' }, { withTime: false }), ['DEBUG x n=3 ok=true s=""']);
  t.same(formatTextEntry({ level: 'info', msg: 'x', err: 'plain string' }, { withTime: true }), ['INFO  x err="plain string"']);
  t.end();
});

t.test('priority prefixes: sd-daemon syslog priorities per level', (t) => {
  t.same([10, 20, 30, 40, 50, 60].map(syslogPriority), [7, 7, 6, 4, 3, 2]);
  const { log, lines } = capture('text', true);
  log.trace('t'); log.debug('d'); log.info('i'); log.warn('w'); log.error('e'); log.fatal('f');
  t.same(lines(), ['<7>TRACE t', '<7>DEBUG d', '<6>INFO  i', '<4>WARN  w', '<3>ERROR e', '<2>FATAL f'], 'journald text: prefix, no time');
  const j = capture('json', true);
  j.log.warn({ a: 1 }, 'w');
  const [line] = j.lines();
  t.match(line, /^<4>\{/);
  t.equal((JSON.parse((line ?? '').slice(3)) as { level: string }).level, 'warn');
  const s = capture('text', true);
  s.log.error({ err: new Error('boom') }, 'failed');
  const out = s.lines();
  t.ok(out.length > 1 && out.every((l) => l.startsWith('<3>')), 'every stack line carries the error priority');
  t.end();
});

t.test('format choice: journald text+prefix, terminal text, else json', (t) => {
  t.same(chooseLogOutput('auto', { isTTY: false, journal: true }), { format: 'text', priorityPrefix: true });
  t.same(chooseLogOutput('auto', { isTTY: true, journal: false }), { format: 'text', priorityPrefix: false });
  t.same(chooseLogOutput('auto', { isTTY: false, journal: false }), { format: 'json', priorityPrefix: false });
  t.same(chooseLogOutput('json', { isTTY: true, journal: true }), { format: 'json', priorityPrefix: true });
  t.same(chooseLogOutput('text', { isTTY: false, journal: false }), { format: 'text', priorityPrefix: false });
  t.end();
});

t.test('journal detection compares JOURNAL_STREAM with the fd itself', (t) => {
  const dir = t.testdir({ 'out.log': '' });
  const fd = openSync(join(dir, 'out.log'), 'a');
  t.teardown(() => closeSync(fd));
  const st = fstatSync(fd, { bigint: true });
  t.ok(isJournalStream(`${st.dev}:${st.ino}`, fd), 'matching device:inode');
  t.notOk(isJournalStream(`${st.dev}:${st.ino + 1n}`, fd), 'another inode (the variable was inherited)');
  t.notOk(isJournalStream(undefined, fd), 'unset');
  t.notOk(isJournalStream('garbage', fd), 'malformed');
  t.notOk(isJournalStream(`${st.dev}:${st.ino}`, 987654), 'closed fd');
  t.end();
});

t.test('the agent logger picks the format from its real stdout (built module, child process)', (t) => {
  const built = join(packageRoot(), 'dist', 'src', 'daemon', 'logger.js');
  if (!existsSync(built)) {
    t.pass('skipped: dist/ is not built (npm run build)');
    return t.end();
  }
  const dir = t.testdir({});
  const run = (name: string, journal: (dev: bigint, ino: bigint) => string | undefined): string => {
    const path = join(dir, name);
    const fd = openSync(path, 'w');
    const st = fstatSync(fd, { bigint: true });
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '' };
    const js = journal(st.dev, st.ino);
    if (js !== undefined) env['JOURNAL_STREAM'] = js;
    const code = `import(${JSON.stringify(built)}).then((m) => { const l = m.createAgentLogger('info', 'auto'); l.warn({ vip: '10.0.0.1/24' }, 'careful'); l.info('fine'); l.flush(); })`;
    const r = spawnSync(process.execPath, ['-e', code], { stdio: ['ignore', fd, 'pipe'], env, timeout: 20_000 });
    closeSync(fd);
    t.equal(r.status, 0, `${name}: ran (${String(r.stderr)})`);
    return readFileSync(path, 'utf8');
  };
  const journal = run('journal.log', (dev, ino) => `${dev}:${ino}`);
  t.same(journal.split('\n').filter((l) => l !== ''), ['<4>WARN  careful vip=10.0.0.1/24', '<6>INFO  fine'], 'stdout is the journal: text with priority prefixes');
  const inherited = run('inherited.log', (dev, ino) => `${dev}:${ino + 1n}`);
  const lines = inherited.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: string; msg: string });
  t.same(lines.map((l) => [l.level, l.msg]), [['warn', 'careful'], ['info', 'fine']], 'JOURNAL_STREAM of another stream: JSON');
  t.end();
});
