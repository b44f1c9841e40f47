/** The exit-code table: which error ends a command with which status. */
import t from 'tap';
import { CommanderError } from 'commander';
import { ConfigError, HaagentError } from '../../../src/core/errors.js';
import { ConfigInvalidError } from '../../../src/core/config/invalid.js';
import { EXIT_CODES, EXIT_CODES_HELP, exitCodeFor } from '../../../src/cli/exit-codes.js';

t.test('errors map to the documented codes', (t) => {
  t.equal(exitCodeFor(new HaagentError('HA_ERR_CONFIG', 'x')), 2);
  t.equal(exitCodeFor(new ConfigInvalidError('f.yaml', [new ConfigError('instances[0].vrid', 'bad', 3)])), 2);
  t.equal(exitCodeFor(new HaagentError('HA_ERR_INVALID_ARGUMENT', 'x')), 2);
  t.equal(exitCodeFor(new HaagentError('HA_ERR_LIMIT', 'x')), 2);
  t.equal(exitCodeFor(new HaagentError('HA_ERR_NO_AGENT', 'x')), 3);
  for (const code of ['HA_ERR_CONTROL', 'HA_ERR_NETLINK', 'HA_ERR_SOCKET', 'HA_ERR_INTERNAL'] as const) t.equal(exitCodeFor(new HaagentError(code, 'x')), 1, code);
  t.equal(exitCodeFor(new Error('x')), 1);
  t.equal(exitCodeFor('a string'), 1);
  t.end();
});

t.test('commander: usage errors exit 2, --help and --version exit 0', (t) => {
  t.equal(exitCodeFor(new CommanderError(1, 'commander.invalidArgument', 'bad')), 2);
  t.equal(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'bad')), 2);
  t.equal(exitCodeFor(new CommanderError(1, 'commander.help', '(outputHelp)')), 2, 'no command given');
  t.equal(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)')), 0);
  t.equal(exitCodeFor(new CommanderError(0, 'commander.version', '0.1.0')), 0);
  t.end();
});

t.test('the help text lists every code of the table', (t) => {
  for (const [name, code] of Object.entries(EXIT_CODES)) t.match(EXIT_CODES_HELP, new RegExp(`^ {2}(\\d, )?${code}\\b`, 'm'), name);
  t.same(new Set(Object.values(EXIT_CODES)).size, Object.values(EXIT_CODES).length, 'codes are distinct');
  t.end();
});
