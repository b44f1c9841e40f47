/**
 * `haagent start`: runs the agent in the foreground with its logs on stdout (format: --log-format,
 *   src/daemon/logger.ts).
 * - SIGTERM/SIGINT shut down cleanly (priority-0 advert, VIPs removed) and exit 0 within one second.
 * - SIGHUP reloads the config (same file, same flags); a bad file is refused, the running config stays.
 * - systemd: READY=1 once the sockets are open and the config is applied (Type=notify).
 */
import { dirname } from 'node:path';
import { HaagentError } from '../core/errors.js';
import { notifySystemd } from '../adapters/sd-notify.js';
import { ensurePrivateDir } from '../adapters/secure-dir.js';
import { Agent } from '../daemon/agent.js';
import { ControlServer } from '../daemon/control-server.js';
import { createAgentLogger, type LogFormatChoice, type LogLevel } from '../daemon/logger.js';
import { startMetricsServer, type MetricsServer } from '../daemon/metrics.js';
import { loadConfig, type StartFlags } from './load-config.js';
import { packageVersion } from '../adapters/package-info.js';

const SHUTDOWN_BOUND_MS = 900;

export async function runStart(flags: StartFlags & { logLevel: LogLevel; logFormat: LogFormatChoice }, explicitPreempt: boolean): Promise<void> {
  const { config, source } = loadConfig(flags, explicitPreempt);
  const log = createAgentLogger(flags.logLevel, flags.logFormat);
  const version = packageVersion();
  log.info({ source, instances: config.instances.map((i) => ({ name: i.name, vrid: i.vrid, role: i.role, priority: i.priority, preempt: i.preempt, vips: i.vips })) }, `haagent ${version} starting`);

  // The agent runs as root: a socket directory others can write to is refused before anything
  // is touched (the state directory is checked the same way first thing in Agent.start).
  ensurePrivateDir(dirname(config.socketPath), 'control socket directory');
  const agent = await Agent.start({
    config, configSource: source, log, version,
    reloadConfig: () => loadConfig(flags, explicitPreempt).config,
  });
  let control: ControlServer | undefined;
  let metrics: MetricsServer | undefined;
  try {
    control = await ControlServer.listen(config.socketPath, agent, { log });
    if (config.metricsListen !== undefined) metrics = await startMetricsServer(config.metricsListen, agent);
  } catch (err) {
    control?.close();
    await agent.shutdown();
    throw err;
  }
  /** systemd notification; a broken NOTIFY_SOCKET is logged, never fatal. */
  const notify = (state: string): void => {
    try {
      notifySystemd(state);
    } catch (err) {
      log.warn({ err }, 'systemd notification failed');
    }
  };
  log.info({ socket: config.socketPath, metrics: metrics?.url }, 'running');
  notify(`READY=1\nSTATUS=running ${config.instances.length} instance(s)`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    notify('STOPPING=1');
    const bound = setTimeout(() => {
      log.warn('shutdown did not finish in time; exiting anyway');
      process.exit(0);
    }, SHUTDOWN_BOUND_MS);
    control?.close();
    void metrics?.close();
    agent.shutdown().then(
      () => { clearTimeout(bound); log.info('stopped'); log.flush(); process.exit(0); },
      (err: unknown) => { log.error({ err }, 'shutdown failed'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    notify(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
    agent.reload().then(
      (msg) => { log.info(msg); notify('READY=1'); },
      (err: unknown) => {
        // A refused config is logged by the agent itself (one line naming the problems): not twice.
        if (!(err instanceof HaagentError && err.code === 'HA_ERR_CONFIG')) log.error({ err }, 'reload failed');
        notify('READY=1');
      },
    );
  });
}
