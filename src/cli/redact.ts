/**
 * The config as `check-config` prints it, with every secret replaced by a placeholder: the
 * VRRPv2 password, the peer key, and alert webhook URLs past their origin (chat tools put a
 * token in the path). What is printed can be pasted into a ticket.
 */
import type { AgentConfig } from '../core/config/types.js';

export const REDACTED = '(redacted)';

/** Structural copy of `config` with secrets replaced; the input is not changed. */
export function redactConfig(config: AgentConfig): unknown {
  return JSON.parse(JSON.stringify(config, function replace(this: unknown, key: string, value: unknown) {
    if ((key === 'peerKey' || key === 'password') && typeof value === 'string') return REDACTED;
    const webhook = typeof this === 'object' && this !== null && (this as { type?: unknown }).type === 'webhook';
    if (key === 'url' && webhook && typeof value === 'string') {
      try {
        const u = new URL(value);
        return u.pathname === '/' && u.search === '' ? value : `${u.origin}/${REDACTED}`;
      } catch {
        return REDACTED;
      }
    }
    return value;
  })) as unknown;
}
