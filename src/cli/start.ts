/**
 * `haagent start`: loads the config (file and flags), makes the logger (--log-level,
 * --log-format) and runs the agent in the foreground (src/daemon/agent-process.ts: signals,
 * reload on SIGHUP, systemd notifications, the bounded shutdown).
 */
import { createAgentLogger, type LogFormatChoice, type LogLevel } from '../daemon/logger.js';
import { runAgentProcess } from '../daemon/agent-process.js';
import { loadConfig, type StartFlags } from './load-config.js';
import { packageVersion } from '../adapters/package-info.js';

export async function runStart(flags: StartFlags & { logLevel: LogLevel; logFormat: LogFormatChoice }, explicitPreempt: boolean): Promise<void> {
  const { config, source } = loadConfig(flags, explicitPreempt);
  await runAgentProcess({
    config, configSource: source, log: createAgentLogger(flags.logLevel, flags.logFormat), version: packageVersion(),
    reloadConfig: () => loadConfig(flags, explicitPreempt).config,
  });
}
