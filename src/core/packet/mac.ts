/**
 * Ethernet MAC addresses as text (`aa:bb:cc:dd:ee:ff`) and bytes.
 */
import { HaagentError } from '../errors.js';

export const MAC_LENGTH = 6;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

const MAC_TEXT = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** `aa:bb:cc:dd:ee:ff` (either case) -> 6 bytes, or undefined if it is not one. */
export function parseMac(text: string): Uint8Array | undefined {
  if (!MAC_TEXT.test(text)) return undefined;
  return Uint8Array.from(text.split(':'), (h) => parseInt(h, 16));
}

/** 6 bytes -> lower-case `aa:bb:cc:dd:ee:ff`. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, MAC_LENGTH), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** `parseMac` for frame builders: throws HaagentError HA_ERR_ENCODE if `text` is not a MAC. */
export function parseMacOrThrow(text: string, what: string): Uint8Array {
  const mac = parseMac(text);
  if (mac === undefined) throw new HaagentError('HA_ERR_ENCODE', `${what} ${JSON.stringify(text)} is not a MAC address`);
  return mac;
}
