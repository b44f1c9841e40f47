/**
 * `instances[].auth`: none, the VRRPv2 simple password (keepalived `auth_type PASS`), or HMAC
 * authentication of every advert (keepalived 2.4 `auth_hmac`):
 *
 *   auth: { type: hmac, keys: { 1: "hex:...", 2: "file:/etc/haagent/keys/vrrp51" },
 *           active-key: 1, anti-replay: time, time-window: 5s, mode: enforce }
 *
 * A key value is `hex:` and 64..128 hex digits, `file:` and an absolute path (the file holds a
 * `hex:` value or an ASCII key, read by loadConfig, not here: the core does no I/O), or an
 * ASCII string without spaces, as keepalived reads them; 32..64 bytes. No message ever shows a
 * key value (only its id and length).
 * Defaults as keepalived's: active-key the only key when there is one (required otherwise),
 * anti-replay time, time-window max(3 x advert interval in whole seconds, 5 s), mode enforce.
 */
import { Collector, isRecord, shown, type PathSegment } from './collector.js';
import type { AuthConfig, HmacAuthConfig, HmacKeyConfig, HmacMode } from './types.js';
import type { VrrpVersion } from '../fsm/types.js';

const NONE_KEYS = new Set(['type']);
const PASS_KEYS = new Set(['type', 'password']);
const HMAC_KEYS = new Set(['type', 'keys', 'active-key', 'anti-replay', 'time-window', 'mode']);
export const HMAC_KEY_MIN_BYTES = 32;
export const HMAC_KEY_MAX_BYTES = 64;
const HMAC_MODES: readonly HmacMode[] = ['enforce', 'permissive', 'receive-only'];
const WINDOW_MIN_SEC = 1;
const WINDOW_MAX_SEC = 300;

export type KeyValue = { readonly ok: true; readonly secret: Uint8Array } | { readonly ok: false; readonly problem: string };

/**
 * A key value (`hex:...` or ASCII; not `file:`) -> its bytes, or why not. The problem never
 * quotes the value. Shared by the config (inline keys) and the key-file reader.
 */
export function decodeKeyValue(text: string): KeyValue {
  let secret: Uint8Array;
  if (text.startsWith('hex:')) {
    const digits = text.slice(4);
    if (!/^([0-9a-fA-F]{2})+$/.test(digits)) return { ok: false, problem: 'a hex: key needs an even number of hex digits and nothing else' };
    secret = new Uint8Array(digits.length / 2);
    for (let i = 0; i < secret.length; i++) secret[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  } else {
    if (!/^[\x21-\x7e]+$/.test(text)) return { ok: false, problem: 'an ASCII key is printable ASCII without spaces (or use hex: or file:)' };
    secret = new TextEncoder().encode(text);
  }
  if (secret.length < HMAC_KEY_MIN_BYTES || secret.length > HMAC_KEY_MAX_BYTES) {
    return { ok: false, problem: `is ${secret.length} bytes; a key is ${HMAC_KEY_MIN_BYTES}..${HMAC_KEY_MAX_BYTES} bytes (openssl rand -hex 32 makes one)` };
  }
  return { ok: true, secret };
}

function parseKey(c: Collector, id: string, raw: unknown, path: readonly PathSegment[]): HmacKeyConfig | undefined {
  const p = [...path, id];
  if (!/^[0-9]{1,3}$/.test(id) || Number(id) < 1 || Number(id) > 255) return c.fail(p, `key id ${shown(id)} must be an integer from 1 to 255`);
  if (typeof raw !== 'string' || raw === '') return c.fail(p, 'must be a key: "hex:<64..128 hex digits>", "file:/absolute/path" or an ASCII string');
  if (raw.startsWith('file:')) {
    const file = raw.slice(5);
    if (!file.startsWith('/') || file.length > 4096 || file.includes('\0')) return c.fail(p, 'a file: key needs an absolute path');
    return { id: Number(id), file };
  }
  const v = decodeKeyValue(raw);
  if (!v.ok) return c.fail(p, `key ${id} ${v.problem.startsWith('is ') ? v.problem : `is not usable: ${v.problem}`}`);
  return { id: Number(id), secret: v.secret };
}

/** keepalived's default window: 3 advert intervals in whole seconds, at least 5 s, at most 300 s. */
export function defaultTimeWindowSec(advertIntervalCs: number): number {
  return Math.min(WINDOW_MAX_SEC, Math.max(5, 3 * Math.floor(advertIntervalCs / 100)));
}

function hmac(c: Collector, raw: Record<string, unknown>, intervalCs: number, path: readonly PathSegment[]): HmacAuthConfig | undefined {
  const keysRaw = raw['keys'];
  const kp = [...path, 'keys'];
  if (!isRecord(keysRaw)) return c.fail(kp, 'is required with type hmac: a mapping of key id (1..255) to key, e.g. { 1: "hex:<64 hex digits>" }');
  const ids = Object.keys(keysRaw);
  if (ids.length > 255) return c.limit(kp, `has ${ids.length} keys, over the limit of 255 (key ids are 1..255)`);
  if (ids.length === 0) return c.fail(kp, 'needs at least one key');
  const keys = ids.map((id) => parseKey(c, id, keysRaw[id], kp)).filter((k): k is HmacKeyConfig => k !== undefined);
  const seen = new Set<number>();
  for (const k of keys) {
    if (seen.has(k.id)) c.fail([...kp, String(k.id)], `key id ${k.id} is listed twice`);
    seen.add(k.id);
  }
  let activeKey = c.int(raw, 'active-key', path, 1, 255);
  if (activeKey === undefined && raw['active-key'] === undefined) {
    if (ids.length === 1 && keys[0] !== undefined) activeKey = keys[0].id;
    else c.fail([...path, 'active-key'], 'is required with more than one key: the id adverts are signed with');
  }
  if (activeKey !== undefined && ids.length === keys.length && !seen.has(activeKey)) {
    c.fail([...path, 'active-key'], `${activeKey} is not one of the keys (${[...seen].join(', ')})`);
  }
  const antiReplay = raw['anti-replay'] ?? 'time';
  if (antiReplay !== 'time' && antiReplay !== 'monotonic') c.fail([...path, 'anti-replay'], `must be time or monotonic, got ${shown(antiReplay)}`);
  const mode = raw['mode'] ?? 'enforce';
  if (!(HMAC_MODES as readonly unknown[]).includes(mode)) c.fail([...path, 'mode'], `must be one of ${HMAC_MODES.join(', ')}, got ${shown(mode)}`);
  const windowMs = c.durationMs(raw, 'time-window', path);
  if (windowMs !== undefined && (windowMs % 1000 !== 0 || windowMs < WINDOW_MIN_SEC * 1000 || windowMs > WINDOW_MAX_SEC * 1000)) {
    c.fail([...path, 'time-window'], `must be whole seconds from ${WINDOW_MIN_SEC}s to ${WINDOW_MAX_SEC}s, got ${windowMs} ms`);
  }
  const timeWindowSec = windowMs !== undefined && windowMs % 1000 === 0 ? windowMs / 1000 : defaultTimeWindowSec(intervalCs);
  return {
    type: 'hmac', keys: Object.freeze(keys), activeKey: activeKey ?? 0,
    antiReplay: antiReplay === 'monotonic' ? 'monotonic' : 'time',
    timeWindowSec: Math.min(WINDOW_MAX_SEC, Math.max(WINDOW_MIN_SEC, timeWindowSec)),
    mode: (HMAC_MODES as readonly unknown[]).includes(mode) ? (mode as HmacMode) : 'enforce',
  };
}

export function parseAuth(c: Collector, raw: unknown, version: VrrpVersion, intervalCs: number, path: readonly PathSegment[]): AuthConfig {
  if (raw === undefined) return { type: 'none' };
  if (!isRecord(raw)) {
    c.fail(path, 'must be a mapping like { type: pass, password: secret } or { type: hmac, keys: { 1: "hex:..." } }');
    return { type: 'none' };
  }
  const type = raw['type'] ?? 'none';
  if (type !== 'none' && type !== 'pass' && type !== 'hmac') {
    c.fail([...path, 'type'], `must be "none", "pass" or "hmac", got ${shown(type)}`);
    return { type: 'none' };
  }
  c.unknownKeys(raw, type === 'hmac' ? HMAC_KEYS : type === 'pass' ? PASS_KEYS : NONE_KEYS, path);
  if (type === 'hmac') return hmac(c, raw, intervalCs, path) ?? { type: 'none' };
  if (type === 'none') return { type: 'none' };
  if (version !== 2) c.fail([...path, 'type'], 'authentication exists only in VRRPv2 (RFC 3768); RFC 5798 removed it, RFC 9568 §9 too (type hmac, keepalived 2.4 auth_hmac, works with both)');
  const password = c.str(raw, 'password', path);
  if (password === undefined) {
    if (raw['password'] === undefined) c.fail([...path, 'password'], 'is required when type is pass');
    return { type: 'none' };
  }
  if (new TextEncoder().encode(password).length > 8) c.fail([...path, 'password'], 'is at most 8 bytes (VRRPv2 auth data field); keepalived truncates silently, we refuse');
  return { type: 'pass', password };
}
