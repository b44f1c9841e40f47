/**
 * Minimal IPv4/IPv6 text -> bytes parsing and unsigned ordering, for the equal-priority
 * tie-break of RFC 5798 §6.4.3 ("the primary IPvX Address of the sender is greater than the
 * local primary IPvX Address").
 *
 * Deliberately local to the FSM (src/core/packet/ip.ts may grow a fuller parser); it accepts
 * dotted quads, RFC 4291 IPv6 text (with `::`, an embedded dotted quad and a `%zone` suffix,
 * which is ignored) and nothing else. It does not validate prefixes or address scopes.
 */

/** Parse an IPv4 or IPv6 address into 4 or 16 bytes; null when the text is not an address. */
export function parseAddressBytes(text: string): Uint8Array | null {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseGroups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

function parseIpv6(input: string): Uint8Array | null {
  const zone = input.indexOf('%');
  const text = zone >= 0 ? input.slice(0, zone) : input;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/**
 * Total order on address text: unsigned byte-wise comparison of the parsed addresses.
 * Returns a negative number, 0 or a positive number. Not expected in practice but still ordered:
 * unparsable text sorts below any address (two unparsable texts compare as strings), and an
 * IPv4 address sorts below any IPv6 address.
 */
export function compareAddresses(a: string, b: string): number {
  const x = parseAddressBytes(a);
  const y = parseAddressBytes(b);
  if (x === null || y === null) {
    if (x !== null) return 1;
    if (y !== null) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
