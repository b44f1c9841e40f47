/**
 * Peer hellos: the haagent-only heartbeat exchanged over UDP on every configured path, besides
 * standard VRRP. A backup that still hears the master's hellos on any path does not take over;
 * a backup's hellos tell the master its peer is alive; hellos carry the fencing epoch and the
 * config fingerprint so both nodes can detect a stale master and mismatched configs.
 *
 * Wire format (one UDP datagram, at most HELLO_MAX_BYTES):
 *
 *     <JSON object, UTF-8>                       without a key
 *     <JSON object, UTF-8> "\n" <64 hex digits>  with a key: HMAC-SHA256(key, JSON bytes)
 *
 * The JSON never contains a raw newline (JSON.stringify escapes it inside strings), so the first
 * "\n" separates the MAC. With a key, the MAC is checked (constant time) before the JSON is even
 * parsed. Unknown JSON fields are ignored (dropped from the result) so a later minor version can
 * add fields without a rolling upgrade losing its heartbeats; a breaking change bumps `v`.
 *
 * Version 2 (this one) added `boot` (a random 64-bit nonce per sender incarnation) with
 * `bootMs` (the sender's wall clock when that incarnation started, which orders the boots of one
 * node), and made `seq` a counter within that boot (1, 2, 3... up to HELLO_MAX_SEQ, never
 * wrapping), so a receiver can refuse replays (presence.ts); it also bounds `epoch` to
 * HELLO_MAX_EPOCH. A
 * version-1 hello is rejected as 'bad-field' (v): hellos are haagent-only, both nodes are
 * upgraded together, and VRRP keeps working across the upgrade meanwhile.
 *
 * Bounds: `epoch` <= HELLO_MAX_EPOCH (2^48), far inside exact doubles, so adding one to any epoch
 * a peer sent can never leave the safe integers; `seq` <= HELLO_MAX_SEQ likewise.
 *
 * Deliberately not checked here: that the hello is for one of our instances, that it is not from
 * ourselves, that it came from the configured peer address, and replays (presence.ts keeps the
 * per-boot replay window). Those are the caller's.
 */
import { nodeCrypto } from '../lazy-crypto.js';
import { HaagentError } from '../errors.js';
import type { VrrpState } from '../fsm/types.js';
import { parseIp } from '../packet/ip.js';

export const HELLO_VERSION = 2;
/** Largest `epoch` accepted and produced: 2^48, far below 2^53 so epoch + 1 stays exact. */
export const HELLO_MAX_EPOCH = 2 ** 48;
/** Largest `seq` (2^48 - 1): at one hello per 10 ms, 89,000 years; a sender then starts a new boot. */
export const HELLO_MAX_SEQ = 2 ** 48 - 1;
/** `boot`: 16 lower-case hex digits (64 random bits). */
export const HELLO_BOOT_HEX_LENGTH = 16;
/** Largest `bootMs` (2^48 - 1 ms after 1970: the year 10889). */
export const HELLO_MAX_BOOT_MS = 2 ** 48 - 1;
/** Longest datagram accepted (and produced). */
export const HELLO_MAX_BYTES = 2048;
/** Longest `instance` / `node` text. */
export const HELLO_MAX_NAME = 255;
/** Largest `advertIntervalCs`: VRRPv2's 255 s. */
export const HELLO_MAX_ADVERT_INTERVAL_CS = 25_500;
export const HELLO_MAC_HEX_LENGTH = 64;

export const HELLO_STATES: readonly VrrpState[] = Object.freeze(['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOPPED']);

export interface Hello {
  readonly v: 2;
  /** Instance name (config `name`). */
  readonly instance: string;
  readonly vrid: number;
  /** Sender's node id, e.g. its host name. */
  readonly node: string;
  readonly state: VrrpState;
  /** Effective priority 0..255 (after health checks). */
  readonly priority: number;
  /** Sender's primary address on its VRRP interface: the VRRP source address for tie-breaks. */
  readonly vrrpAddress: string;
  readonly advertIntervalCs: number;
  /** Fencing epoch: an integer 0..HELLO_MAX_EPOCH. */
  readonly epoch: number;
  /** Config fingerprint (lower-case hex, see fingerprint.ts). */
  readonly fingerprint: string;
  /** Random per sender incarnation (16 lower-case hex digits); `seq` counts within it. */
  readonly boot: string;
  /** Sender's wall clock (ms since 1970) when `boot` began: orders the boots of one node. */
  readonly bootMs: number;
  /** 1..HELLO_MAX_SEQ (0 accepted), incremented per send within one `boot`; never wraps. */
  readonly seq: number;
}

export type HelloRejectReason = 'too-long' | 'bad-json' | 'bad-field' | 'bad-mac' | 'missing-mac' | 'unexpected-mac';

export type DecodeHelloResult =
  | { readonly ok: true; readonly hello: Hello }
  | { readonly ok: false; readonly reason: HelloRejectReason; readonly detail: string };

const NEWLINE = 0x0a;
const MAC_HEX = /^[0-9a-fA-F]{64}$/;
const FINGERPRINT_HEX = /^[0-9a-f]{1,64}$/;
const BOOT_HEX = /^[0-9a-f]{16}$/;
// Names are shown in logs and status: no control characters.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Lower-case hex HMAC-SHA256 of `bytes`. */
function hmacHex(key: string, bytes: Uint8Array): string {
  return nodeCrypto().createHmac('sha256', key).update(bytes).digest('hex');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function nameProblem(v: unknown): string | undefined {
  if (typeof v !== 'string') return `must be a string, got ${typeof v}`;
  if (v.length === 0) return 'must not be empty';
  if (v.length > HELLO_MAX_NAME) return `is ${v.length} characters long; at most ${HELLO_MAX_NAME}`;
  if (CONTROL.test(v)) return 'contains a control character';
  return undefined;
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * Why `raw` is not a valid hello ("field: problem"), or undefined when it is. Exported so the
 * encoder and tests share one rule set.
 */
export function helloProblem(raw: unknown): string | undefined {
  if (!isRecord(raw)) return `a hello is a JSON object, got ${Array.isArray(raw) ? 'an array' : show(raw)}`;
  if (raw['v'] !== HELLO_VERSION) return `v: must be ${HELLO_VERSION}, got ${show(raw['v'])}`;
  for (const key of ['instance', 'node'] as const) {
    const p = nameProblem(raw[key]);
    if (p !== undefined) return `${key}: ${p}`;
  }
  if (!isInt(raw['vrid'], 1, 255)) return `vrid: must be an integer 1..255, got ${show(raw['vrid'])}`;
  const state = raw['state'];
  if (typeof state !== 'string' || !(HELLO_STATES as readonly string[]).includes(state)) {
    return `state: must be one of ${HELLO_STATES.join(', ')}, got ${show(state)}`;
  }
  if (!isInt(raw['priority'], 0, 255)) return `priority: must be an integer 0..255, got ${show(raw['priority'])}`;
  const addr = raw['vrrpAddress'];
  if (typeof addr !== 'string' || parseIp(addr) === undefined) {
    return `vrrpAddress: must be an IPv4 or IPv6 address (no zone, no prefix), got ${show(addr)}`;
  }
  if (!isInt(raw['advertIntervalCs'], 1, HELLO_MAX_ADVERT_INTERVAL_CS)) {
    return `advertIntervalCs: must be an integer 1..${HELLO_MAX_ADVERT_INTERVAL_CS}, got ${show(raw['advertIntervalCs'])}`;
  }
  if (!isInt(raw['epoch'], 0, HELLO_MAX_EPOCH)) return `epoch: must be an integer 0..${HELLO_MAX_EPOCH}, got ${show(raw['epoch'])}`;
  const fp = raw['fingerprint'];
  if (typeof fp !== 'string' || !FINGERPRINT_HEX.test(fp)) return `fingerprint: must be 1..64 lower-case hex digits, got ${show(fp)}`;
  const boot = raw['boot'];
  if (typeof boot !== 'string' || !BOOT_HEX.test(boot)) return `boot: must be ${HELLO_BOOT_HEX_LENGTH} lower-case hex digits, got ${show(boot)}`;
  if (!isInt(raw['bootMs'], 0, HELLO_MAX_BOOT_MS)) return `bootMs: must be an integer 0..${HELLO_MAX_BOOT_MS}, got ${show(raw['bootMs'])}`;
  if (!isInt(raw['seq'], 0, HELLO_MAX_SEQ)) return `seq: must be an integer 0..${HELLO_MAX_SEQ}, got ${show(raw['seq'])}`;
  return undefined;
}

/** The hello's fields in wire order; drops anything else the object carries. */
function canonical(h: Hello): Hello {
  return {
    v: h.v,
    instance: h.instance,
    vrid: h.vrid,
    node: h.node,
    state: h.state,
    priority: h.priority,
    vrrpAddress: h.vrrpAddress,
    advertIntervalCs: h.advertIntervalCs,
    epoch: h.epoch,
    fingerprint: h.fingerprint,
    boot: h.boot,
    bootMs: h.bootMs,
    seq: h.seq,
  };
}

/**
 * Hello -> datagram. With `key`, appends "\n" and the hex HMAC-SHA256 of the JSON bytes.
 * Throws HaagentError('HA_ERR_ENCODE') for a hello the peer would reject (a bug in the caller),
 * and HA_ERR_INVALID_ARGUMENT for an empty key (an empty secret authenticates nothing).
 */
export function encodeHello(h: Hello, key?: string): Uint8Array {
  const problem = helloProblem(h);
  if (problem !== undefined) throw new HaagentError('HA_ERR_ENCODE', `hello: ${problem}`);
  if (key !== undefined && key.length === 0) throw new HaagentError('HA_ERR_INVALID_ARGUMENT', 'hello key must not be empty');
  const json = utf8.encode(JSON.stringify(canonical(h)));
  let out = json;
  if (key !== undefined) {
    const mac = utf8.encode(`\n${hmacHex(key, json)}`);
    out = new Uint8Array(json.length + mac.length);
    out.set(json, 0);
    out.set(mac, json.length);
  }
  if (out.length > HELLO_MAX_BYTES) {
    throw new HaagentError('HA_ERR_ENCODE', `hello is ${out.length} bytes; at most ${HELLO_MAX_BYTES}`);
  }
  return out;
}

const reject = (reason: HelloRejectReason, detail: string): DecodeHelloResult => ({ ok: false, reason, detail });

/**
 * Datagram -> hello. Never throws. With `key` (non-empty), a hello without a valid MAC is
 * rejected; without a key (or with an empty one, treated as no key), a hello carrying a MAC is
 * rejected as 'unexpected-mac' so a key configured on one node only is reported, not ignored.
 */
export function decodeHello(bytes: Uint8Array, key?: string): DecodeHelloResult {
  if (bytes.length > HELLO_MAX_BYTES) return reject('too-long', `${bytes.length} bytes; at most ${HELLO_MAX_BYTES}`);
  const nl = bytes.indexOf(NEWLINE);
  const json = nl === -1 ? bytes : bytes.subarray(0, nl);
  const keyed = key !== undefined && key.length > 0;

  if (nl === -1 && keyed) return reject('missing-mac', 'a key is configured but the hello carries no MAC (is peer-key set on the peer?)');
  if (nl !== -1 && !keyed) return reject('unexpected-mac', 'the hello carries a MAC but no key is configured here (is peer-key set on this node?)');
  if (keyed) {
    let macText: string;
    try {
      macText = strictUtf8.decode(bytes.subarray(nl + 1));
    } catch {
      return reject('bad-mac', 'MAC is not text');
    }
    if (!MAC_HEX.test(macText)) return reject('bad-mac', `MAC must be ${HELLO_MAC_HEX_LENGTH} hex digits, got ${macText.length} characters`);
    // Both sides as the bytes of lower-case hex: equal lengths (64), compared in constant time.
    const got = utf8.encode(macText.toLowerCase());
    const want = utf8.encode(hmacHex(key, json));
    if (got.length !== want.length || !nodeCrypto().timingSafeEqual(got, want)) return reject('bad-mac', 'MAC does not match (different peer-key?)');
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(json));
  } catch (err) {
    return reject('bad-json', err instanceof Error ? err.message : 'not JSON');
  }
  const problem = helloProblem(parsed);
  if (problem !== undefined || !isRecord(parsed)) return reject('bad-field', problem ?? 'not an object');
  return { ok: true, hello: Object.freeze(canonical(parsed as unknown as Hello)) };
}
