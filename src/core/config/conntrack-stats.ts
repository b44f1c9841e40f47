/**
 * Decoder of `conntrackd -s` (general statistics, conntrackd 1.4): the entry counts of the
 * internal cache (this node's connections) and the external cache (the peer's, committed at a
 * takeover), and the sync link's packet counters. Never throws: text it cannot read gives
 * `{ ok: false, reason, detail }`. Input is bounded (only the first MAX_STATS_CHARS are read).
 */

export interface ConntrackStats {
  readonly internalEntries: number;
  readonly externalEntries: number;
  /** The link conntrackd sends on now (the main one, or a redundant one after a failover). */
  readonly activeDevice: string;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly sendErrors: number;
  readonly receiveErrors: number;
}

export type StatsResult = { ok: true; stats: ConntrackStats } | { ok: false; reason: string; detail: string };

export const MAX_STATS_CHARS = 16_384;

function count(section: string | undefined, label: RegExp): number | undefined {
  const m = section === undefined ? null : label.exec(section);
  const n = m === null ? Number.NaN : Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function parseConntrackStats(text: string): StatsResult {
  const t = text.slice(0, MAX_STATS_CHARS);
  const sections = new Map<string, string>();
  for (const part of t.split(/\n\s*\n/)) {
    const head = /^(cache internal|cache external|UDP traffic)/.exec(part);
    if (head?.[1] !== undefined) sections.set(head[1], part);
  }
  const active = /current active connections:\s+(\d+)/;
  const internalEntries = count(sections.get('cache internal'), active);
  const externalEntries = count(sections.get('cache external'), active);
  const udp = sections.get('UDP traffic');
  const activeDevice = udp === undefined ? undefined : /active device=([^)\s]+)\)/.exec(udp)?.[1];
  const packetsSent = count(udp, /(\d+) Pckts sent/);
  const packetsReceived = count(udp, /(\d+) Pckts recv/);
  const sendErrors = count(udp, /(\d+) Error send/);
  const receiveErrors = count(udp, /(\d+) Error recv/);
  if (internalEntries === undefined || externalEntries === undefined) {
    return { ok: false, reason: 'no-cache-counts', detail: t.slice(0, 200) };
  }
  if (activeDevice === undefined || packetsSent === undefined || packetsReceived === undefined || sendErrors === undefined || receiveErrors === undefined) {
    return { ok: false, reason: 'no-udp-counters', detail: t.slice(0, 200) };
  }
  return { ok: true, stats: { internalEntries, externalEntries, activeDevice, packetsSent, packetsReceived, sendErrors, receiveErrors } };
}
