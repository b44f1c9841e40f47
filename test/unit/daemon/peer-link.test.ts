/**
 * PeerLink over loopback (127.0.0.1 <-> 127.0.0.2, no root needed): hellos flow between two
 * links; a datagram from an address that is no configured path peer is dropped and counted even
 * with the right key; the agent's verdict is counted; sending never throws, even when the
 * hello cannot be encoded; drop warnings are rate-limited; a MASTER's hellos come only with its
 * adverts (masterAdvertSent), not from the link's timer.
 */
import { createSocket } from 'node:dgram';
import t from 'tap';
import type { Test } from 'tap';
import type { Logger } from 'pino';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import { encodeHello, type Hello } from '../../../src/core/peer/hello.js';
import type { NetlinkPort } from '../../../src/adapters/netlink/index.js';
import { PeerLink, type HelloSnapshot, type HelloVerdict } from '../../../src/daemon/peer-link.js';

const KEY = 'peer-link-test-key';
const PORT = 20_000 + (process.pid % 20_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function instance(peer: string): InstanceConfig {
  const r = parseConfigYaml(`peer-key: ${KEY}
instances:
  - name: web
    vrid: 51
    interface: lo
    vips: [10.77.0.100/24]
    advert-interval: 50ms
    paths: [{ interface: lo, peer: ${peer} }]
`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}

interface Captured { warns: Array<{ obj: Record<string, unknown>; msg: string }> }

function logger(): Logger & Captured {
  const warns: Captured['warns'] = [];
  const noop = (): void => undefined;
  return { warns, warn: (obj: Record<string, unknown>, msg: string) => { warns.push({ obj, msg }); }, debug: noop, info: noop, error: noop } as unknown as Logger & Captured;
}

const netlinkAt = (address: string): NetlinkPort => ({ primaryIpv4: async () => address, linkLocalIpv6: async () => undefined }) as unknown as NetlinkPort;

interface Side {
  readonly link: PeerLink;
  readonly log: Logger & Captured;
  readonly heard: Hello[];
  snapshot: HelloSnapshot;
  verdict: HelloVerdict;
}

async function side(t: Test, local: string, peer: string): Promise<Side> {
  const log = logger();
  const link = new PeerLink({ port: PORT, key: KEY, log, netlink: netlinkAt(local) });
  t.teardown(() => link.close());
  const s: Side = {
    link, log, heard: [], verdict: undefined,
    snapshot: { state: 'BACKUP', priority: 100, vrrpAddress: local, epoch: 1, fingerprint: '0123456789abcdef' },
  };
  await link.add(instance(peer), () => s.snapshot, (hello) => {
    s.heard.push(hello);
    return s.verdict;
  });
  return s;
}

/** A plain UDP sender on `address` with TTL 255 (a same-link host). */
async function sender(t: Test, address: string): Promise<(bytes: Uint8Array, to: string) => Promise<void>> {
  const sock = createSocket('udp4');
  t.teardown(() => sock.close());
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  sock.setTTL(255);
  return (bytes, to) => new Promise((r) => sock.send(bytes, PORT, to, () => r()));
}

const until = async (pred: () => boolean, ms = 3000): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (pred()) return true;
  return pred();
};

t.test('PeerLink over loopback', async (t) => {
  const a = await side(t, '127.0.0.1', '127.0.0.2');
  const b = await side(t, '127.0.0.2', '127.0.0.1');

  t.test('hellos flow both ways: v2, a boot nonce, seq counting up within it', async (t) => {
    t.ok(await until(() => b.heard.length >= 3 && a.heard.length >= 3), 'both heard the other');
    const [h1, h2] = [b.heard[0], b.heard[b.heard.length - 1]];
    t.match(h1, { v: 2, instance: 'web', vrid: 51, vrrpAddress: '127.0.0.1', node: /@127\.0\.0\.1$/ });
    t.match(h1?.boot, /^[0-9a-f]{16}$/);
    t.equal(h2?.boot, h1?.boot, 'one boot per instance start');
    t.ok((h2?.seq ?? 0) > (h1?.seq ?? 0), 'seq increases');
    t.same(b.link.drops(), {}, 'nothing dropped');
  });

  t.test('a keyed hello from an address that is no path peer is dropped and counted, not delivered', async (t) => {
    const send = await sender(t, '127.0.0.3');
    const before = b.heard.length;
    const forged: Hello = {
      v: 2, instance: 'web', vrid: 51, node: 'intruder', state: 'MASTER', priority: 255, vrrpAddress: '127.0.0.3',
      advertIntervalCs: 5, epoch: 0, fingerprint: '0123456789abcdef', boot: 'ffffffffffffffff', bootMs: 1, seq: 1,
    };
    for (let i = 0; i < 100; i++) await send(encodeHello({ ...forged, seq: i + 1 }, KEY), '127.0.0.2');
    t.ok(await until(() => (b.link.drops()['hello-unknown-source'] ?? 0) === 100), 'counted 100 times');
    t.notOk(b.heard.slice(before).some((h) => h.node === 'intruder'), 'never reached onHello');
    const warned = b.log.warns.filter((w) => w.obj['reason'] === 'hello-unknown-source');
    t.equal(warned.length, 1, 'one warning for the first drop of the reason, not 100');
    t.match(warned[0]?.obj, { reason: 'hello-unknown-source', total: 1, detail: /127\.0\.0\.3/ });
  });

  t.test('from the peer address: garbage and bad MACs are dropped by reason', async (t) => {
    const send = await sender(t, '127.0.0.1');
    await send(new TextEncoder().encode('not a hello'), '127.0.0.2');
    const wire = encodeHello({ ...b.heard[0] as Hello, seq: 1 }, 'another-key');
    await send(wire, '127.0.0.2');
    t.ok(await until(() => (b.link.drops()['hello-missing-mac'] ?? 0) === 1 && (b.link.drops()['hello-bad-mac'] ?? 0) === 1), JSON.stringify(b.link.drops()));
  });

  t.test('the agent\'s verdict is counted as a drop reason', async (t) => {
    b.verdict = 'replay';
    t.ok(await until(() => (b.link.drops()['hello-replay'] ?? 0) >= 2), 'hello-replay counted');
    b.verdict = undefined;
  });

  t.test('as MASTER, no hello from the link\'s own timer: one goes with each advert (masterAdvertSent); as BACKUP the timer again', async (t) => {
    a.snapshot = { ...a.snapshot, state: 'MASTER' };
    await sleep(60); // a hello already in flight
    const quiet = b.heard.length;
    await sleep(300); // six 50 ms intervals of the link's timer
    t.equal(b.heard.length, quiet, 'no hello from the timer while MASTER');
    for (let i = 0; i < 3; i++) a.link.masterAdvertSent(instance('127.0.0.2'));
    t.ok(await until(() => b.heard.length === quiet + 3), 'one hello per advert, at once');
    t.ok(b.heard.slice(quiet).every((h) => h.state === 'MASTER'), 'saying MASTER');
    a.link.masterAdvertSent({ ...instance('127.0.0.2'), name: 'other' });
    await sleep(60);
    t.equal(b.heard.length, quiet + 3, 'an instance the link does not hold: nothing sent');
    a.snapshot = { ...a.snapshot, state: 'BACKUP' };
    t.ok(await until(() => b.heard.slice(quiet + 3).some((h) => h.state === 'BACKUP')), 'BACKUP again: the timer sends');
  });

  t.test('sending never throws: an epoch out of bounds is logged, and the next good snapshot is sent', async (t) => {
    a.snapshot = { ...a.snapshot, epoch: 2 ** 53 };
    t.doesNotThrow(() => a.link.sendNow(instance('127.0.0.2')));
    t.ok(a.log.warns.some((w) => /cannot encode/.test(w.msg)), 'logged');
    const warnsBefore = a.log.warns.length;
    await sleep(200); // a few timer ticks that fail too: not one warning each
    t.equal(a.log.warns.length, warnsBefore, 'rate-limited');
    const heardBefore = b.heard.length;
    a.snapshot = { ...a.snapshot, epoch: 2 };
    t.ok(await until(() => b.heard.slice(heardBefore).some((h) => h.epoch === 2)), 'hellos resume');
  });
});

t.test('a peer link needs a key', async (t) => {
  t.throws(() => new PeerLink({ port: PORT, key: '', log: logger(), netlink: netlinkAt('127.0.0.1') }), { code: 'HA_ERR_CONFIG' });
});
