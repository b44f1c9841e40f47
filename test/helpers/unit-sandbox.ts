/**
 * The [Service] section of a systemd unit file, and a reproduction of its sandbox without a
 * running systemd: a shell script run under `unshare --mount` (a private mount namespace) that
 * makes the mounts read-only / hidden / private the way the unit's properties say, moves itself
 * into a delegated cgroup, sets the umask, and execs the command under `setpriv` (capability
 * bounding set, no_new_privs).
 *
 * Reproduced: CapabilityBoundingSet, NoNewPrivileges, UMask, ProtectSystem=strict,
 * ReadWritePaths (mapped to per-test directories), RuntimeDirectory/StateDirectory (created with
 * their modes), ProtectHome=yes, PrivateTmp=yes, PrivateDevices=yes (a /dev of pseudo devices),
 * ProtectKernelTunables (/proc/sys and /sys read-only), ProtectKernelModules (no module tree),
 * ProtectControlGroups (every cgroup mount read-only), Delegate (a cgroup of its own).
 *
 * NOT reproduced (seccomp and namespace flags systemd sets, no tool for them here):
 * SystemCallFilter, SystemCallArchitectures, SystemCallErrorNumber, RestrictAddressFamilies,
 * RestrictNamespaces, RestrictRealtime, RestrictSUIDSGID, LockPersonality, ProtectClock,
 * ProtectHostname, ProtectKernelLogs, PrivateMounts, Type=notify; and LimitRTPRIO, LimitMEMLOCK
 * (raising a hard limit needs CAP_SYS_RESOURCE). {@link NOT_REPRODUCED} lists
 * them; a property in neither list fails {@link sandboxScript}, so a new one cannot slip by.
 */
import { readFileSync } from 'node:fs';

/** Property name -> its values in file order (a property may be given more than once). */
export type UnitProperties = ReadonlyMap<string, readonly string[]>;

/** The [Service] section's properties; comments and other sections are ignored. */
export function parseServiceSection(path: string): UnitProperties {
  const out = new Map<string, string[]>();
  let inService = false;
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) { inService = line === '[Service]'; continue; }
    if (!inService) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`${path}: not KEY=VALUE: ${line}`);
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** Properties the sandbox script deliberately leaves out (see the module comment). */
export const NOT_REPRODUCED: readonly string[] = [
  'SystemCallFilter', 'SystemCallArchitectures', 'SystemCallErrorNumber', 'RestrictAddressFamilies',
  'RestrictNamespaces', 'RestrictRealtime', 'RestrictSUIDSGID', 'LockPersonality', 'ProtectClock',
  'ProtectHostname', 'ProtectKernelLogs', 'PrivateMounts',
  // Resource limits: raising a hard limit needs CAP_SYS_RESOURCE, which a test host may lack.
  'LimitRTPRIO', 'LimitMEMLOCK',
];
/** Properties about starting and stopping, not the sandbox (the test drives those itself). */
const LIFECYCLE: readonly string[] = [
  'Type', 'NotifyAccess', 'ExecStart', 'ExecReload', 'Restart', 'RestartSec', 'KillSignal', 'TimeoutStopSec',
  'AmbientCapabilities', // only with a non-root User=; the agent runs as root
];

export interface SandboxDirs {
  /** Replaces /run/<RuntimeDirectory>. */
  readonly runtimeDir: string;
  /** Replaces /var/lib/<StateDirectory>. */
  readonly stateDir: string;
  /** Replaces the unit's own cgroup (Delegate=yes): an existing cgroup v2 directory. */
  readonly cgroupDir: string;
  /**
   * Where the package is installed (a real install lives under /usr or /opt, which the unit only
   * makes read-only). A checkout under /tmp, /var/tmp, /home or /root would be hidden by
   * PrivateTmp/ProtectHome, so it is bound back, read-only, at the same path inside.
   */
  readonly installDir?: string;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const yes = (p: UnitProperties, k: string): boolean => (p.get(k) ?? []).some((v) => v === 'yes' || v === 'true');
const one = (p: UnitProperties, k: string): string | undefined => p.get(k)?.at(-1);

/** `CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW` -> setpriv's `-all,+net_admin,+net_raw`. */
export function boundingSet(p: UnitProperties): string {
  const caps = (p.get('CapabilityBoundingSet') ?? []).flatMap((v) => v.split(/\s+/)).filter((c) => c !== '');
  if (caps.some((c) => c.startsWith('~'))) throw new Error('CapabilityBoundingSet=~... (a deny list) is not handled');
  return ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
}

/**
 * A POSIX sh script: run as `sh -c SCRIPT sh COMMAND ARGS...` inside `unshare --mount
 * --propagation private` (it changes the mounts of its own namespace only). Throws for a
 * property it neither reproduces nor knowingly leaves out, and for a ReadWritePaths entry it
 * cannot map.
 */
export function sandboxScript(p: UnitProperties, dirs: SandboxDirs): string {
  const known = new Set([...NOT_REPRODUCED, ...LIFECYCLE, 'CapabilityBoundingSet', 'NoNewPrivileges', 'UMask', 'ProtectSystem',
    'ReadWritePaths', 'RuntimeDirectory', 'RuntimeDirectoryMode', 'StateDirectory', 'StateDirectoryMode', 'ProtectHome',
    'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectControlGroups', 'Delegate']);
  for (const k of p.keys()) if (!known.has(k)) throw new Error(`unit property ${k} is neither reproduced nor listed as left out`);
  if (one(p, 'ProtectSystem') !== 'strict') throw new Error('the reproduction expects ProtectSystem=strict');

  const runtimeName = one(p, 'RuntimeDirectory');
  const stateName = one(p, 'StateDirectory');
  const mapPath = (raw: string): { path: string; optional: boolean } => {
    const optional = raw.startsWith('-');
    const path = optional ? raw.slice(1) : raw;
    if (runtimeName !== undefined && path === `/run/${runtimeName}`) return { path: dirs.runtimeDir, optional };
    if (stateName !== undefined && path === `/var/lib/${stateName}`) return { path: dirs.stateDir, optional };
    if (/^\/sys\/fs\/cgroup\/.*\.service$/.test(path)) return { path: dirs.cgroupDir, optional };
    if (path.startsWith('/proc/sys/')) return { path, optional };
    throw new Error(`ReadWritePaths=${raw}: no mapping for the reproduction`);
  };
  const rw = (p.get('ReadWritePaths') ?? []).flatMap((v) => v.split(/\s+/)).filter((v) => v !== '').map(mapPath);

  const s: string[] = ['set -eu'];
  // Delegate=yes: the service runs in a cgroup of its own, which it may manage.
  if (yes(p, 'Delegate')) s.push(`echo $$ > ${q(dirs.cgroupDir)}/cgroup.procs`);
  s.push(`install -d -m ${one(p, 'RuntimeDirectoryMode') ?? '0755'} ${q(dirs.runtimeDir)}`);
  s.push(`install -d -m ${one(p, 'StateDirectoryMode') ?? '0755'} ${q(dirs.stateDir)}`);
  // Made while the file systems are still writable (in the runtime directory, which the test
  // removes); mounted over /dev below.
  if (yes(p, 'PrivateDevices')) s.push(`pd=${q(`${dirs.runtimeDir}/.dev`)}`, 'mkdir "$pd"');
  const install = dirs.installDir;
  const hiddenRoot = install === undefined ? undefined
    : ['/tmp', '/var/tmp', '/home', '/root'].find((r) => install === r || install.startsWith(`${r}/`));
  if (install !== undefined && hiddenRoot !== undefined) {
    s.push(`inst=${q(`${dirs.runtimeDir}/.install`)}`, 'mkdir "$inst"', `mount -n --bind ${q(install)} "$inst"`);
  }
  // Mount points, deepest last, from mountinfo (field 5; "\\040" escapes are left as they are).
  s.push("mounts() { awk '{print $5}' /proc/self/mountinfo | sort -u; }");
  s.push('ro() { mount -n -o remount,bind,ro "$1" 2>/dev/null || mount -n --bind "$1" "$1" && mount -n -o remount,bind,ro "$1"; }');
  // ProtectSystem=strict: everything read-only except the API file systems.
  s.push('for m in $(mounts); do case "$m" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) ;; *) ro "$m" ;; esac; done');
  if (yes(p, 'ProtectKernelTunables')) s.push('ro /proc/sys', 'for m in $(mounts); do case "$m" in /sys|/sys/*) ro "$m" ;; esac; done');
  if (yes(p, 'ProtectControlGroups')) s.push('for m in $(mounts); do case "$m" in /sys/fs/cgroup|/sys/fs/cgroup/*) ro "$m" ;; esac; done');
  if (yes(p, 'ProtectKernelModules')) s.push('for d in /lib/modules /usr/lib/modules; do if [ -d "$d" ]; then mount -n -t tmpfs -o ro,mode=0000 none "$d"; fi; done');
  if (yes(p, 'ProtectHome')) s.push('for d in /home /root /run/user; do if [ -d "$d" ]; then mount -n -t tmpfs -o ro,mode=0000 none "$d"; fi; done');
  if (yes(p, 'PrivateTmp')) s.push('mount -n -t tmpfs -o mode=1777 none /tmp', 'if [ -d /var/tmp ]; then mount -n -t tmpfs -o mode=1777 none /var/tmp; fi');
  if (install !== undefined && hiddenRoot !== undefined) {
    // The checkout back where it was (read-only): the tmpfs over its root is made writable just
    // long enough to create the mount point.
    s.push(`mount -n -o remount,rw ${q(hiddenRoot)}`, `mkdir -p ${q(install)}`, `mount -n --bind "$inst" ${q(install)}`,
      `mount -n -o remount,bind,ro ${q(install)}`, `if [ ${q(hiddenRoot)} != /tmp ] && [ ${q(hiddenRoot)} != /var/tmp ]; then mount -n -o remount,ro ${q(hiddenRoot)}; fi`);
  }
  if (yes(p, 'PrivateDevices')) {
    s.push('mount -n -t tmpfs -o mode=0755 none "$pd"',
      'for d in null zero full random urandom tty; do touch "$pd/$d"; mount -n --bind "/dev/$d" "$pd/$d"; done',
      'mkdir "$pd/pts" "$pd/shm"; mount -n -t tmpfs -o mode=1777 none "$pd/shm"',
      'mount -n --move "$pd" /dev');
  }
  // ReadWritePaths= (and the runtime/state directories) writable again, below the read-only mounts.
  for (const r of rw) {
    const bind = `mount -n --bind ${q(r.path)} ${q(r.path)} && mount -n -o remount,bind,rw ${q(r.path)}`;
    s.push(r.optional ? `if [ -e ${q(r.path)} ]; then ${bind}; fi` : bind);
  }
  const umask = one(p, 'UMask');
  if (umask !== undefined) s.push(`umask ${umask}`);
  const nnp = yes(p, 'NoNewPrivileges') ? '--nnp ' : '';
  s.push(`exec setpriv ${nnp}--inh-caps -all --bounding-set ${boundingSet(p)} -- "$@"`);
  return s.join('\n');
}

/** Properties `systemd-run -p` cannot or should not take from the file (the test gives the command). */
const NOT_FOR_SYSTEMD_RUN = new Set(['ExecStart', 'ExecReload', 'Restart', 'RestartSec']);

/**
 * The unit's [Service] properties as `systemd-run` arguments (`-p KEY=VALUE`, one per value),
 * for running the agent as a transient unit named `unit` in network namespace `netns`: the
 * runtime and state directory names and the unit's own cgroup path are replaced by per-test
 * ones, so a test never touches a real /run/haagent or /var/lib/haagent.
 */
export function systemdRunArgs(p: UnitProperties, names: { readonly unit: string; readonly runtime: string; readonly state: string; readonly netns: string }): string[] {
  const runtime = one(p, 'RuntimeDirectory');
  const state = one(p, 'StateDirectory');
  const out = [`--unit=${names.unit}`, `-p`, `NetworkNamespacePath=/run/netns/${names.netns}`];
  for (const [k, values] of p) {
    if (NOT_FOR_SYSTEMD_RUN.has(k)) continue;
    for (const v of values) {
      let value = v;
      if (k === 'RuntimeDirectory') value = names.runtime;
      else if (k === 'StateDirectory') value = names.state;
      else if (k === 'ReadWritePaths') {
        value = v.split(/\s+/).map((path) => {
          const opt = path.startsWith('-') ? '-' : '';
          const bare = opt === '' ? path : path.slice(1);
          if (runtime !== undefined && bare === `/run/${runtime}`) return `${opt}/run/${names.runtime}`;
          if (state !== undefined && bare === `/var/lib/${state}`) return `${opt}/var/lib/${names.state}`;
          if (/^\/sys\/fs\/cgroup\/.*\.service$/.test(bare)) return `${opt}/sys/fs/cgroup/system.slice/${names.unit}.service`;
          return path;
        }).join(' ');
      }
      out.push('-p', `${k}=${value}`);
    }
  }
  return out;
}

/** Whether systemd is PID 1 and answers (then the unit can be run for real with systemd-run). */
export function systemdRunning(run: (cmd: string, args: readonly string[]) => string | undefined): boolean {
  const comm = run('ps', ['-p', '1', '-o', 'comm=']);
  if (comm?.trim() !== 'systemd') return false;
  const state = run('systemctl', ['is-system-running'])?.trim();
  return state === 'running' || state === 'degraded';
}
