/**
 * HMAC authentication (keepalived 2.4 `auth_hmac` wire format) between two real agents in the
 * lab topology: h1 priority 200, h2 priority 100, VRRPv3 at 100 ms unless said otherwise.
 *
 * 1. The hitless roll-out, by reloads while h1 is MASTER and h2 BACKUP: none -> receive-only on
 *    both -> permissive on h1 (signs; h2 still receive-only accepts it) -> permissive on h2 ->
 *    enforce on both. No transition on either side, no advert dropped. Then enforce is shown to
 *    bite: h1 back to receive-only (stops signing) and h2 (enforce) drops its adverts as
 *    auth-missing and takes over; h1 permissive again and h2 is BACKUP again.
 * 2. Key rotation, by reloads, make before break: key 2 added on both (active 1) -> h1 signs
 *    with 2 -> h2 signs with 2 -> key 1 removed on both. No transition, no drop. Then a node that
 *    lacks the sender's key id drops its adverts (auth-unknown-key) and takes over.
 * 3. Different keys under enforce (VRRPv2, 1 s, and the key of one side read from a 0600 file):
 *    each drops the other's adverts as auth-bad-hmac, both become MASTER.
 * 4. Replay: one of h1's signed adverts is captured on h2's segment; h1 is killed; the capture
 *    is sent again and again from h1's own address (a perfect copy). h2 counts auth-replay (and
 *    auth-stale once the copy is older than the window) and takes over anyway.
 * Time bounds are generous liveness limits, never speed claims.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { LabCluster, RunningAgent } from '../../src/lab/cluster.js';
import type { LabHost } from '../../src/lab/topology.js';
import { VIP_CIDR } from '../../src/lab/topology.js';
import { distPath } from '../../src/lab/cluster.js';
import { run } from '../../src/lab/sh.js';
import { ip, JsonLineChild, moduleScript, runTsChild } from '../helpers/netns.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

const K1 = `hex:${'a1'.repeat(32)}`;
const K2 = `hex:${'b2'.repeat(40)}`;
const KX = `hex:${'c3'.repeat(32)}`;
const adapterUrl = new URL('../../src/adapters/vrrp-socket.ts', import.meta.url).href;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Line = { ready?: boolean; captured?: string; id?: number; ok?: boolean; error?: string };

/**
 * A raw VRRP socket on int0 of one namespace: `capture` mode prints the first datagram from
 * `from` that carries a trailer; `send` mode sends `{ id, hex }` messages to 224.0.0.18 (the
 * kernel builds the IPv4 header with this namespace's address).
 */
class RawTap extends JsonLineChild<Line> {
  #next = 1;

  static async start(ns: string, mode: 'capture' | 'send', from = ''): Promise<RawTap> {
    const script = `
      import { createInterface } from 'node:readline';
      const [url, ifindex, mode, from] = process.argv.slice(1);
      const { RawVrrpSocket } = await import(url);
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      let done = false;
      const sock = RawVrrpSocket.open('int0', Number(ifindex), (d) => {
        const src = [...d.subarray(12, 16)].join('.');
        const ihl = (d[0] & 15) * 4;
        if (mode === 'capture' && !done && src === from && d.length - ihl === 8 + 4 * d[ihl + 3] + 28) { done = true; out({ captured: Buffer.from(d.subarray(ihl)).toString('hex') }); }
      }, (err) => out({ error: String(err) }));
      out({ ready: true });
      createInterface({ input: process.stdin }).on('line', (line) => {
        const c = JSON.parse(line);
        sock.send(Buffer.from(c.hex, 'hex'), '224.0.0.18').then(() => out({ id: c.id, ok: true }), (e) => out({ id: c.id, ok: false, error: String(e) }));
      }).on('close', () => { sock.close(); process.exit(0); });
    `;
    const links = JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'dev', 'int0')) as { ifindex: number }[];
    const child = new RawTap(runTsChild(ns, moduleScript(script, adapterUrl, String(links[0]?.ifindex ?? 0), mode, from)), `raw-${mode}`);
    await child.firstLine((l) => l.ready === true, `raw-${mode}`);
    return child;
  }

  async send(hex: string): Promise<void> {
    const id = this.#next++;
    this.command({ id, hex });
    const ack = await this.waitFor((l) => l.id === id, 5000);
    if (ack.ok !== true) throw new Error(`not sent: ${ack.error ?? '?'}`);
  }
}

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `VRRP HMAC integration tests skipped: ${skip}`);
} else {
  const { h1, h2, hasVip, withCluster } = labSuite(t, 'hahmac');
  const dir = mkdtempSync(join(tmpdir(), 'haagent-vrrp-hmac-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]): Promise<string> => run(process.execPath, [distPath('cli', 'main.js'), ...args], 20_000);

  /** Writes (or rewrites) `host`'s config file with `auth` (a YAML flow mapping, or '' for none). */
  function writeConfig(c: LabCluster, host: LabHost, auth: string, opts: { version?: 2 | 3; interval?: string } = {}): string {
    const file = join(dir, `${host.ns}.yaml`);
    const priority = host === h1 ? 200 : 100;
    writeFileSync(file, `socket: ${c.socketPath(host)}\ninstances:\n  - name: web\n    vrid: 51\n    interface: int0\n    external: ext0\n`
      + `    vips: [${VIP_CIDR}]\n    priority: ${priority}\n    preempt: true\n    vrrp-version: ${opts.version ?? 3}\n    advert-interval: ${opts.interval ?? '100ms'}\n`
      + (auth === '' ? '' : `    auth: ${auth}\n`));
    return file;
  }

  const hmac = (keys: string, rest = ''): string => `{ type: hmac, keys: { ${keys} }${rest === '' ? '' : `, ${rest}`} }`;

  async function start(t: Test, c: LabCluster, auth1: string, auth2: string, opts: { version?: 2 | 3; interval?: string } = {}): Promise<[RunningAgent, RunningAgent]> {
    const a = c.startAgent(h1, ['--config', writeConfig(c, h1, auth1, opts), '--log-level', 'debug']);
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 15_000), 'h1 MASTER', { logs: logsOf(a) });
    const b = c.startAgent(h2, ['--config', writeConfig(c, h2, auth2, opts), '--log-level', 'debug']);
    return [a, b];
  }

  const drops = async (c: LabCluster, a: RunningAgent): Promise<Record<string, number>> => ({ ...(await c.status(a)).instances[0]?.drops });
  const authDrops = async (c: LabCluster, a: RunningAgent): Promise<Record<string, number>> =>
    Object.fromEntries(Object.entries(await drops(c, a)).filter(([k]) => k.startsWith('auth-')));
  const transitions = async (c: LabCluster, a: RunningAgent): Promise<number> => (await c.status(a)).instances[0]?.transitionsTotal ?? -1;
  const received = async (c: LabCluster, a: RunningAgent): Promise<number> => (await c.status(a)).instances[0]?.advertsReceived ?? -1;

  /** h1 MASTER with the VIP, h2 BACKUP, for `ms`: the first violation, or undefined. */
  async function steady(c: LabCluster, a: RunningAgent, b: RunningAgent, ms = 1500): Promise<string | undefined> {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const [sa, sb, va, vb] = [await c.stateOf(a), await c.stateOf(b), await hasVip(h1), await hasVip(h2)];
      if (sa !== 'MASTER' || sb !== 'BACKUP' || !va || vb) return `h1 ${sa} (VIP ${va}), h2 ${sb} (VIP ${vb})`;
      await sleep(100);
    }
    return undefined;
  }

  /** Rewrites `host`'s config and reloads it; the reload must apply in place. */
  async function reload(c: LabCluster, host: LabHost, auth: string, opts: { version?: 2 | 3; interval?: string } = {}): Promise<string> {
    writeConfig(c, host, auth, opts);
    return cli('reload', '--socket', c.socketPath(host));
  }

  t.test('roll-out by reloads: none -> receive-only -> permissive -> enforce, hitless; then enforce drops an unsigned peer', (t) => withCluster(async (c) => {
    const [a, b] = await start(t, c, '', '');
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP' && (await received(c, b)) > 5, 15_000), 'h2 BACKUP hearing h1', { logs: logsOf(b) });
    const [ta, tb] = [await transitions(c, a), await transitions(c, b)];
    const steps: Array<[LabHost, string, string]> = [
      [h1, hmac(`1: "${K1}"`, 'mode: receive-only'), 'h1 receive-only'],
      [h2, hmac(`1: "${K1}"`, 'mode: receive-only'), 'h2 receive-only'],
      [h1, hmac(`1: "${K1}"`, 'mode: permissive'), 'h1 permissive (signs; h2 receive-only verifies)'],
      [h2, hmac(`1: "${K1}"`, 'mode: permissive'), 'h2 permissive'],
      [h1, hmac(`1: "${K1}"`, 'mode: enforce'), 'h1 enforce'],
      [h2, hmac(`1: "${K1}"`, 'mode: enforce'), 'h2 enforce'],
    ];
    for (const [host, auth, what] of steps) {
      t.match(await reload(c, host, auth), /1 updated in place \(web\)/, `${what}: applied in place`);
      const before = await received(c, b);
      t.equal(await steady(c, a, b), undefined, `${what}: h1 MASTER, h2 BACKUP`, { logs: [logsOf(a), logsOf(b)] });
      t.ok((await received(c, b)) > before + 5, `${what}: h2 keeps accepting h1's adverts`);
    }
    t.same(await authDrops(c, b), {}, 'no advert dropped by authentication on h2 during the roll-out');
    t.same(await authDrops(c, a), {}, 'nor on h1');
    t.equal(await transitions(c, a), ta, 'h1: no transition');
    t.equal(await transitions(c, b), tb, 'h2: no transition');

    // enforce bites: h1 stops signing; h2 drops its adverts and takes over.
    await reload(c, h1, hmac(`1: "${K1}"`, 'mode: receive-only'));
    t.ok(await c.waitFor(async () => ((await authDrops(c, b))['auth-missing'] ?? 0) > 0 && (await c.stateOf(b)) === 'MASTER', 10_000),
      'h2 (enforce) drops the unsigned adverts as auth-missing and becomes MASTER', { logs: logsOf(b), drops: await drops(c, b) });
    t.ok(b.logs.some((l) => /dropped by HMAC authentication \(auth-missing\)/.test(String(l['msg']))), 'h2 warns, naming the reason');
    // h1 (receive-only) still accepts h2's signed adverts, and permissive h1 signs again: h1 wins back (preempt).
    await reload(c, h1, hmac(`1: "${K1}"`, 'mode: permissive'));
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'BACKUP', 10_000), 'h1 signs again: MASTER, h2 BACKUP', { logs: [logsOf(a), logsOf(b)] });
  }));

  t.test('key rotation by reloads, make before break: no transition, no drop; a missing key id drops', (t) => withCluster(async (c) => {
    const one = hmac(`1: "${K1}"`);
    const [a, b] = await start(t, c, one, one);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP' && (await received(c, b)) > 5, 15_000), 'h2 BACKUP hearing h1 (both enforce, key 1)', { logs: logsOf(b) });
    const [ta, tb] = [await transitions(c, a), await transitions(c, b)];
    const both = (active: number): string => hmac(`1: "${K1}", 2: "${K2}"`, `active-key: ${active}`);
    const steps: Array<[LabHost, string, string]> = [
      [h1, both(1), 'h1 adds key 2'], [h2, both(1), 'h2 adds key 2'],
      [h1, both(2), 'h1 signs with key 2'], [h2, both(2), 'h2 signs with key 2'],
      [h1, hmac(`2: "${K2}"`), 'h1 drops key 1'], [h2, hmac(`2: "${K2}"`), 'h2 drops key 1'],
    ];
    for (const [host, auth, what] of steps) {
      t.match(await reload(c, host, auth), /1 updated in place \(web\)/, `${what}: applied in place`);
      t.equal(await steady(c, a, b), undefined, `${what}: h1 MASTER, h2 BACKUP`, { logs: [logsOf(a), logsOf(b)] });
    }
    t.same(await authDrops(c, b), {}, 'no advert dropped on h2');
    t.equal(await transitions(c, a), ta, 'h1: no transition');
    t.equal(await transitions(c, b), tb, 'h2: no transition');
    // Breaking the order: h1 signs with a key id h2 does not have.
    await reload(c, h1, hmac(`2: "${K2}", 3: "${KX}"`, 'active-key: 3'));
    t.ok(await c.waitFor(async () => ((await authDrops(c, b))['auth-unknown-key'] ?? 0) > 0 && (await c.stateOf(b)) === 'MASTER', 10_000),
      'h2 drops key 3 adverts as auth-unknown-key and takes over', { logs: logsOf(b) });
  }));

  t.test('VRRPv2, different keys (one read from a 0600 file): each drops the other as auth-bad-hmac, both MASTER', (t) => withCluster(async (c) => {
    const keyFile = join(dir, 'h2.key');
    writeFileSync(keyFile, `${KX}\n`, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    const opts = { version: 2 as const, interval: '1s' };
    const [a, b] = await start(t, c, hmac(`1: "${K1}"`), hmac(`1: "file:${keyFile}"`), opts);
    t.ok(await c.waitFor(async () => ((await authDrops(c, b))['auth-bad-hmac'] ?? 0) > 0 && ((await authDrops(c, a))['auth-bad-hmac'] ?? 0) > 0, 15_000),
      'both count auth-bad-hmac', { a: await drops(c, a), b: await drops(c, b) });
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER' && (await c.stateOf(b)) === 'MASTER', 15_000), 'both MASTER: neither believes the other');
    // The right key, from the file, and h2 is BACKUP again.
    writeFileSync(keyFile, `${K1}\n`, { mode: 0o600 });
    await reload(c, h2, hmac(`1: "file:${keyFile}"`), opts);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP' && (await c.stateOf(a)) === 'MASTER', 15_000), 'same key: h2 BACKUP', { logs: logsOf(b) });
    // A key file others can read is refused at reload; the running config stays.
    chmodSync(keyFile, 0o644);
    await t.rejects(reload(c, h2, hmac(`1: "file:${keyFile}"`), opts), /reload refused.*accessible by its group \(mode 0644\)/s);
    t.equal(await c.stateOf(b), 'BACKUP', 'still running, still BACKUP');
  }));

  t.test('a captured signed advert replayed from the master\'s own address after it died: dropped as replay/stale, h2 takes over', (t) => withCluster(async (c) => {
    const auth = hmac(`1: "${K1}"`, 'time-window: 5s');
    const [a, b] = await start(t, c, auth, auth);
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'BACKUP', 15_000), 'h2 BACKUP', { logs: logsOf(b) });
    // Both children first (starting one takes a while on a loaded machine), then capture and kill.
    const injector = await RawTap.start(h1.ns, 'send');
    t.teardown(() => injector.stop());
    const capture = await RawTap.start(h2.ns, 'capture', h1.intAddress);
    const got = await capture.waitFor((l) => l.captured !== undefined, 5000);
    const capturedAt = performance.now();
    a.child.kill('SIGKILL');
    await capture.stop();
    const hex = got.captured ?? '';
    t.equal(hex.length, 2 * (12 + 28), 'captured a signed v3 advert: 12 bytes of message, 28 of trailer');
    await a.exited;
    // Without anti-replay these copies (priority 200, from h1's address) would hold h2 back.
    let replaying = true;
    const loop = (async () => { while (replaying) { await injector.send(hex); await sleep(50); } })();
    t.ok(await c.waitFor(async () => (await c.stateOf(b)) === 'MASTER' && (await hasVip(h2)), 10_000), 'h2 takes over while the copies keep coming', { logs: logsOf(b), drops: await drops(c, b) });
    await sleep(Math.max(0, capturedAt + 6500 - performance.now())); // past the 5 s window: the copies are now stale
    replaying = false;
    await loop;
    const d = await authDrops(c, b);
    t.ok((d['auth-replay'] ?? 0) > 0, `copies counted as auth-replay (${d['auth-replay'] ?? 0})`);
    t.ok((d['auth-stale'] ?? 0) > 0, `and as auth-stale once older than the window (${d['auth-stale'] ?? 0})`);
  }));
}
