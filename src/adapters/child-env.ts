/**
 * The environment of operator commands (hooks, exec checks): a fixed minimum, not the agent's.
 *
 * The agent's own environment may hold secrets (credentials of its service manager, tokens a
 * deployment tool left behind) and sockets meant for the agent alone (NOTIFY_SOCKET). A child
 * gets only:
 * - PATH: {@link SAFE_PATH}, never the agent's (a writable directory early in an inherited PATH
 *   would let anyone who can write there replace the tools a hook calls);
 * - LANG: the agent's, or {@link DEFAULT_LANG} when it has none;
 * - the instance's `environment:` entries: a bare name takes the agent's value (and is left out
 *   when the agent has none), `NAME=value` is literal; they may replace PATH and LANG;
 * - the caller's own variables (HAAGENT_* for hooks), last, so nothing above can replace them.
 */
import type { EnvironmentEntry } from '../core/config/types.js';

export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_LANG = 'C.UTF-8';

/**
 * Builds a child's complete environment. Pure: `agentEnv` is read, never changed. Does not
 * validate names (the config validator refuses bad ones and HAAGENT_* overrides).
 */
export function childEnvironment(
  entries: readonly EnvironmentEntry[],
  own: Readonly<Record<string, string>>,
  agentEnv: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const env: Record<string, string> = { PATH: SAFE_PATH, LANG: nonEmpty(agentEnv['LANG']) ?? DEFAULT_LANG };
  for (const entry of entries) {
    const value = entry.value ?? agentEnv[entry.name];
    if (value !== undefined) env[entry.name] = value;
  }
  return Object.assign(env, own);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
