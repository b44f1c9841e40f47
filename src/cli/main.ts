#!/usr/bin/env node
/** The `haagent` command: parse and dispatch only. Exit statuses: src/cli/exit-codes.ts. */
import './heap-first.js'; // first: see the file
import { once } from 'node:events';
import { Command, CommanderError, Option } from './commander.js';
import { HaagentError, isHaagentErrorCode } from '../core/errors.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_SOCKET_PATH } from '../core/config/types.js';
import { request, requestStatus } from '../daemon/control-server.js';
import type { ControlRequest } from '../core/control/types.js';
import { ALL_EVENT_TYPES, type AgentEvent } from '../core/control/events.js';
import { isJournalStream, LOG_FORMATS, LOG_LEVELS } from '../daemon/logger.js';
import { EXIT_CODES, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.js';
import { packageVersion } from '../adapters/package-info.js';
import type { SocketChoice, SocketSources } from './socket-path.js';
import { SOCKET_ENV } from './socket-env.js';
import type { runStart } from './start.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Under journald, stderr lines carry the error priority too (see src/daemon/logger.ts). */
const stderrPrefix = (): string => (isJournalStream(process.env['JOURNAL_STREAM'], 2) ? '<3>' : '');

function fail(err: unknown): never {
  if (err instanceof CommanderError) process.exit(exitCodeFor(err)); // commander printed its message already
  const text = err instanceof HaagentError ? err.message : `unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`;
  const prefix = stderrPrefix();
  process.stderr.write(`${prefix}haagent: ${text.split('\n').join(`\n${prefix}`)}\n`);
  process.exit(exitCodeFor(err));
}

const SOCKET_HELP = `Control socket of status, events, reload, maintenance, switchover and promote (first found wins):
  --socket PATH, then $${SOCKET_ENV}, then the socket: key of -c FILE, then that of
  ${DEFAULT_CONFIG_PATH} when it exists, then ${DEFAULT_SOCKET_PATH}.`;

const program = new Command();
program.name('haagent').description('VRRP virtual-IP failover agent (keepalived-compatible)').version(packageVersion())
  // Every usage error (unknown option, invalid choice, missing argument) exits with the usage
  // code and one line on stderr; commands inherit these settings when created below.
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`${stderrPrefix()}haagent: ${str.replace(/^error: /, '')}`) })
  .addHelpText('after', `\n${SOCKET_HELP}\n\n${EXIT_CODES_HELP}\n`);

/** -c/--config and --socket of the client commands. */
function withSocketOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', `take the control socket from this config file's socket: key (default ${DEFAULT_CONFIG_PATH} when it exists)`)
    .option('--socket <path>', `control socket (overrides $${SOCKET_ENV} and the config file; default ${DEFAULT_SOCKET_PATH})`);
}

/** The socket for `opts`; a "no agent" error then also says where the path came from. */
async function withAgent<T>(opts: SocketSources, fn: (socket: string) => Promise<T>): Promise<T> {
  // Loaded here, not at start: it reads YAML, which `start` from flags alone never loads.
  const { clientSocket } = await import('./socket-path.js');
  const choice: SocketChoice = clientSocket(opts);
  try {
    return await fn(choice.path);
  } catch (err) {
    if (err instanceof HaagentError && err.code === 'HA_ERR_NO_AGENT') {
      throw new HaagentError('HA_ERR_NO_AGENT', `${err.message} [socket path from ${choice.from}]`, { cause: err });
    }
    throw err;
  }
}

program.command('start')
  .description('run the agent in the foreground (logs on stdout, see --log-format)')
  .addOption(new Option('--role <role>', 'preset: master (priority 150, preempt), backup (100, no preempt), auto (100, no preempt; higher address wins the first election)').choices(['auto', 'master', 'backup']))
  .option('-c, --config <file>', 'YAML config (default /etc/haagent/haagent.yaml when it exists)')
  .option('--interface <if>', 'NIC carrying VRRP heartbeats')
  .option('--external <if>', 'NIC where the VIPs live (default: --interface)')
  .option('--vip <cidr>', 'virtual IP in CIDR form (repeatable)', collect)
  .option('--vrid <n>', 'virtual router ID, 1..255')
  .option('--priority <n>', 'priority, 1..255 (overrides the role)')
  .option('--advert-interval <dur>', 'advert interval, e.g. 1s or 100ms (v3)')
  .option('--vrrp-version <v>', '2 or 3 (default 3)')
  .option('--peer <ip>', 'unicast peer (repeatable; default multicast 224.0.0.18)', collect)
  .option('--preempt', 'take over from a lower-priority master')
  .option('--no-preempt', 'never preempt a healthy master')
  .option('--preempt-delay <dur>', 'wait this long before preempting')
  .option('--name <name>', 'instance name (flags-only mode)')
  .option('--socket <path>', `control socket (default ${DEFAULT_SOCKET_PATH})`)
  .option('--state-dir <dir>', 'where fencing epochs are kept (default /var/lib/haagent)')
  .option('--realtime-priority <n>', 'SCHED_RR priority 1..99 for the main (VRRP) thread and V8\'s workers (config: realtime)')
  .option('--lock-memory', 'lock the agent\'s code and heap in RAM (config: lock-memory)')
  .addOption(new Option('--log-level <level>', 'log this level and above').choices(LOG_LEVELS).default('info'))
  .addOption(new Option('--log-format <format>', 'auto: text with syslog priority prefixes when stdout is the journal (systemd), text on a terminal, else JSON lines').choices(LOG_FORMATS).default('auto'))
  .action(async (opts: Parameters<typeof runStart>[0], cmd: Command) => {
    const explicitPreempt = cmd.getOptionValueSource('preempt') === 'cli';
    // Each command loads what it needs when it runs: the agent keeps only its own modules.
    const start = await import('./start.js');
    await start.runStart(opts, explicitPreempt).catch(fail);
  });

type ClientOpts = SocketSources;

withSocketOptions(program.command('status')
  .description('show the running agent\'s instances')
  .option('--json', 'machine-readable output (stable; see README)'))
  .action(async (opts: ClientOpts & { json?: boolean }) => {
    try {
      const s = await withAgent(opts, (socket) => requestStatus(socket));
      // Loaded here: the agent (`start`) never formats a status.
      const [{ formatStatus }, { statusHealth }] = await Promise.all([import('./status-format.js'), import('./status-health.js')]);
      process.stdout.write(opts.json === true ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
      // Nagios-style: the table is printed either way; the exit status says whether to worry.
      const health = statusHealth(s);
      if (health.verdict !== 'ok') {
        for (const p of health.problems) process.stderr.write(`haagent: ${p}\n`);
        process.exit(health.verdict === 'dual-master' ? EXIT_CODES.statusDualMaster
          : health.verdict === 'takeover-blocked' ? EXIT_CODES.statusTakeoverBlocked : EXIT_CODES.statusFault);
      }
    } catch (err) {
      fail(err);
    }
  });

/** Sends one command to the agent and prints its message; the agent's refusal exits non-zero. */
async function command(opts: SocketSources, req: ControlRequest): Promise<void> {
  const r = await withAgent(opts, (socket) => request(socket, req, { timeoutMs: 30_000 }));
  // The agent's own code reaches the caller (and the exit status); an unknown one is HA_ERR_CONTROL.
  if (!r.ok) throw new HaagentError(isHaagentErrorCode(r.error.code) ? r.error.code : 'HA_ERR_CONTROL', r.error.message);
  process.stdout.write(`${'message' in r ? r.message : 'ok'}\n`);
}

withSocketOptions(program.command('maintenance')
  .description('on: a master hands over (priority 0) and this node stays BACKUP; off: back to normal')
  .argument('<on|off>', 'on or off')
  .option('--instance <name>', 'only this instance (default: all)'))
  .action(async (state: string, opts: ClientOpts & { instance?: string }) => {
    try {
      if (state !== 'on' && state !== 'off') throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `maintenance takes "on" or "off", got "${state}"`);
      await command(opts, { command: 'maintenance', on: state === 'on', ...(opts.instance === undefined ? {} : { instance: opts.instance }) });
    } catch (err) {
      fail(err);
    }
  });

withSocketOptions(program.command('switchover')
  .description('run on the master: hand mastership to the peer (make before break); run again on the new master to move it back')
  .option('--instance <name>', 'only this instance (default: all this node is master of)'))
  .action(async (opts: ClientOpts & { instance?: string }) => {
    try {
      await command(opts, { command: 'switchover', ...(opts.instance === undefined ? {} : { instance: opts.instance }) });
    } catch (err) {
      fail(err);
    }
  });

withSocketOptions(program.command('promote')
  .description('run on a backup when no master is heard: take over now, past the takeover guards, the cold-start wait and the promotion backoff (once); refused while a master is alive')
  .option('--force', 'required: you accept serving with data the guards did not vouch for')
  .option('--instance <name>', 'this instance (default: the only one this node is not MASTER of)'))
  .action(async (opts: ClientOpts & { force?: boolean; instance?: string }) => {
    try {
      if (opts.force !== true) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', 'promote overrides the takeover guards: add --force to confirm');
      await command(opts, { command: 'promote', force: true, ...(opts.instance === undefined ? {} : { instance: opts.instance }) });
    } catch (err) {
      fail(err);
    }
  });

withSocketOptions(program.command('reload')
  .description('reload the config (like SIGHUP): a bad file is refused and the running config stays (the agent rereads its own file; -c here only finds the socket)'))
  .action(async (opts: ClientOpts) => {
    try {
      await command(opts, { command: 'reload' });
    } catch (err) {
      fail(err);
    }
  });

withSocketOptions(program.command('events')
  .description('print one JSON line per event (transitions, checks, priority, hooks, maintenance, reload, real servers, load balancer rules) as they happen')
  .option('--all', 'also per-run and per-packet events (check-run, guard, advert-sent, advert-received, drop)')
  .option('--type <types>', `only these event types, comma-separated (${ALL_EVENT_TYPES.join(', ')})`)
  .option('--instance <name>', 'only the events of this instance (and those of the agent as a whole)'))
  .action(async (opts: ClientOpts & { all?: boolean; type?: string; instance?: string }) => {
    try {
      const wanted = opts.type?.split(',').map((x) => x.trim()).filter((x) => x !== '');
      const unknown = (wanted ?? []).filter((x) => !(ALL_EVENT_TYPES as readonly string[]).includes(x));
      if (unknown.length > 0) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `--type: unknown event type ${unknown.join(', ')} (known: ${ALL_EVENT_TYPES.join(', ')})`);
      const types = wanted !== undefined && wanted.length > 0 ? { types: wanted as AgentEvent['type'][] } : opts.all === true ? { types: ALL_EVENT_TYPES } : {};
      const mine = (ev: AgentEvent): boolean => opts.instance === undefined || !('instance' in ev) || ev.instance === null || ev.instance === opts.instance;
      const r = await withAgent(opts, (socket) => request(socket, { command: 'events', ...types }, {
        timeoutMs: 5000,
        // A full stdout pipe pauses reading, so the agent (not this process) notices the backlog.
        onEvent: (ev) => (!mine(ev) || process.stdout.write(`${JSON.stringify(ev)}\n`) ? undefined : once(process.stdout, 'drain')),
        onClose: (err) => {
          // Cut off (e.g. as too slow): a runtime end of the stream, exit 1, whatever code the agent gave.
          if (err !== undefined) fail(new HaagentError('HA_ERR_CONTROL', err.message, { cause: err }));
          process.stderr.write('haagent: the agent closed the event stream\n');
          process.exit(0);
        },
      }));
      if (!r.ok) throw new HaagentError('HA_ERR_CONTROL', r.error.message);
    } catch (err) {
      fail(err);
    }
  });

program.command('init')
  .description('write the configs of a pair: by default master/backup with a health check; --active-active: two VIPs, each host master of one, both on the survivor')
  .option('--active-active', 'the active-active layout (exactly two --vip)')
  .requiredOption('--interface <if>', 'NIC carrying VRRP heartbeats')
  .option('--external <if>', 'NIC where the VIPs live (default: --interface)')
  .option('--vip <cidr>', 'virtual IP (repeatable; --active-active: exactly two, host A\'s then host B\'s)', collect)
  .option('--vrid <n>', 'VRID (--active-active: of the first VIP; the second uses the next one)', '51')
  .option('--advert-interval <dur>', 'advert interval', '1s')
  .option('--vrrp-version <v>', '2 or 3', '3')
  .option('--out <dir>', 'where to write host-a.yaml and host-b.yaml', '.')
  .option('--force', 'overwrite existing files')
  .action(async (opts: { activeActive?: boolean; interface: string; external?: string; vip?: string[]; vrid: string; advertInterval: string; vrrpVersion: string; out: string; force?: boolean }) => {
    try {
      const { writeActiveActive, writePair } = await import('./init.js');
      const version = opts.vrrpVersion === '2' ? 2 : opts.vrrpVersion === '3' ? 3 : undefined;
      if (version === undefined) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `--vrrp-version takes 2 or 3, got "${opts.vrrpVersion}"`);
      const o = {
        interface: opts.interface, external: opts.external ?? opts.interface, vips: opts.vip ?? [],
        vrid: Number(opts.vrid), advertInterval: opts.advertInterval, vrrpVersion: version,
      } as const;
      const files = opts.activeActive === true ? writeActiveActive(o, opts.out, opts.force === true) : writePair(o, opts.out, opts.force === true);
      process.stdout.write(`wrote ${files.join(' and ')}: copy host-a.yaml to the first host and host-b.yaml to the second as /etc/haagent/haagent.yaml\n`);
    } catch (err) {
      fail(err);
    }
  });

program.command('check-config')
  .description('validate a config file: print the effective settings as YAML (secrets redacted), warn about this host, end with OK')
  .argument('[file]', 'config file', '/etc/haagent/haagent.yaml')
  .action(async (file: string) => {
    const { loadConfig } = await import('./load-config.js');
    const { effectiveYaml } = await import('./effective-yaml.js');
    const { preflight } = await import('./preflight.js');
    const { withKeepalivedHint } = await import('./import-keepalived.js');
    try {
      const { config } = loadConfig({ config: file }, false);
      process.stdout.write(effectiveYaml(config));
      // The file can be right for the other host of a pair: what this host lacks only warns.
      const warnings = preflight(config);
      for (const w of warnings) process.stderr.write(`haagent: warning: ${w}\n`);
      process.stderr.write(`haagent: ${file}: OK (${config.instances.length} instance(s)${warnings.length > 0 ? `, ${warnings.length} warning(s) about this host` : ''})\n`);
    } catch (err) {
      fail(withKeepalivedHint(err, file));
    }
  });

program.command('import-keepalived')
  .description('convert a keepalived.conf (with its includes) to haagent YAML on stdout; every option it cannot map is warned about on stderr and commented in the output')
  .argument('<file>', 'keepalived config file')
  .option('--out <file>', 'write the YAML to this file (mode 0600) instead of stdout')
  .action(async (file: string, opts: { out?: string }) => {
    const { runImportKeepalived } = await import('./import-keepalived.js');
    try {
      process.exitCode = runImportKeepalived(file, opts.out);
    } catch (err) {
      fail(err);
    }
  });

program.command('lab')
  .description('build a two-host lab in network namespaces, run the agents, show a real failover (root)')
  .option('--keep', 'leave the whole lab running at the end (agents, web servers, links up) to try status, maintenance, switchover')
  .option('--down', 'remove a lab left running by --keep, and exit')
  .option('--postgres', 'the PostgreSQL demo: a primary and a synchronous standby behind the VIP, a power loss, writes lost (0) and the rejoin')
  .option('--etcd', 'the election on etcd demo: vrrp+etcd on two hosts and a 3-member etcd with a witness, the partitions that split keepalived, and the figures')
  .option('--advert-interval <dur>', 'advert interval for both agents', '1s')
  .addOption(new Option('--lb-mode <mode>', 'load balancer mode of the lab\'s service on VIP:8080 (auto: nftables if nft is installed, else proxy)')
    .choices(['auto', 'nftables', 'proxy']).default('auto'))
  .action(async (opts: { keep?: boolean; down?: boolean; postgres?: boolean; etcd?: boolean; advertInterval: string; lbMode: 'auto' | 'nftables' | 'proxy' }) => {
    if (opts.etcd === true) {
      if (opts.keep === true || opts.down === true || opts.postgres === true) fail(new HaagentError('HA_ERR_INVALID_ARGUMENT', '--etcd runs on its own: it always removes its lab at the end (no --keep, --down or --postgres)'));
      const { runEtcdLab } = await import('../lab/etcd-lab.js');
      await runEtcdLab({ say: (line) => process.stdout.write(`${line}\n`) }).catch(fail);
      return;
    }
    const { labDown, runLab } = await import('../lab/run.js');
    if (opts.down === true) {
      const r = await labDown().catch(fail);
      process.stdout.write(r.namespaces === 0 ? 'no lab was running\n' : `lab removed: ${r.processes} process(es) stopped, ${r.namespaces} namespace(s) deleted\n`);
      return;
    }
    await runLab({ keep: opts.keep === true, advertInterval: opts.advertInterval, lbMode: opts.lbMode, postgres: opts.postgres === true }).catch(fail);
  });

program.parseAsync(process.argv).catch(fail);
