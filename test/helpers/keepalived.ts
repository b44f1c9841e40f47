/**
 * A real keepalived (VRRP subsystem only) in one lab host's namespace, for interop tests.
 *
 * Started as `ip netns exec NS [setpriv --pdeathsig KILL] keepalived -n -l -G -D -P -R -f CONF -p PID -r VRRP_PID`:
 * - `-n` (don't fork): the parent stays our child (ip netns exec execs, so our child's pid is
 *   keepalived's parent). keepalived still forks its VRRP child; that pid is in `-r`'s file.
 * - `-l -G -D`: detailed log to the console (we read stdout and stderr), nothing to syslog.
 * - `-P`: VRRP only (no checker / BFD children). `-R`: no respawn, so a killed VRRP child stays dead.
 * Config, pid files and logs are under /tmp with a per-run prefix so parallel runs don't clash.
 *
 * State is read from the log ("(VI_1) Entering MASTER STATE"); the VIP on ext0 tells the rest.
 * `killAllKeepalived()` is for teardown: every keepalived started here is killed, even on failure
 * (also on process exit, synchronously, as a last resort).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { LabHost } from '../../src/lab/topology.js';

export interface KeepalivedOptions {
  readonly version: 2 | 3;
  readonly priority: number;
  /** Seconds; VRRPv3 allows fractions (0.1 = 100 ms). */
  readonly advertInt: number;
  readonly vips: readonly string[];
  readonly vrid?: number;
  readonly nopreempt?: boolean;
  /** VRRPv2 simple password. */
  readonly authPass?: string;
  readonly interface?: string;
  readonly external?: string;
  /** Lines added inside the vrrp_instance block (e.g. an auth_hmac block), as written. */
  readonly instanceLines?: readonly string[];
  /** The keepalived binary (default: `keepalived` on PATH). */
  readonly binary?: string;
}

export type KeepalivedState = 'MASTER' | 'BACKUP' | 'FAULT' | 'INIT';

export function keepalivedConf(name: string, o: KeepalivedOptions): string {
  const iface = o.interface ?? 'int0';
  const ext = o.external ?? 'ext0';
  const lines = [
    'global_defs {',
    `  router_id ${name}`,
    '}',
    'vrrp_instance VI_1 {',
    '  state BACKUP',
    `  interface ${iface}`,
    `  virtual_router_id ${o.vrid ?? 51}`,
    `  version ${o.version}`,
    `  priority ${o.priority}`,
    `  advert_int ${o.advertInt}`,
    ...(o.nopreempt === true ? ['  nopreempt'] : []),
    ...(o.authPass !== undefined ? ['  authentication {', '    auth_type PASS', `    auth_pass ${o.authPass}`, '  }'] : []),
    ...(o.instanceLines ?? []),
    '  virtual_ipaddress {',
    ...o.vips.map((v) => `    ${v} dev ${ext}`),
    '  }',
    '}',
    '',
  ];
  return lines.join('\n');
}

/**
 * `setpriv --pdeathsig KILL` (util-linux; it execs, so the pid stays keepalived's): keepalived
 * dies with the test process even when that is killed by a signal (tap's timeout) and no
 * teardown runs. Its VRRP child follows (it stops when its parent goes).
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].filter((p) => existsSync(p)).slice(0, 1).flatMap((p) => [p, '--pdeathsig', 'KILL']);

const running = new Set<Keepalived>();
const started = new Set<Keepalived>();

export class Keepalived {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  readonly conf: string;
  readonly pidFile: string;
  readonly vrrpPidFile: string;
  private readonly files: string[];

  constructor(readonly host: LabHost, readonly name: string, readonly options: KeepalivedOptions) {
    const base = `/tmp/${name}`;
    this.conf = `${base}.conf`;
    this.pidFile = `${base}.pid`;
    this.vrrpPidFile = `${base}.vrrp.pid`;
    this.files = [this.conf, this.pidFile, this.vrrpPidFile];
    for (const f of this.files) rmSync(f, { force: true });
    writeFileSync(this.conf, keepalivedConf(name, options));
    this.child = spawn('ip', [
      'netns', 'exec', host.ns, ...SETPRIV, options.binary ?? 'keepalived',
      '-n', '-l', '-G', '-D', '-P', '-R',
      '-f', this.conf, '-p', this.pidFile, '-r', this.vrrpPidFile,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    started.add(this);
    for (const s of [this.child.stdout, this.child.stderr]) {
      if (s) createInterface({ input: s }).on('line', (l) => { this.lines.push(l); });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      running.delete(this);
      resolve(code);
    }));
  }

  /** The state of the last "Entering X STATE" log line at or after line `from`, if any. */
  state(from = 0): KeepalivedState | undefined {
    for (let i = this.lines.length - 1; i >= from; i--) {
      // "(VI_1) Entering MASTER STATE"; FAULT is also logged as "(VI_1) entering FAULT state".
      const m = /entering (MASTER|BACKUP|FAULT|INIT) STATE/i.exec(this.lines[i] ?? '');
      if (m) return m[1]?.toUpperCase() as KeepalivedState;
    }
    return undefined;
  }

  /** Whether any log line at or after `from` matches. */
  logged(re: RegExp, from = 0): boolean {
    return this.lines.slice(from).some((l) => re.test(l));
  }

  tail(n = 25): string[] {
    return this.lines.slice(-n);
  }

  /** The VRRP child's pid (from its pid file), or undefined before it is written. */
  vrrpPid(): number | undefined {
    try {
      const n = Number(readFileSync(this.vrrpPidFile, 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Crash: SIGKILL the VRRP child first (no priority-0 advert, VIP stays), then the parent.
   * (SIGKILL of the parent alone is not a crash: the VRRP child then stops cleanly, priority 0.)
   */
  killHard(): void {
    const vp = this.vrrpPid();
    if (vp !== undefined) {
      try { process.kill(vp, 'SIGKILL'); } catch { /* already gone */ }
    }
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Clean stop: SIGTERM (the VRRP child sends priority 0 and removes its VIPs); SIGKILL after graceMs. */
  async stop(graceMs = 5000): Promise<number | null> {
    if (this.alive) {
      const timer = setTimeout(() => this.killHard(), graceMs);
      this.child.kill('SIGTERM');
      const code = await this.exited;
      clearTimeout(timer);
      this.killOrphan();
      return code;
    }
    this.killOrphan();
    return this.exited;
  }

  /** The VRRP child, if it outlived its parent (it should not: it dies with it). */
  private killOrphan(): void {
    const vp = this.vrrpPid();
    if (vp === undefined) return;
    try {
      const cmd = readFileSync(`/proc/${vp}/cmdline`, 'utf8');
      if (cmd.includes('keepalived') && cmd.includes(this.conf)) process.kill(vp, 'SIGKILL');
    } catch { /* gone */ }
  }

  removeFiles(): void {
    for (const f of this.files) rmSync(f, { force: true });
  }
}

/** Stops (SIGKILL after a short grace) every keepalived started here and removes their files. */
export async function killAllKeepalived(graceMs = 2000): Promise<void> {
  await Promise.all([...started].map(async (k) => {
    await k.stop(graceMs);
    k.removeFiles();
    started.delete(k);
  }));
}

process.once('exit', () => {
  for (const k of running) {
    try { k.killHard(); } catch { /* best effort */ }
  }
});

/** What `steadyPair` samples in a haagent / keepalived pair. */
export interface PairSampler {
  /** haagent's state (its status), keepalived's (its log), and whether `host` holds the VIP. */
  agentState(): Promise<string | undefined>;
  keepalivedState(): string | undefined;
  hasVip(host: LabHost): Promise<boolean>;
}

/**
 * Samples the pair every 200 ms for `ms`: haagent in `agentState`, keepalived in `kaState`, and
 * exactly `holder` of `hosts` holding the VIP. The first violation, described, or undefined.
 */
export async function steadyPair(p: PairSampler, hosts: readonly [LabHost, LabHost], agentState: string, kaState: string, holder: LabHost, ms = 4000): Promise<string | undefined> {
  const [h1, h2] = hosts;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const [s, k, v1, v2] = [await p.agentState(), p.keepalivedState(), await p.hasVip(h1), await p.hasVip(h2)];
    if (s !== agentState || k !== kaState || v1 !== (holder === h1) || v2 !== (holder === h2)) return `haagent ${s}, keepalived ${k}, VIP h1 ${v1}, h2 ${v2}`;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}
