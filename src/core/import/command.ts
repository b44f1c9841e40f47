/**
 * keepalived command lines (vrrp_script `script`, notify scripts, MISC_CHECK) -> argument
 * vectors run without a shell, as keepalived itself runs them: the line is split on blanks,
 * single or double quotes group words (and are removed), a backslash escapes the next character.
 *
 * A line that only a shell would run as meant (a pipe, a redirection, `&&`, `;`, `$VAR`, a glob,
 * backticks, `~`) is reported, never wrapped in `sh -c` behind the operator's back. An explicit
 * `/bin/sh -c '...'` is an ordinary argument vector and passes.
 */
import type { KaNode } from './parse.js';

export type CommandResult =
  | { ok: true; argv: readonly string[] }
  | { ok: false; reason: string };

/** Characters with a meaning to a shell, outside quotes. */
const SHELL_CHARS = /[|&;<>`$*?[\]~(){}]/;

export function splitCommand(line: string): CommandResult {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | '\'' | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i] ?? '';
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) { word += line[i + 1] ?? ''; i += 1; }
      else if (quote === '"' && (ch === '$' || ch === '`')) return { ok: false, reason: `needs a shell: "${ch}" inside double quotes is expanded by a shell only` };
      else word += ch;
      continue;
    }
    if (ch === '"' || ch === '\'') { quote = ch; inWord = true; continue; }
    if (ch === '\\' && i + 1 < line.length) { word += line[i + 1] ?? ''; i += 1; inWord = true; continue; }
    if (/\s/.test(ch)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (SHELL_CHARS.test(ch)) return { ok: false, reason: `needs a shell: "${ch}" (pipes, redirections, &&, ;, $VAR, globs, backticks and ~ mean something to a shell only)` };
    word += ch;
    inWord = true;
  }
  if (quote !== undefined) return { ok: false, reason: `a ${quote === '"' ? 'double' : 'single'} quote is not closed` };
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, reason: 'is empty' };
  return { ok: true, argv };
}

/**
 * The command line of an option whose arguments are one command: the one (quoted) argument as
 * is, or several words joined by blanks, a word holding a blank put back in single quotes.
 */
export function commandLine(node: KaNode): string {
  return node.args.length === 1 ? node.args[0] ?? '' : node.args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
}
