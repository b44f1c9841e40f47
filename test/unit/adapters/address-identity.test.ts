/**
 * addressIdentity (the watcher's cheap read of an address message) against parseAddress (the
 * package's full decode): whenever the cheap read answers, both agree; for the messages the
 * kernel sends for a VIP it does answer. Seeded, bounded runs.
 */
import t from 'tap';
import fc from 'fast-check';
import netlink from 'netlink';
import type { NetlinkMessage } from 'netlink';
import { addressIdentity, parseAddress } from '../../../src/adapters/netlink/address-decode.js';

const { AttrStream, rt } = netlink;

function format(msg: Parameters<typeof rt.formatAddressMessage>[0]): Buffer {
  const out = new AttrStream();
  rt.formatAddressMessage(msg, out);
  return Buffer.concat(out.bufs);
}

const asMessage = (data: Buffer): NetlinkMessage => ({ type: 20, flags: 0, seq: 0, port: 0, data });

t.test('the address messages of a VIP: answered, and equal to the full decode', async (t) => {
  const cases = [
    { family: 2, prefixlen: 32, index: 3, attrs: { address: Buffer.from([10, 88, 0, 7]), local: Buffer.from([10, 88, 0, 7]), label: 'ext0', cacheInfo: { ifaValid: 3, ifaPrefered: 3, cstamp: 1, tstamp: 2 } } },
    { family: 10, prefixlen: 64, index: 70000, attrs: { address: Buffer.from('fd000050000000000000000000000001', 'hex'), cacheInfo: { ifaValid: 0xffffffff, ifaPrefered: 0xffffffff, cstamp: 0, tstamp: 0 } } },
    // point-to-point IPv4: the local address is ours, IFA_ADDRESS the peer's
    { family: 2, prefixlen: 24, index: 9, attrs: { address: Buffer.from([192, 0, 2, 1]), local: Buffer.from([192, 0, 2, 9]) } },
  ];
  for (const c of cases) {
    const data = format({ kind: 'address', data: { family: c.family, prefixlen: c.prefixlen, index: c.index }, attrs: c.attrs });
    const id = addressIdentity(data);
    const full = parseAddress(asMessage(data));
    t.ok(id, `answered for family ${c.family}`);
    t.same(id, { ifindex: full?.ifindex, address: full?.address, prefixLength: full?.prefixLength });
  }
});

/** Mostly well-sized (4 or 16 bytes), sometimes any length. */
const bytesArb = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 0, maxLength: 17 }),
).map((a) => Buffer.from(a));
const attrsArb = fc.record({
  address: fc.option(bytesArb, { nil: undefined }),
  local: fc.option(bytesArb, { nil: undefined }),
  label: fc.option(fc.string({ maxLength: 15 }), { nil: undefined }),
  broadcast: fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => Buffer.from(a)), { nil: undefined }),
}, { requiredKeys: [] });

t.test('formatted messages: whenever the cheap read answers, the full decode agrees', async (t) => {
  let answered = 0;
  fc.assert(fc.property(
    fc.constantFrom(2, 10, 0, 7), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffffff }), attrsArb,
    (family, prefixlen, index, attrs) => {
      const clean = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined));
      const data = format({ kind: 'address', data: { family, prefixlen, index }, attrs: clean });
      const id = addressIdentity(data);
      if (id === undefined) return true;
      answered++;
      const full = parseAddress(asMessage(data));
      return full !== undefined && full.ifindex === id.ifindex && full.address === id.address && full.prefixLength === id.prefixLength;
    }), { seed: 4242, numRuns: 2000 });
  t.ok(answered > 100, `answered for ${answered} of 2000 messages (the property was exercised)`);
});

t.test('arbitrary bytes: never throws; an answer agrees with a full decode that succeeds', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
    const data = Buffer.from(bytes);
    const id = addressIdentity(data);
    if (id === undefined) return true;
    let full;
    try { full = parseAddress(asMessage(data)); } catch { return true; } // dropped either way for a known address
    return full === undefined || (full.ifindex === id.ifindex && full.address === id.address && full.prefixLength === id.prefixLength);
  }), { seed: 99, numRuns: 3000 });
  t.pass('no disagreement');
});
