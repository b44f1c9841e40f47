/**
 * `haagent start`: loads the config (file and flags), makes the logger (--log-level,
 * --log-format) and runs the agent in the foreground (src/daemon/agent-process.ts: signals,
 * reload on SIGHUP, systemd notifications, the bounded shutdown).
 */
import { createAgentLogger, type LogFormatChoice, type LogLevel } from '../daemon/logger.js';
import { runAgentProcess } from '../daemon/agent-process.js';
import { configPathOf, loadFlagsConfig, type StartFlags } from './flags-config.js';
import { packageVersion } from '../adapters/package-info.js';
import { lockMemory, setRealtime, setRealtimeOtherThreads } from '../adapters/realtime.js';
import { tuneCompilerForLoad, tuneGcForRealtime } from '../daemon/heap-tuning.js';
import type { AgentConfig } from '../core/config/types.js';
import type { Logger } from 'pino';

/**
 * realtime and lock-memory, on this (the main) thread, before the agent starts. A failure
 * (no privilege, a seccomp filter) is logged at error with what is missing and the agent runs
 * on without it: its timers are then as good as without the option, which is no reason to
 * leave the VIPs unserved. A reload does not change them (restart to apply).
 */
export function applyRealtime(config: Pick<AgentConfig, 'realtime' | 'lockMemory'>, log: Logger): void {
  if (config.lockMemory === true) {
    try {
      const r = lockMemory();
      log.info({ regions: r.regions, mappedBytes: r.bytes }, 'lock-memory: code, malloc heap and stack locked as they are used');
    } catch (err) {
      log.error({ err }, 'lock-memory could not be applied; running without it');
    }
  }
  const rt = config.realtime;
  if (rt !== undefined) {
    try {
      setRealtime(rt.priority, rt.policy);
      tuneGcForRealtime();
      const others = setRealtimeOtherThreads(rt.priority, rt.policy);
      if (others.failed.length > 0) log.warn({ failed: others.failed }, 'realtime: some of V8\'s helper threads kept SCHED_OTHER');
      log.info({ policy: rt.policy, priority: rt.priority, helperThreads: others.set.length },
        `realtime: SCHED_${rt.policy.toUpperCase()} priority ${rt.priority} on the main thread and the ${others.set.length} threads started before it, the collector on the main thread alone (threads and hooks started later: SCHED_OTHER)`);
    } catch (err) {
      log.error({ err }, 'realtime could not be applied; running without it');
    }
  }
}

export async function runStart(flags: StartFlags & { logLevel: LogLevel; logFormat: LogFormatChoice }, explicitPreempt: boolean): Promise<void> {
  // The YAML parser and the file reader only when a file is read: from flags alone the agent
  // never loads them (the file, if any, is the same one at every reload).
  const load = configPathOf(flags) === undefined ? loadFlagsConfig : (await import('./load-config.js')).loadConfig;
  const { config, source } = load(flags, explicitPreempt);
  // A heavy config turns V8's optimizing compiler back on (src/daemon/heap-tuning.ts); so does a
  // reload that makes the load heavy.
  tuneCompilerForLoad(config.instances);
  const log = createAgentLogger(flags.logLevel, flags.logFormat);
  applyRealtime(config, log);
  await runAgentProcess({
    config, configSource: source, log, version: packageVersion(),
    reloadConfig: () => {
      const next = load(flags, explicitPreempt).config;
      tuneCompilerForLoad(next.instances);
      return next;
    },
  });
}
