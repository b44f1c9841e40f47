/**
 * The agent as a process: the agent itself, its control socket and metrics endpoint, the
 * signals, systemd notifications and the single bounded shutdown.
 *
 * Contract:
 * - Nothing listens before the agent has started (config applied, sockets open); a control or
 *   metrics endpoint that cannot start shuts the agent down again and the error is thrown.
 * - The control socket's directory must be private to root, checked before anything is touched
 *   (the state directory is checked the same way first thing in Agent.start).
 * - SIGTERM/SIGINT: one clean shutdown (priority-0 advert, VIPs removed), then exit 0; whatever
 *   happens, the process exits within SHUTDOWN_BOUND_MS.
 * - SIGHUP: reload (same file, same flags); a refused config leaves the running one in place.
 * - systemd (Type=notify): READY=1 once running, RELOADING=1 / READY=1 around a reload,
 *   STOPPING=1 on shutdown. A broken NOTIFY_SOCKET is logged, never fatal.
 */
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { HaagentError } from '../core/errors.js';
import { vipCidrs } from '../core/net/address.js';
import { notifySystemd } from '../adapters/sd-notify.js';
import { ensurePrivateDir } from '../adapters/secure-dir.js';
import { Agent, type AgentOptions } from './agent.js';
import { ControlServer } from './control-server.js';
import type { MetricsServer } from './metrics.js';
import { metricsPart } from './lazy-parts.js';

/** The whole shutdown, hooks and alerts included, within the one second systemd is promised. */
const SHUTDOWN_BOUND_MS = 900;

/** Runs the agent until a signal stops it (the process exits then). Resolves once it runs. */
export async function runAgentProcess(opts: AgentOptions): Promise<void> {
  const { config, log } = opts;
  log.info({ source: opts.configSource, instances: config.instances.map((i) => ({ name: i.name, vrid: i.vrid, role: i.role, priority: i.priority, preempt: i.preempt, vips: vipCidrs(i.vips) })) }, `haagent ${opts.version} starting`);
  ensurePrivateDir(dirname(config.socketPath), 'control socket directory');
  const agent = await Agent.start(opts);
  let control: ControlServer | undefined;
  let metrics: MetricsServer | undefined;
  try {
    control = await ControlServer.listen(config.socketPath, agent, { log });
    // prom-client is loaded only by an agent that serves metrics (HA_ERR_LOAD if it cannot be).
    if (config.metricsListen !== undefined) metrics = await (await metricsPart.get()).startMetricsServer(config.metricsListen, agent);
  } catch (err) {
    control?.close();
    await agent.shutdown();
    throw err;
  }
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
  process.on('SIGHUP', () => reloadOnSignal(agent, log, notify));
}

function reloadOnSignal(agent: Agent, log: Logger, notify: (state: string) => void): void {
  notify(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
  agent.reload().then(
    (msg) => { log.info(msg); notify('READY=1'); },
    (err: unknown) => {
      // A refused config is logged by the agent itself (one line naming the problems): not twice.
      if (!(err instanceof HaagentError && err.code === 'HA_ERR_CONFIG')) log.error({ err }, 'reload failed');
      notify('READY=1');
    },
  );
}
