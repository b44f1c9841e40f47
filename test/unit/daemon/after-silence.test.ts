/**
 * A MASTER with a self-fence (100 ms adverts: self-fence auto is on) whose adverts resume after
 * longer than the fence's timeout was dark meanwhile: it logs so and announces its VIPs again.
 * Steady adverts do neither. Fake adapters and real timers; the instance's clock is moved
 * forward to make the gap.
 */
import t from 'tap';
import { FileEpochStore } from '../../../src/adapters/epoch-store.js';
import { harness, until } from './instance-runner-fakes.js';

const RESUMED = /adverts resumed after the self-fence had expired/;

t.test('adverts resuming after the fence timeout: logged and announced again; steady adverts: not', async (t) => {
  const skew = { ms: 0 };
  const h = harness(t, new FileEpochStore(t.testdir({}), 'web'), { clock: () => performance.now() + skew.ms });
  h.runner.input({ type: 'start' });
  t.ok(await until(() => h.runner.vrrpState === 'MASTER' && h.calls.includes('announce')), 'MASTER, announced');
  const adverts = (): number => h.calls.filter((c) => c.startsWith('advert ')).length;
  const sent = adverts();
  t.ok(await until(() => adverts() >= sent + 3), 'periodic adverts');
  t.notOk(h.logs.some((l) => RESUMED.test(l.msg)), 'steady adverts: no silence');
  const announced = h.calls.filter((c) => c === 'announce').length;
  skew.ms += 10_000; // the next advert comes 10 s after the last one, as far as the instance can tell
  t.ok(await until(() => h.logs.some((l) => RESUMED.test(l.msg))), 'the silence is logged');
  t.ok(await until(() => h.calls.filter((c) => c === 'announce').length > announced), 'and the VIPs announced again');
});
