/**
 * The agent's logger: pino, configured for where its stdout goes.
 *
 * - json: one JSON object per line with `level` as a name ("info", "warn", ...), `time` as an
 *   ISO 8601 string, `pid`, `msg` and the event's fields.
 * - text: one line per event, `<time> <LEVEL> [<instance>] <msg> key=value ...`; an unexpected
 *   error adds its stack on the indented lines after it.
 * - journald (stdout is the journal stream systemd set up): every line starts with the sd-daemon
 *   syslog priority prefix "<N>", which journald reads by default (SyslogLevelPrefix=yes), so
 *   warn and error reach `journalctl -p warning` / `-p err`; text lines leave the time out
 *   (the journal stamps each entry).
 *
 * Errors a user caused (a bad config on reload, a bad argument, an input over a bound) are
 * logged as their code and message only: the message already names the problem and where it
 * is. Any other error keeps pino's standard serialization, stack included.
 *
 * Deliberately not here: log rotation, colours, a second output. The text format is for people;
 * programs read the JSON format.
 */
import { fstatSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';
import { HaagentError, type HaagentErrorCode } from '../core/errors.js';
import { isoTime } from '../adapters/iso-time.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `auto`: text with priority prefixes under journald, text on a terminal, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormatChoice = (typeof LOG_FORMATS)[number];
export type LogFormat = Exclude<LogFormatChoice, 'auto'>;

export interface LogOutput {
  readonly format: LogFormat;
  /** Start every line with "<N>" (syslog priority, sd-daemon(3)); only when stdout is the journal. */
  readonly priorityPrefix: boolean;
}

/** Codes whose message says all an operator needs: logged without a stack. */
const USER_ERROR_CODES: ReadonlySet<HaagentErrorCode> = new Set<HaagentErrorCode>(['HA_ERR_CONFIG', 'HA_ERR_INVALID_ARGUMENT', 'HA_ERR_LIMIT']);

/** The `err` serializer: a user error as `{ type, code, message }`, anything else as pino's standard. */
export function serializeError(err: unknown): unknown {
  if (err instanceof HaagentError && USER_ERROR_CODES.has(err.code)) return { type: err.constructor.name, code: err.code, message: err.message };
  return err instanceof Error ? pino.stdSerializers.err(err) : err;
}

/** pino level number -> syslog priority: fatal 2 (crit), error 3, warn 4, info 6, debug and trace 7. */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/**
 * Whether `fd` is the journal stream: systemd sets JOURNAL_STREAM to "<device>:<inode>" of the
 * stream it connected, and systemd.exec(5) asks programs to compare it with the fd itself, since
 * the variable is inherited by processes whose output goes elsewhere (a pipe, a terminal).
 */
export function isJournalStream(journalStream: string | undefined, fd: number): boolean {
  const m = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  if (m === null) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1] ?? '') && st.ino === BigInt(m[2] ?? '');
  } catch {
    return false;
  }
}

/** The format `choice` means for a stdout that is (or is not) a terminal or the journal. */
export function chooseLogOutput(choice: LogFormatChoice, stdout: { readonly isTTY: boolean; readonly journal: boolean }): LogOutput {
  const format: LogFormat = choice !== 'auto' ? choice : stdout.journal || stdout.isTTY ? 'text' : 'json';
  return { format, priorityPrefix: stdout.journal };
}

/** Fields a text line shows in its fixed columns, or (pid: the journal and the terminal know it) not at all. */
const FIXED_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'instance', 'err']);
const MAX_CAUSES = 5;

/** Control characters (newlines included) escaped, so a message stays on its line. */
function oneLine(s: string): string {
  return s.replace(/\p{Cc}/gu, (c) => JSON.stringify(c).slice(1, -1));
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=\\\p{Cc}]+$/u.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

interface SerializedError { message?: unknown; stack?: unknown; code?: unknown; cause?: unknown }

function isErrorObject(v: unknown): v is SerializedError {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The stack's frames (its first line repeats the message), then each cause's message. */
function errorTail(err: SerializedError): string[] {
  const lines: string[] = [];
  if (typeof err.stack === 'string') lines.push(...err.stack.split('\n').slice(1).map((l) => `    ${l.trim()}`));
  let cause = err.cause;
  for (let i = 0; i < MAX_CAUSES && isErrorObject(cause); i++) {
    lines.push(`    caused by: ${oneLine(String(cause.message))}`);
    cause = cause.cause;
  }
  return lines;
}

/**
 * One log entry (a parsed JSON line of this logger) as text: the event line, then, for an
 * error with a stack, its frames on indented lines. `withTime: false` leaves the time out.
 */
export function formatTextEntry(entry: Readonly<Record<string, unknown>>, opts: { readonly withTime: boolean }): string[] {
  const head: string[] = [];
  if (opts.withTime && typeof entry['time'] === 'string') head.push(entry['time']);
  head.push(String(entry['level'] ?? '?').toUpperCase().padEnd(5));
  if (entry['instance'] !== undefined) head.push(`[${oneLine(String(entry['instance']))}]`);
  if (entry['msg'] !== undefined) head.push(oneLine(String(entry['msg'])));
  const err = entry['err'];
  if (isErrorObject(err)) {
    head.push(`err=${textValue(err.message)}`);
    if (err.code !== undefined) head.push(`code=${textValue(err.code)}`);
  } else if (err !== undefined) {
    head.push(`err=${textValue(err)}`);
  }
  for (const [k, v] of Object.entries(entry)) {
    if (!FIXED_FIELDS.has(k) && v !== undefined) head.push(`${k}=${textValue(v)}`);
  }
  return [head.join(' '), ...(isErrorObject(err) ? errorTail(err) : [])];
}

/** Where lines go: a pino destination (sonic-boom) in the agent, an array in tests. */
export interface LineSink {
  write(s: string): unknown;
  flush?(cb?: (err?: Error | null) => void): void;
  flushSync?(): void;
}

/**
 * A pino destination that rewrites each JSON line for `output`. It asks pino for the level of
 * the line being written (pino.symbols.needsMetadataGsym, as pino.multistream does), so the
 * priority prefix needs no parsing; text lines are rebuilt from the serialized JSON.
 */
export function formattingDestination(sink: LineSink, output: LogOutput): DestinationStream {
  if (output.format === 'json' && !output.priorityPrefix) return sink as DestinationStream;
  const withTime = !output.priorityPrefix;
  const dest = {
    [pino.symbols.needsMetadataGsym]: true as const,
    lastLevel: 30,
    write(line: string): void {
      const prefix = output.priorityPrefix ? `<${syslogPriority(dest.lastLevel)}>` : '';
      if (output.format === 'json') {
        sink.write(`${prefix}${line}`);
        return;
      }
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        sink.write(`${prefix}${line}`);
        return;
      }
      sink.write(formatTextEntry(entry, { withTime }).map((l) => `${prefix}${l}\n`).join(''));
    },
    flush(cb?: (err?: Error | null) => void): void {
      if (sink.flush !== undefined) sink.flush(cb);
      else cb?.(null);
    },
    flushSync(): void {
      sink.flushSync?.();
    },
  };
  return dest as unknown as DestinationStream;
}

export interface LoggerOptions extends LogOutput {
  readonly level: LogLevel;
  /** Default: stdout (fd 1) through pino.destination. */
  readonly sink?: LineSink;
}

/** The agent's root logger. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino({
    level: opts.level,
    base: { pid: process.pid },
    // pino.stdTimeFunctions.isoTime's text, without Date.prototype.toISOString (src/adapters/iso-time.ts).
    timestamp: () => `,"time":"${isoTime()}"`,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: serializeError },
  }, formattingDestination(opts.sink ?? pino.destination(1), opts));
}

/** The logger `haagent start` uses: the format for its stdout as it is (terminal, journal, pipe). */
export function createAgentLogger(level: LogLevel, choice: LogFormatChoice): Logger {
  const output = chooseLogOutput(choice, { isTTY: process.stdout.isTTY === true, journal: isJournalStream(process.env['JOURNAL_STREAM'], 1) });
  return createLogger({ level, ...output });
}
