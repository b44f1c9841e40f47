/**
 * Heartbeats.sendAdvert encodes an instance's unsigned advert once and sends the same bytes
 * until the priority, the source or the config changes; signed adverts are encoded each time
 * (each one carries a new sequence). Fake ports: what reaches the socket is recorded.
 */
import t from 'tap';
import { decodeAdvertisement } from '../../../src/core/packet/decode.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import { heartbeats, instance } from './heartbeats-fakes.js';

function priorityOf(m: Uint8Array, dst: string, src = '10.0.0.2'): number {
  const r = decodeAdvertisement(m, { family: 4, src, dst, ttl: 255 });
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.advert.priority;
}

t.test('the same priority and source: the same bytes, encoded once', async (t) => {
  const inst = instance();
  const { hb, out } = await heartbeats(inst);
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  t.equal(out.length, 2);
  t.equal(out[0]?.[0], out[1]?.[0], 'one encoding reused');
  t.equal(priorityOf(out[1]?.[0] as Uint8Array, '224.0.0.18'), 100);
});

t.test('a new priority, a new source or a new config object is encoded afresh', async (t) => {
  const inst = instance();
  const { hb, out } = await heartbeats(inst);
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  await hb.sendAdvert(inst, '10.0.0.2', 0);
  t.not(out[1]?.[0], out[0]?.[0]);
  t.equal(priorityOf(out[1]?.[0] as Uint8Array, '224.0.0.18'), 0, 'the release advert carries priority 0');
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  t.equal(priorityOf(out[2]?.[0] as Uint8Array, '224.0.0.18'), 100);
  await hb.sendAdvert(inst, '10.0.0.3', 100);
  t.equal(priorityOf(out[3]?.[0] as Uint8Array, '224.0.0.18', '10.0.0.3'), 100, 'checksum over the new source');
  t.throws(() => priorityOf(out[3]?.[0] as Uint8Array, '224.0.0.18', '10.0.0.2'), 'not the old source\'s bytes');
  const reloaded = { ...inst, vips: [...inst.vips, { ...inst.vips[0], address: '192.0.2.11' }] } as InstanceConfig;
  await hb.sendAdvert(reloaded, '10.0.0.3', 100);
  const r = decodeAdvertisement(out[4]?.[0] as Uint8Array, { family: 4, src: '10.0.0.3', dst: '224.0.0.18', ttl: 255 });
  t.match(r, { ok: true, advert: { addresses: ['192.0.2.10', '192.0.2.11'] } }, 'a reloaded config\'s VIPs');
});

t.test('unicast peers: one datagram per peer, each reused', async (t) => {
  const inst = instance('    peers: [10.0.0.7, 10.0.0.8]\n');
  const { hb, out } = await heartbeats(inst);
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  t.same(out.map(([, d]) => d), ['10.0.0.7', '10.0.0.8', '10.0.0.7', '10.0.0.8']);
  t.equal(out[2]?.[0], out[0]?.[0]);
  t.equal(out[3]?.[0], out[1]?.[0]);
  t.equal(priorityOf(out[1]?.[0] as Uint8Array, '10.0.0.8'), 100);
});

t.test('signed adverts are encoded for each send (a new sequence each time)', async (t) => {
  const inst = instance('    vrrp-version: 3\n    auth:\n      type: hmac\n      keys: { 1: "0123456789abcdef0123456789abcdef" }\n      active-key: 1\n');
  const { hb, out } = await heartbeats(inst);
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  await hb.sendAdvert(inst, '10.0.0.2', 100);
  t.equal(out.length, 2);
  t.not(Buffer.from(out[0]?.[0] as Uint8Array).equals(Buffer.from(out[1]?.[0] as Uint8Array)), true, 'different bytes');
});
