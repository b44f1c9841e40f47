/**
 * node:crypto, loaded at its first use rather than when the modules that use it are imported.
 * Loading it sets up OpenSSL's bindings and compiles Node's crypto modules, about 1 MB of
 * resident memory that an agent without HMAC authentication or peer links never needs; the
 * callers (advert HMAC, peer hellos) run only for those configs.
 *
 * A synchronous load of the built-in module, so the callers stay synchronous; after the first
 * call it is a variable read.
 */
import { createRequire } from 'node:module';
import type * as NodeCrypto from 'node:crypto';

let loaded: typeof NodeCrypto | undefined;

/** The node:crypto module, loaded on the first call. */
export function nodeCrypto(): typeof NodeCrypto {
  loaded ??= createRequire(import.meta.url)('node:crypto') as typeof NodeCrypto;
  return loaded;
}
