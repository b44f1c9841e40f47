/**
 * The checksum form of the adverts the agent sends (Heartbeats.sendAdvert with fake ports):
 * keepalived's IPv4 pseudo-header by default, the message alone with `v3-checksum: message`.
 */
import t from 'tap';
import { decodeAdvertisement } from '../../../src/core/packet/decode.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import { heartbeats, instance } from './heartbeats-fakes.js';

async function sent(inst: InstanceConfig): Promise<Uint8Array> {
  const { hb, out } = await heartbeats(inst);
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  const m = out[0]?.[0];
  if (m === undefined) throw new Error('nothing sent');
  return m;
}

const ctx = { family: 4 as const, src: '10.0.0.2', dst: '224.0.0.18', ttl: 255 };

t.test('default: the IPv4 pseudo-header is in the checksum (keepalived\'s default)', async (t) => {
  t.match(decodeAdvertisement(await sent(instance()), ctx), { ok: true, checksumForm: 'v3-pseudo' });
});

// RFC 9568 §5.2.8: "For the IPv4 address family, the checksum calculation only includes the VRRP
// message starting with the Version field and ending after the last IPv4 address".
t.test('v3-checksum: message -> the checksum covers the message only (RFC 9568 §5.2.8)', async (t) => {
  t.match(decodeAdvertisement(await sent(instance('    v3-checksum: message\n')), ctx), { ok: true, checksumForm: 'v3-no-pseudo' });
});
