/** Test helpers: hex <-> bytes, whitespace and `|` separators allowed in hex literals. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * An independent RFC 1071 checksum for cross-checks: sums 16-bit words of the hex text
 * directly, folding once at the end (no shared code with src/core/packet/checksum.ts).
 */
export function referenceChecksum(hexText: string): number {
  const clean = hexText.replace(/[\s|]/g, '');
  const padded = clean.length % 4 === 0 ? clean : `${clean}00`;
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum += parseInt(padded.slice(i, i + 4), 16);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return 0xffff - sum;
}
