/**
 * HMAC key files (`auth.keys: { 2: "file:/etc/haagent/vrrp51.key" }`): read once when the config
 * is loaded (start, check-config, reload), so the secret can stay out of the config file.
 *
 * Contract of `readKeyFile(path)`:
 * - the file must be a regular file (a symbolic link is refused: opened with O_NOFOLLOW), owned
 *   by the user the agent runs as (root in production) and not readable or writable by group or
 *   others (mode 0600 or 0400); otherwise HaagentError('HA_ERR_INSECURE') naming the path, what
 *   is wrong and the command that fixes it;
 * - at most KEY_FILE_MAX_BYTES, else HA_ERR_LIMIT (checked before reading, and while reading);
 * - the content is a `hex:` value or an ASCII key (what the inline value would be; a trailing
 *   newline is ignored), 32..64 bytes, else HA_ERR_CONFIG; missing or unreadable: HA_ERR_CONFIG.
 * No message ever contains the file's content.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { HaagentError } from '../core/errors.js';
import { decodeKeyValue } from '../core/config/auth.js';
import type { AgentConfig, HmacKeyConfig, InstanceConfig } from '../core/config/types.js';

/** "hex:" and 128 digits, a newline, and some slack. */
export const KEY_FILE_MAX_BYTES = 256;

/** Why a key file with this stat is not private to `uid`, or undefined when it is. */
export function keyFileProblem(st: { isFile(): boolean; uid: number; mode: number }, uid: number): string | undefined {
  if (!st.isFile()) return 'is not a regular file';
  if (st.uid !== uid) return `is owned by uid ${st.uid}, not by uid ${uid} (the agent's user)`;
  if ((st.mode & 0o077) !== 0) return `is accessible by ${(st.mode & 0o070) !== 0 ? 'its group' : 'others'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return undefined;
}

/** The key bytes of the file at `path`; `what` names it in errors (e.g. the config key path). */
export function readKeyFile(path: string, what: string): Uint8Array {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : 0;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ELOOP') throw new HaagentError('HA_ERR_INSECURE', `${what}: key file ${path} is a symbolic link; refusing it (point the config at the file itself)`, { cause });
    throw new HaagentError('HA_ERR_CONFIG', `${what}: cannot read key file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const st = fstatSync(fd);
    const problem = keyFileProblem(st, uid);
    if (problem !== undefined) {
      throw new HaagentError('HA_ERR_INSECURE', `${what}: key file ${path} ${problem}; refusing to use it (fix: chown ${uid}:${uid} ${path} && chmod 0600 ${path})`);
    }
    if (st.size > KEY_FILE_MAX_BYTES) throw new HaagentError('HA_ERR_LIMIT', `${what}: key file ${path} is ${st.size} bytes, over the limit of ${KEY_FILE_MAX_BYTES}; refused before reading`);
    const buf = Buffer.alloc(KEY_FILE_MAX_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length <= KEY_FILE_MAX_BYTES;) {
      n = readSync(fd, buf, length, buf.length - length, null);
      length += n;
    }
    if (length > KEY_FILE_MAX_BYTES) throw new HaagentError('HA_ERR_LIMIT', `${what}: key file ${path} grew over the limit of ${KEY_FILE_MAX_BYTES} bytes while being read`);
    const text = buf.subarray(0, length).toString('latin1').replace(/[\r\n]+$/, '');
    buf.fill(0);
    const v = decodeKeyValue(text);
    if (!v.ok) throw new HaagentError('HA_ERR_CONFIG', `${what}: key file ${path}: the key ${v.problem.startsWith('is ') ? v.problem : `is not usable: ${v.problem}`}`);
    return v.secret;
  } catch (err) {
    if (err instanceof HaagentError) throw err;
    throw new HaagentError('HA_ERR_CONFIG', `${what}: cannot read key file ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

function loadInstance(inst: InstanceConfig, index: number): InstanceConfig {
  if (inst.auth.type !== 'hmac' || inst.auth.keys.every((k) => k.file === undefined)) return inst;
  const keys: HmacKeyConfig[] = inst.auth.keys.map((k) => (k.file === undefined
    ? k
    : Object.freeze({ id: k.id, file: k.file, secret: readKeyFile(k.file, `instances[${index}].auth.keys.${k.id}`) })));
  return Object.freeze({ ...inst, auth: Object.freeze({ ...inst.auth, keys: Object.freeze(keys) }) });
}

/** `config` with the secret of every `file:` HMAC key read (throws as readKeyFile). */
export function loadHmacKeyFiles(config: AgentConfig): AgentConfig {
  if (!config.instances.some((i) => i.auth.type === 'hmac' && i.auth.keys.some((k) => k.file !== undefined))) return config;
  return Object.freeze({ ...config, instances: Object.freeze(config.instances.map(loadInstance)) });
}
