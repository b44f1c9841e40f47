/**
 * Reads a config file as text, refusing before it reads a byte what could not be a config: a
 * path that is not a regular file (a directory, a FIFO that would block, /dev/zero that never
 * ends) or a file over LIMITS.configBytes. Only the size and type are checked here; the text is
 * parsed and validated by the core.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { HaagentError } from '../core/errors.js';
import { LIMITS } from '../core/config/limits.js';

function size(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/**
 * The file's text (UTF-8). Throws HaagentError: HA_ERR_CONFIG when the file cannot be opened or
 * read, is not a regular file or is not UTF-8; HA_ERR_LIMIT when it is over the size bound (also
 * when it grows past it while being read). Every message names the file.
 */
export function readConfigFile(path: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a file.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    throw new HaagentError('HA_ERR_CONFIG', `cannot read config file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new HaagentError('HA_ERR_CONFIG', `config file ${path} is not a regular file`);
    const max = LIMITS.configBytes;
    if (st.size > max) throw new HaagentError('HA_ERR_LIMIT', `config file ${path} is ${st.size} bytes, over the limit of ${size(max)}; refused before reading`);
    // Read to the end, into room for one byte over the bound: a file that grew since fstat is caught too.
    const buf = Buffer.allocUnsafe(max + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length <= max;) {
      n = readSync(fd, buf, length, buf.length - length, null);
      length += n;
    }
    if (length > max) throw new HaagentError('HA_ERR_LIMIT', `config file ${path} grew over the limit of ${size(max)} while being read`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, length));
    } catch (cause) {
      throw new HaagentError('HA_ERR_CONFIG', `config file ${path} is not UTF-8 text`, { cause });
    }
  } catch (err) {
    if (err instanceof HaagentError) throw err;
    throw new HaagentError('HA_ERR_CONFIG', `cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}
