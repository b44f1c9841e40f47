/**
 * Which control socket a client command (status, events, reload, maintenance, switchover)
 * talks to. First found wins:
 *   1. --socket PATH
 *   2. the HAAGENT_SOCKET environment variable (when not empty)
 *   3. the `socket:` key of the -c/--config FILE
 *   4. the `socket:` key of the default config file, when it exists
 *   5. the built-in default
 * A config file is read only when neither 1 nor 2 is given, so a broken file never stands
 * between --socket and the agent. Of the file only the socket key matters: problems elsewhere
 * in it (the agent reports them on reload) are ignored; an unreadable file, a YAML syntax error
 * or a bad `socket:` value is a config error naming the file.
 *
 * Deliberately not checked here: whether anything listens on the path (the request says so).
 */
import { existsSync, readFileSync } from 'node:fs';
import { HaagentError } from '../core/errors.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_SOCKET_PATH } from '../core/config/types.js';
import { readConfigYaml } from '../core/config/yaml.js';
import { validateConfig } from '../core/config/validate.js';
import { isRecord } from '../core/config/collector.js';
import { ConfigInvalidError } from '../core/config/invalid.js';

import { SOCKET_ENV } from './socket-env.js';

export { SOCKET_ENV };

export interface SocketChoice {
  readonly path: string;
  /** Where the path came from, for messages: "--socket", "HAAGENT_SOCKET", the config file's path, "the built-in default". */
  readonly from: string;
}

export interface SocketSources {
  readonly socket?: string | undefined;
  readonly config?: string | undefined;
}

export interface SocketDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly defaultConfigPath: string;
  readonly exists: (path: string) => boolean;
  readonly read: (path: string) => string;
}

const realDeps: SocketDeps = {
  env: process.env,
  defaultConfigPath: DEFAULT_CONFIG_PATH,
  exists: existsSync,
  read: (path) => readFileSync(path, 'utf8'),
};

/** The socket path a config file gives (its `socket:` key, else the built-in default). */
export function socketFromConfigFile(path: string, read: (path: string) => string): string {
  let text: string;
  try {
    text = read(path);
  } catch (cause) {
    throw new HaagentError('HA_ERR_CONFIG', `cannot read config file ${path} for its socket: ${(cause as Error).message} (pass --socket or set ${SOCKET_ENV})`, { cause });
  }
  const doc = readConfigYaml(text);
  const full = doc.ok ? validateConfig(doc.raw, doc.locate) : doc;
  if (full.ok) return full.config.socketPath;
  const socketErrors = full.errors.filter((e) => e.path === 'socket');
  if (!doc.ok || !isRecord(doc.raw) || socketErrors.length > 0) {
    const err = new ConfigInvalidError(path, socketErrors.length > 0 ? socketErrors : full.errors);
    throw new HaagentError('HA_ERR_CONFIG', `${err.message}\n(the control socket is taken from this file: fix it, pass --socket or set ${SOCKET_ENV})`, { cause: err });
  }
  const socket = doc.raw['socket'];
  return typeof socket === 'string' ? socket : DEFAULT_SOCKET_PATH;
}

/** The control socket for a client command, by the precedence above. */
export function clientSocket(opts: SocketSources, deps: SocketDeps = realDeps): SocketChoice {
  if (opts.socket !== undefined) return { path: opts.socket, from: '--socket' };
  const env = deps.env[SOCKET_ENV];
  if (env !== undefined && env !== '') return { path: env, from: SOCKET_ENV };
  const file = opts.config ?? (deps.exists(deps.defaultConfigPath) ? deps.defaultConfigPath : undefined);
  if (file !== undefined) return { path: socketFromConfigFile(file, deps.read), from: file };
  return { path: DEFAULT_SOCKET_PATH, from: 'the built-in default' };
}
