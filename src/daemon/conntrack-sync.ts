/**
 * One instance's conntrackd (connection-state sync, `conntrack-sync`): writes its config,
 * runs and supervises it, and orders it with the VRRP transitions.
 *
 * - start: the config goes to <state-dir>/conntrackd/<vrid>-<name>.conf with its own lock file,
 *   control socket and log beside it; a conntrackd a killed agent left on that socket is stopped
 *   (`-k`) and a stale lock file removed; then conntrackd runs in the foreground as a child.
 *   When it exits it is started again after a backoff (1 s doubling to 30 s, back to 1 s once
 *   it ran for 30 s); each exit and start is logged and published.
 * - takeover (becoming MASTER, before the balancer rules and the VIPs): the kernel entries whose
 *   source is the floating address are deleted (this node's own real server's view of
 *   connections the old master forwarded here: the old master's entries replace them and would
 *   clash), then `conntrackd -c` commits the peer's connections, bounded by commit-timeout;
 *   then, not awaited by the takeover: `-f`, `-R`, `-B` (as conntrackd's primary-backup.sh).
 * - demote (the VIPs are gone after MASTER): `-f internal` (so the deletes that follow are not
 *   sent to the peer, whose copy it commits), the kernel entries of the balanced services are
 *   deleted (stale NAT bindings would capture the replies of this node's real server), then
 *   `-t` and `-n`. Skipped when the node is MASTER again by then (a quick flap).
 * - statistics (`-s`) every STATS_INTERVAL_MS: cache sizes, the active link, and whether the
 *   peer was heard (its keepalives arrive every second), published when that changes.
 *
 * Every step is serialized on one chain; nothing here rejects or throws into the caller.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { InstanceConfig, VirtualServiceConfig } from '../core/config/types.js';
import type { ConntrackSyncConfig } from '../core/config/conntrack.js';
import { conntrackdConf } from '../core/config/conntrackd-conf.js';
import { parseConntrackStats } from '../core/config/conntrack-stats.js';
import type { ConntrackSyncStatus } from '../core/control/types.js';
import { errorMessage, HaagentError } from '../core/errors.js';
import { conntrackCommand, conntrackdCommand, startConntrackd, type CommandResult } from '../adapters/conntrackd.js';
import { ensurePrivateDir } from '../adapters/secure-dir.js';
import type { UnstampedEvent } from './event-bus.js';
import { isoTime } from '../adapters/iso-time.js';

export const STATS_INTERVAL_MS = 1000;
/** No packet from the peer for this long: the sync link (or the peer's conntrackd) is down. */
export const PEER_SILENCE_MS = 3500;
const COMMAND_TIMEOUT_MS = 5000;
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** Longest unix socket path (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;
/** How long stop() lets a step under way finish before stopping conntrackd. */
const STOP_WAIT_MS = 300;

/** The processes (src/adapters/conntrackd.ts); fakes in unit tests. */
export interface ConntrackPorts {
  command(conf: string, args: readonly string[], timeoutMs: number): Promise<CommandResult>;
  conntrack(args: readonly string[], timeoutMs: number): Promise<CommandResult>;
  start(conf: string, onExit: (code: number | null, signal: string | null, stderrTail: string) => void): ChildProcess;
}

const REAL_PORTS: ConntrackPorts = { command: conntrackdCommand, conntrack: conntrackCommand, start: startConntrackd };

export interface ConntrackSyncDeps {
  readonly stateDir: string;
  readonly log: Logger;
  readonly publish: (ev: UnstampedEvent) => void;
  /** The instance is MASTER now (a demotion that arrives after a new takeover is skipped). */
  readonly isMaster: () => boolean;
  /** The instance's services now (a reload may change them in place); default: those it was made with. */
  readonly services?: () => readonly VirtualServiceConfig[];
  readonly ports?: ConntrackPorts;
}

export class ConntrackSync {
  private readonly sync: ConntrackSyncConfig;
  private readonly ports: ConntrackPorts;
  private readonly conf: string;
  private readonly files: { lockFile: string; socketPath: string; logFile: string };
  private chain: Promise<void> = Promise.resolve();
  private child: ChildProcess | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private backoffMs = RESTART_MIN_MS;
  private startedAtMs = 0;
  private restarts = 0;
  private lastReceived = -1;
  private lastHeardMs: number | undefined;
  private peerReachable = false;
  private stats: { internal: number; external: number; device: string } | undefined;
  private lastCommit: ConntrackSyncStatus['lastCommit'] = null;
  private error: string | undefined;

  constructor(private readonly inst: InstanceConfig, private readonly deps: ConntrackSyncDeps) {
    if (inst.conntrackSync === undefined) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', `instance ${inst.name} has no conntrack-sync`);
    this.sync = inst.conntrackSync;
    this.ports = deps.ports ?? REAL_PORTS;
    const dir = join(deps.stateDir, 'conntrackd');
    const base = join(dir, `${inst.vrid}-${inst.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
    this.conf = `${base}.conf`;
    this.files = { lockFile: `${base}.lock`, socketPath: `${base}.ctl`, logFile: `${base}.log` };
  }

  /** Writes the config and starts conntrackd; throws (HA_ERR_STATE, HA_ERR_CONFIG) only when its files cannot be made. */
  async start(): Promise<void> {
    if (Buffer.byteLength(this.files.socketPath) > MAX_SOCKET_PATH) {
      throw new HaagentError('HA_ERR_CONFIG', `conntrackd control socket ${this.files.socketPath} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter state-dir`);
    }
    ensurePrivateDir(join(this.deps.stateDir, 'conntrackd'), 'conntrackd directory');
    try {
      const realServers = this.inst.virtualServices.flatMap((v) => v.realServers.map((r) => r.address));
      writeFileSync(this.conf, conntrackdConf(this.sync, this.files, realServers), { mode: 0o600 });
    } catch (cause) {
      throw new HaagentError('HA_ERR_STATE', `cannot write ${this.conf}: ${errorMessage(cause)}`, { cause });
    }
    // A conntrackd left by a killed agent holds the socket and the lock: stop it first.
    const left = await this.ports.command(this.conf, ['-k'], COMMAND_TIMEOUT_MS);
    if (left.ok) this.deps.log.warn('stopped a conntrackd left running by an earlier agent');
    rmSync(this.files.lockFile, { force: true });
    this.spawn();
    this.statsTimer = setInterval(() => { this.serial(() => this.poll()); }, STATS_INTERVAL_MS);
  }

  /** Becoming MASTER: resolves once the peer's connections are committed (or failed, or timed out). Never rejects. */
  takeover(): Promise<void> {
    return new Promise((resolve) => {
      this.serial(async () => {
        await this.run('conntrack', ['-D', '-s', this.sync.snat.address], 'deleting the floating address\'s server-side entries');
        const r = await this.ports.command(this.conf, ['-c'], this.sync.commitTimeoutMs);
        this.lastCommit = { ok: r.ok, durationMs: Math.round(r.durationMs), at: isoTime(), ...(r.ok ? {} : { detail: r.detail }) };
        const detail = r.ok ? `${this.stats?.external ?? 'the'} peer connections committed` : r.detail;
        this.deps.log[r.ok ? 'info' : 'error']({ durationMs: Math.round(r.durationMs) }, `conntrack sync: ${r.ok ? 'committed the peer\'s connections' : `commit failed: ${r.detail}`}`);
        this.deps.publish({ type: 'conntrack-sync', instance: this.inst.name, kind: 'commit', ok: r.ok, detail, durationMs: Math.round(r.durationMs) });
        resolve();
        for (const flag of ['-f', '-R', '-B']) await this.run('conntrackd', [flag], `conntrackd ${flag} after the commit`);
      });
    });
  }

  /** Left MASTER (the VIPs are gone): see the module comment. Not awaited. */
  demote(): void {
    this.serial(async () => {
      if (this.deps.isMaster() || this.stopped) return;
      await this.run('conntrackd', ['-f', 'internal'], 'conntrackd -f internal');
      for (const svc of (this.deps.services?.() ?? this.inst.virtualServices).filter((s) => s.mode === 'nftables')) {
        await this.run('conntrack', ['-D', '-p', 'tcp', '-d', svc.vip, '--dport', String(svc.port)], `deleting the entries of ${svc.vip}:${svc.port}`);
      }
      await this.run('conntrackd', ['-t'], 'conntrackd -t');
      await this.run('conntrackd', ['-n'], 'conntrackd -n');
    });
  }

  status(): ConntrackSyncStatus {
    return {
      running: this.child !== undefined, pid: this.child?.pid ?? null, restarts: this.restarts, peerReachable: this.peerReachable,
      activeLink: this.stats?.device ?? null, internalEntries: this.stats?.internal ?? null, externalEntries: this.stats?.external ?? null,
      lastCommit: this.lastCommit, ...(this.error === undefined ? {} : { error: this.error }),
    };
  }

  /** Stops conntrackd (SIGTERM; it removes its lock and socket) and the timers. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.statsTimer);
    // A step under way (a commit) may finish first, within the agent's shutdown bound.
    await Promise.race([this.chain, new Promise((r) => setTimeout(r, STOP_WAIT_MS))]);
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private serial(job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((err: unknown) => this.deps.log.error({ err }, 'conntrack sync step failed'));
  }

  /** A client command whose failure is only reported (status error, log). */
  private async run(tool: 'conntrack' | 'conntrackd', args: readonly string[], what: string): Promise<void> {
    const r = tool === 'conntrack' ? await this.ports.conntrack(args, COMMAND_TIMEOUT_MS) : await this.ports.command(this.conf, args, COMMAND_TIMEOUT_MS);
    // `conntrack -D` exits 1 when nothing matched: not a problem.
    if (r.ok || (tool === 'conntrack' && / 0 flow entries/.test(r.detail))) return;
    this.error = `${what}: ${r.detail}`;
    this.deps.log.warn({ detail: r.detail }, `conntrack sync: ${what} failed`);
  }

  private spawn(): void {
    if (this.stopped) return;
    this.startedAtMs = performance.now();
    const child = this.ports.start(this.conf, (code, signal, tail) => this.exited(child, code, signal, tail));
    this.child = child;
    this.deps.log.info({ pid: child.pid, conf: this.conf }, 'conntrackd started');
    this.deps.publish({ type: 'conntrack-sync', instance: this.inst.name, kind: 'daemon', ok: true, detail: `conntrackd started (pid ${child.pid ?? '?'})` });
  }

  private exited(child: ChildProcess, code: number | null, signal: string | null, tail: string): void {
    if (this.child === child) this.child = undefined;
    this.stats = undefined;
    this.setPeer(false, 'conntrackd is not running');
    if (this.stopped) return;
    if (performance.now() - this.startedAtMs >= RESTART_MAX_MS) this.backoffMs = RESTART_MIN_MS;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(RESTART_MAX_MS, this.backoffMs * 2);
    this.error = `conntrackd exited (${signal ?? `code ${String(code)}`})${tail === '' ? '' : `: ${tail}`}`;
    this.deps.log.error({ code, signal, restartInMs: wait }, `${this.error}; starting it again in ${wait} ms`);
    this.deps.publish({ type: 'conntrack-sync', instance: this.inst.name, kind: 'daemon', ok: false, detail: `${this.error}; restart in ${wait} ms` });
    this.restartTimer = setTimeout(() => {
      this.restarts += 1;
      rmSync(this.files.lockFile, { force: true });
      this.spawn();
    }, wait);
  }

  private async poll(): Promise<void> {
    if (this.child === undefined || this.stopped) return;
    const r = await this.ports.command(this.conf, ['-s'], COMMAND_TIMEOUT_MS);
    const parsed = r.ok ? parseConntrackStats(r.stdout) : undefined;
    const now = performance.now();
    if (parsed?.ok === true) {
      const s = parsed.stats;
      this.stats = { internal: s.internalEntries, external: s.externalEntries, device: s.activeDevice };
      if (s.packetsReceived !== this.lastReceived) {
        if (this.lastReceived !== -1) this.lastHeardMs = now;
        this.lastReceived = s.packetsReceived;
      }
      if (this.error?.startsWith('statistics') === true) this.error = undefined;
    } else if (this.child !== undefined) {
      this.error = `statistics unreadable: ${r.ok ? (parsed?.ok === false ? parsed.reason : '') : r.detail}`;
    }
    const heard = this.lastHeardMs !== undefined && now - this.lastHeardMs < PEER_SILENCE_MS;
    this.setPeer(heard, heard ? `peer heard on ${this.stats?.device ?? '?'}` : `nothing from the peer for ${PEER_SILENCE_MS} ms on the sync link`);
  }

  private setPeer(reachable: boolean, detail: string): void {
    if (this.peerReachable === reachable) return;
    this.peerReachable = reachable;
    this.deps.log[reachable ? 'info' : 'warn']({ detail }, `conntrack sync: peer ${reachable ? 'reachable' : 'unreachable'}`);
    this.deps.publish({ type: 'conntrack-sync', instance: this.inst.name, kind: 'peer', ok: reachable, detail });
  }
}
