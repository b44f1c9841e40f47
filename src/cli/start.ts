/**
 * `haagent start`: runs the agent in the foreground with JSON logs on stdout. SIGTERM/SIGINT
 * shut down cleanly (priority-0 advert, VIPs removed) and exit 0 within one second.
 */
import pino from 'pino';
import { Agent } from '../daemon/agent.js';
import { ControlServer } from '../daemon/control-server.js';
import { loadConfig, type StartFlags } from './load-config.js';
import { packageVersion } from './package-info.js';

const SHUTDOWN_BOUND_MS = 900;

export async function runStart(flags: StartFlags & { logLevel: string }, explicitPreempt: boolean): Promise<void> {
  const { config, source } = loadConfig(flags, explicitPreempt);
  const log = pino({ level: flags.logLevel, base: { pid: process.pid } });
  const version = packageVersion();
  log.info({ source, instances: config.instances.map((i) => ({ name: i.name, vrid: i.vrid, role: i.role, priority: i.priority, preempt: i.preempt, vips: i.vips })) }, `haagent ${version} starting`);

  const agent = await Agent.start({ config, log, version });
  let control: ControlServer | undefined;
  try {
    control = await ControlServer.listen(config.socketPath, () => agent.status());
  } catch (err) {
    await agent.shutdown();
    throw err;
  }
  log.info({ socket: config.socketPath }, 'running');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const bound = setTimeout(() => {
      log.warn('shutdown did not finish in time; exiting anyway');
      process.exit(0);
    }, SHUTDOWN_BOUND_MS);
    control?.close();
    agent.shutdown().then(
      () => { clearTimeout(bound); log.info('stopped'); log.flush(); process.exit(0); },
      (err: unknown) => { log.error({ err }, 'shutdown failed'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
