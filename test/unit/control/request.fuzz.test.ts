/**
 * Fuzz (fast-check, seeded, bounded): parseControlRequest never throws on any string and always
 * answers with a request or a short, printable error with a known code. The inputs mix arbitrary
 * UTF-16 (lone surrogates included), request-shaped JSON with arbitrary field values, deep and
 * unbalanced bracket nesting, huge numbers and long strings.
 */
import fc from 'fast-check';
import t from 'tap';
import { CONTROL_COMMANDS, MAX_REQUEST_CHARS, parseControlRequest } from '../../../src/core/control/types.js';
import { ALL_EVENT_TYPES } from '../../../src/core/control/events.js';

const SEED = 20261130;
/** The longest error message the parser may produce: fixed text plus one bounded excerpt. */
const MAX_MESSAGE_CHARS = 300;

const anyUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)), maxLength: 400 });
const bracketSoup = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', '1', 'a', ' '), maxLength: 2000 });
const deep = fc.record({
  depth: fc.integer({ min: 1, max: 20_000 }),
  open: fc.constantFrom('[', '{"a":', '{"command":', '["\\"",'),
  close: fc.boolean(),
}).map(({ depth, open, close }) => `{"command":${open.repeat(depth)}1${close ? (open.startsWith('[') ? ']' : '}').repeat(depth) : ''}}`);
const hugeNumber = fc.oneof(
  fc.bigInt({ min: -(10n ** 400n), max: 10n ** 400n }).map(String),
  fc.constantFrom('1e999999', '-1e-999999', '-0', '0.' + '9'.repeat(5000), '1' + '0'.repeat(60_000)),
).map((n) => `{"command":${n},"on":${n},"instance":${n}}`);
const fieldValue = fc.oneof(fc.jsonValue({ maxDepth: 12 }), anyUtf16, fc.constantFrom(...CONTROL_COMMANDS, ...ALL_EVENT_TYPES));
const requestShaped = fc.record({
  command: fc.oneof(fc.constantFrom(...CONTROL_COMMANDS), fieldValue),
  on: fieldValue,
  instance: fieldValue,
  types: fc.oneof(fc.array(fc.constantFrom(...ALL_EVENT_TYPES)), fieldValue),
}, { requiredKeys: [] }).map((r) => JSON.stringify(r));
const longLine = fc.integer({ min: MAX_REQUEST_CHARS - 50, max: MAX_REQUEST_CHARS + 50 }).map((n) => `{"command":"${'\u00e9'.repeat(n)}"}`);

const anyLine = fc.oneof(anyUtf16, bracketSoup, deep, hugeNumber, requestShaped, longLine);

/** A message a terminal prints as is: no control, format or separator characters. */
const printable = (s: string): boolean => !/[\p{C}\p{Zl}\p{Zp}]/u.test(s);

t.test('parseControlRequest never throws and always answers ok or a bounded, printable error', (t) => {
  let refused = 0;
  fc.assert(fc.property(anyLine, (line) => {
    const r = parseControlRequest(line);
    if (r.ok) return typeof r.request.command === 'string';
    refused++;
    return (r.code === 'HA_ERR_LIMIT' || r.code === 'HA_ERR_INVALID_ARGUMENT') && r.message.length <= MAX_MESSAGE_CHARS && printable(r.message);
  }), { seed: SEED, numRuns: 3000, interruptAfterTimeLimit: 8000 });
  t.ok(refused > 0, 'the generators reach the error paths', { refused });
  t.end();
});

t.test('every well-formed request is accepted, whatever its strings contain', (t) => {
  const name = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', '\u00e9', '\ud83d\ude00'), minLength: 1, maxLength: 200 });
  const valid = fc.oneof(
    fc.record({ command: fc.constant('status' as const) }),
    fc.record({ command: fc.constant('maintenance' as const), on: fc.boolean(), instance: name }),
    fc.record({ command: fc.constant('switchover' as const), instance: name }),
    fc.record({ command: fc.constant('events' as const), types: fc.uniqueArray(fc.constantFrom(...ALL_EVENT_TYPES)) }),
  );
  fc.assert(fc.property(valid, (req) => {
    const r = parseControlRequest(JSON.stringify(req));
    return r.ok && JSON.stringify(r.request) === JSON.stringify(req);
  }), { seed: SEED, numRuns: 1000, interruptAfterTimeLimit: 4000 });
  t.pass('1000 runs');
  t.end();
});
