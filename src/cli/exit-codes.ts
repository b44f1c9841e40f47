/**
 * The exit statuses of every `haagent` command, in one place (README: "Exit codes").
 * Scripts may rely on them: a code's meaning never changes; new ones are only added.
 */
import { CommanderError } from './commander.js';
import { HaagentError } from '../core/errors.js';

export const EXIT_CODES = {
  /** Done. */
  ok: 0,
  /** The command ran and failed: the agent refused it, a socket, netlink or unexpected error. */
  runtime: 1,
  /** Usage or config error: an unknown or invalid flag or argument, a config file that does not validate. */
  usage: 2,
  /** No agent answers on the control socket. */
  noAgent: 3,
  /** `haagent status`: an instance is FAULT (a Nagios-style CRITICAL; the status is printed). */
  statusFault: 4,
  /** `haagent status`: this node and a peer both report MASTER of one instance (printed too). */
  statusDualMaster: 5,
  /** `haagent status`: a takeover this node wants is held back (guard, cold start, backoff, demote hook). */
  statusTakeoverBlocked: 6,
  /** `haagent import-keepalived`: converted, but some options were not mapped (or not exactly; warned). */
  importUnmapped: 7,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** For `haagent --help` and the README. */
export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  runtime error (the agent refused the command, a socket or network error)
  2  usage or config error (bad flag or argument, a config file that does not validate)
  3  no agent is running (nothing answers on the control socket)
  4  status: an instance is FAULT
  5  status: this node and a peer are both MASTER of an instance
  6  status: a takeover is held back (guard, cold start, backoff, demote hook)
  7  import-keepalived: converted, but some options were not mapped (see the warnings)`;

/**
 * The exit status for an error that ended a command. Commander's own errors (unknown option,
 * invalid choice, missing argument) are usage errors, except --help and --version (0).
 */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  if (err instanceof HaagentError) {
    switch (err.code) {
      case 'HA_ERR_CONFIG':
      case 'HA_ERR_INVALID_ARGUMENT':
      case 'HA_ERR_LIMIT':
        return EXIT_CODES.usage;
      case 'HA_ERR_NO_AGENT':
        return EXIT_CODES.noAgent;
      default:
        return EXIT_CODES.runtime;
    }
  }
  return EXIT_CODES.runtime;
}
