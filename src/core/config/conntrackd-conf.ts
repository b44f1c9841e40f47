/**
 * The conntrackd.conf(5) text haagent writes for an instance's `conntrack-sync` (conntrackd
 * 1.4: FTFW mode, UDP unicast). Pure: the daemon writes it to a file and starts conntrackd on it.
 *
 * - Its own LockFile and UNIX control socket (the defaults /var/lock/conntrack.lock and
 *   /var/run/conntrackd.ctl are one per host, not per network namespace or instance).
 * - The main link is `UDP Default`, the redundant ones further `UDP` blocks: conntrackd sends on
 *   one and moves to the next when its link goes down.
 * - Only TCP is synchronised. Entries whose original source or reply source is one of the
 *   ignored addresses are not: loopback, the sync link addresses (this node's own traffic on a
 *   dedicated link) unless a real server has that address, and the floating SNAT address (the
 *   entries a backup's own real server holds for connections the master forwarded to it, which
 *   the master's entry supersedes at a takeover).
 * - PurgeTimeout: how long the old master's entries live after `conntrackd -t`.
 *
 * Deliberately not here: the node's own service addresses in the ignore list (a real server on
 * the balancer node has its connections' reply source there, and those must be synchronised).
 */
import type { ConntrackSyncConfig } from './conntrack.js';

export interface ConntrackdFiles {
  readonly lockFile: string;
  readonly socketPath: string;
  readonly logFile: string;
}

/** Seconds the entries of a node that left MASTER keep after `conntrackd -t`. */
export const PURGE_TIMEOUT_S = 15;

/**
 * The addresses whose connections are never synchronised (see the module comment).
 * `realServers`: the addresses of the instance's real servers, never ignored (the reply source
 * of every balanced connection is one of them).
 */
export function ignoredAddresses(sync: ConntrackSyncConfig, realServers: readonly string[]): readonly string[] {
  const keep = new Set(realServers);
  const links = sync.links.flatMap((l) => [l.local, l.peer]).filter((a) => !keep.has(a));
  return [...new Set(['127.0.0.1', ...links, sync.snat.address])];
}

/**
 * The config file text; a path is written as given, so it must not hold blanks or quotes
 * (the caller builds them from the state directory and the instance name, which it checks).
 */
export function conntrackdConf(sync: ConntrackSyncConfig, files: ConntrackdFiles, realServers: readonly string[]): string {
  const udp = sync.links.map((l, i) => [
    `  UDP${i === 0 ? ' Default' : ''} {`,
    `    IPv4_address ${l.local}`,
    `    IPv4_Destination_Address ${l.peer}`,
    `    Port ${sync.port}`,
    `    Interface ${l.interface}`,
    '    SndSocketBuffer 1249280',
    '    RcvSocketBuffer 1249280',
    '    Checksum on',
    '  }',
  ].join('\n'));
  return [
    '# Written by haagent for conntrack-sync; rewritten at every start.',
    'General {',
    '  Systemd off',
    '  HashSize 32768',
    '  HashLimit 131072',
    '  Syslog off',
    `  LogFile ${files.logFile}`,
    `  LockFile ${files.lockFile}`,
    '  UNIX {',
    `    Path ${files.socketPath}`,
    '  }',
    '  NetlinkBufferSize 2097152',
    '  NetlinkBufferSizeMaxGrowth 8388608',
    '  Filter From Userspace {',
    '    Protocol Accept {',
    '      TCP',
    '    }',
    '    Address Ignore {',
    ...ignoredAddresses(sync, realServers).map((a) => `      IPv4_address ${a}`),
    '    }',
    '  }',
    '}',
    'Sync {',
    '  Mode FTFW {',
    '    ResendQueueSize 131072',
    `    PurgeTimeout ${PURGE_TIMEOUT_S}`,
    '    StartupResync on',
    '  }',
    ...udp,
    '}',
    '',
  ].join('\n');
}
