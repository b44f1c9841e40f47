/**
 * The floating SNAT address of conntrack-sync on the runner's queue (InstanceDeps.floating):
 * added after the before-the-VIPs step (commit, rules) and before the VIPs, on its own
 * interface; removed with the VIPs, before the rules go (`afterVipsRemoved`); a quick demotion
 * waits for the add. Fakes, no root.
 */
import t from 'tap';
import { FileEpochStore } from '../../../src/adapters/epoch-store.js';
import type { Input } from '../../../src/core/fsm/types.js';
import { harness, instance, until, VIP } from './instance-runner-fakes.js';

const BETTER_MASTER: Input = { type: 'advert', from: '192.0.2.9', priority: 200, maxAdvertIntervalCs: 10 };
const FLOATING = '10.66.0.100/24';

t.test('floating address: after the before-VIPs step, before the VIPs; removed with them, before the rules go', async (t) => {
  let prepared = (): void => undefined;
  const seen: string[] = [];
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), {
    beforeVips: async () => { seen.push('commit+rules'); await new Promise<void>((r) => { prepared = r; }); seen.push('commit+rules done'); },
    afterVipsRemoved: () => { seen.push('rules out'); },
    floating: [{ ifname: 'int0', cidr: FLOATING }],
    vips: {
      addVip: async (ifname, cidr) => { seen.push(`add ${cidr} on ${ifname}`); },
      removeVip: async (ifname, cidr) => { seen.push(`remove ${cidr} on ${ifname}`); },
    },
  }, instance([VIP]));
  h.runner.input({ type: 'start' });
  t.ok(await until(() => seen.includes('commit+rules')), 'takeover started');
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(seen.some((s) => s.startsWith('add ')), 'nothing added before the commit and the rules');
  prepared();
  t.ok(await until(() => seen.some((s) => s.startsWith(`add ${VIP}`))));
  t.same(seen.slice(0, 4), ['commit+rules', 'commit+rules done', `add ${FLOATING} on int0`, `add ${VIP} on eth0`]);
  h.runner.input(BETTER_MASTER);
  t.ok(await until(() => seen.includes('rules out')));
  await h.runner.drain();
  const out = seen.slice(4);
  t.ok(out.indexOf(`remove ${FLOATING} on int0`) !== -1 && out.indexOf(`remove ${FLOATING} on int0`) < out.indexOf('rules out'), 'removed before the rules go', { out });
  t.ok(out.indexOf(`remove ${VIP} on eth0`) < out.indexOf('rules out'));
});
