/**
 * Why the HMAC roll-out starts with receive-only, shown with the keepalived CI has (Debian's
 * 2.2.7, no auth_hmac): haagent on h1 (priority 150), keepalived on h2 (100), VRRPv3 at 1 s.
 *   - haagent in receive-only sends plain adverts: keepalived stays BACKUP (nothing changed on
 *     the wire yet);
 *   - haagent in permissive signs: keepalived, which does not know the trailer, drops the longer
 *     adverts and becomes MASTER too, and both hold the VIP.
 * Runs wherever test/interop/keepalived.test.ts runs (root, keepalived on PATH).
 */
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { LabCluster } from '../../src/lab/cluster.js';
import { LabTopology, VIP_CIDR, type LabHost } from '../../src/lab/topology.js';
import { ip } from '../../src/lab/sh.js';
import { skipReason } from '../helpers/root.js';
import { Keepalived, killAllKeepalived } from '../helpers/keepalived.js';

const skip = skipReason({ needsDist: true, needs: ['keepalived'] });
if (skip !== undefined) {
  t.plan(0, `keepalived (no auth_hmac) interop skipped: ${skip}`);
} else {
  const prefix = `hakl${process.pid % 100000}`;
  const topo = new LabTopology(prefix);
  const [h1, h2] = topo.hosts;
  const hasVip = async (host: LabHost): Promise<boolean> => (await topo.extAddresses(host)).includes(VIP_CIDR);
  const files: string[] = [];
  let seq = 0;
  t.before(async () => { await topo.create(); });
  t.teardown(async () => {
    await killAllKeepalived();
    await topo.destroy();
    for (const f of files) rmSync(f, { force: true });
  });

  const config = (mode: string): string => {
    const f = `/tmp/${prefix}-${++seq}.yaml`;
    files.push(f);
    writeFileSync(f, `instances:\n  - name: vi1\n    vrid: 51\n    interface: int0\n    external: ext0\n    vips: [${VIP_CIDR}]\n    priority: 150\n    preempt: true\n`
      + `    advert-interval: 1s\n    vrrp-version: 3\n    auth: { type: hmac, keys: { 1: "hex:${'5a'.repeat(32)}" }, mode: ${mode} }\n`);
    return f;
  };

  async function pair(mode: string, fn: (c: LabCluster, ka: Keepalived) => Promise<void>): Promise<void> {
    const c = new LabCluster(topo);
    c.startAgent(h1, ['--config', config(mode), '--log-level', 'debug']);
    const ka = new Keepalived(h2, `${prefix}-ka${++seq}`, { version: 3, priority: 100, advertInt: 1, vips: [VIP_CIDR] });
    try {
      await fn(c, ka);
    } finally {
      await killAllKeepalived();
      await c.stopAll();
      for (const h of topo.hosts) await ip('-n', h.ns, 'addr', 'del', VIP_CIDR, 'dev', 'ext0').catch(() => undefined);
    }
  }

  t.test('receive-only: plain adverts on the wire, keepalived without auth_hmac stays BACKUP', (t) => pair('receive-only', async (c, ka) => {
    t.ok(await c.waitFor(async () => ka.state() === 'BACKUP' && (await hasVip(h1)) && !(await hasVip(h2)), 20_000, 100), 'keepalived BACKUP, VIP on h1 only', { ka: ka.tail() });
    await new Promise((r) => setTimeout(r, 4000)); // > keepalived's Master_Down_Interval
    t.equal(ka.state(), 'BACKUP', 'still BACKUP: it hears us');
  }));

  t.test('permissive (signing) too early: keepalived without auth_hmac drops the signed adverts and takes the VIP too', (t) => pair('permissive', async (c, ka) => {
    t.ok(await c.waitFor(async () => ka.state() === 'MASTER' && (await hasVip(h2)), 20_000, 100), 'keepalived MASTER with the VIP: it does not accept our signed adverts', { ka: ka.tail() });
    await new Promise((r) => setTimeout(r, 4000));
    // Our priority (150) is higher: had keepalived accepted a single advert it would step down.
    t.equal(ka.state(), 'MASTER', 'keepalived stays MASTER for 4 s: it accepts none of the signed adverts', { ka: ka.tail() });
    t.ok(await hasVip(h1) && await hasVip(h2), 'both hold the VIP: the split brain receive-only avoids');
  }));
}
