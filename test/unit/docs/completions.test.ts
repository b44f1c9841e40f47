/**
 * The shell completions (completions/haagent.bash, completions/_haagent) list every command and
 * every flag the CLI's --help shows, so a new command or flag cannot be left out silently; the
 * bash one is also run: completing `haagent ` and `haagent <cmd> --` offers them.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/adapters/package-info.js';
import { cliCommands, cliHelp, parseHelp } from '../../tools/man-pages.js';

const root = packageRoot();
const bashFile = join(root, 'completions', 'haagent.bash');
const files = { bash: readFileSync(bashFile, 'utf8'), zsh: readFileSync(join(root, 'completions', '_haagent'), 'utf8') };

/** What the bash completion offers for the words typed so far (the last one being completed). */
function bashComplete(words: readonly string[]): string[] {
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _haagent; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script, 'bash', bashFile, ...words], { encoding: 'utf8', timeout: 10_000 });
  return r.stdout.split('\n').filter((l) => l !== '');
}

if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
  t.plan(0, 'dist/ is not built: run `npm run build` (npm test does)');
} else {
  const commands = cliCommands();
  const flags = new Map(commands.map((c) => [c, (parseHelp(cliHelp([c])).sections.get('Options') ?? [])
    .flatMap((e) => e.term.split(/[ ,]+/).filter((w) => w.startsWith('--')))]));

  t.test('both scripts name every command and flag of --help', (t) => {
    t.ok(commands.length >= 9, `commands from --help: ${commands.join(' ')}`);
    for (const [shell, text] of Object.entries(files)) {
      for (const c of commands) {
        t.match(text, new RegExp(`(^|[\\s'"(])${c}[\\s:)]`, 'm'), `${shell}: command ${c}`);
        for (const f of flags.get(c) ?? []) t.ok(text.includes(f), `${shell}: ${c} ${f}`);
      }
    }
    t.end();
  });

  t.test('bash: the commands complete, and each command completes its flags', (t) => {
    t.same(bashComplete(['haagent', '']).filter((w) => !w.startsWith('-')).sort(), [...commands, 'help'].sort());
    for (const c of commands) {
      const offered = bashComplete(['haagent', c, '--']);
      for (const f of flags.get(c) ?? []) t.ok(offered.includes(f), `haagent ${c} ${f}`);
    }
    t.same(bashComplete(['haagent', 'start', '--role', 'm']), ['master'], 'values of --role');
    t.end();
  });
}
