/**
 * `haagent start`: loads the config (file and flags), makes the logger (--log-level,
 * --log-format) and runs the agent in the foreground (src/daemon/agent-process.ts: signals,
 * reload on SIGHUP, systemd notifications, the bounded shutdown).
 */
import { createAgentLogger, type LogFormatChoice, type LogLevel } from '../daemon/logger.js';
import { runAgentProcess } from '../daemon/agent-process.js';
import { configPathOf, loadFlagsConfig, type StartFlags } from './flags-config.js';
import { packageVersion } from '../adapters/package-info.js';

export async function runStart(flags: StartFlags & { logLevel: LogLevel; logFormat: LogFormatChoice }, explicitPreempt: boolean): Promise<void> {
  // The YAML parser and the file reader only when a file is read: from flags alone the agent
  // never loads them (the file, if any, is the same one at every reload).
  const load = configPathOf(flags) === undefined ? loadFlagsConfig : (await import('./load-config.js')).loadConfig;
  const { config, source } = load(flags, explicitPreempt);
  await runAgentProcess({
    config, configSource: source, log: createAgentLogger(flags.logLevel, flags.logFormat), version: packageVersion(),
    reloadConfig: () => load(flags, explicitPreempt).config,
  });
}
