/**
 * TargetIndex answers exactly like a scan (the first match) of the array the getter returns
 * now, through every change the agent makes to it: a new array, a push, an element swapped in
 * place. Checked against the scan on seeded random sequences of such changes.
 */
import t from 'tap';
import fc from 'fast-check';
import { TargetIndex } from '../../../src/daemon/target-index.js';

interface Target { readonly id: number; readonly config: { readonly family: 4 | 6; readonly interface: string; readonly vrid: number } }

const scan = (arr: readonly Target[], family: 4 | 6, ifname: string, vrid: number): Target | undefined =>
  arr.find((x) => x.config.family === family && x.config.interface === ifname && x.config.vrid === vrid);

let ids = 0;
const target = (family: 4 | 6, ifname: string, vrid: number): Target => ({ id: ids++, config: { family, interface: ifname, vrid } });

t.test('a hit, a miss, a push, a swap in place and a new array', async (t) => {
  let arr: Target[] = [target(4, 'eth0', 1), target(4, 'eth0', 2), target(6, 'eth0', 1)];
  const index = new TargetIndex(() => arr);
  t.equal(index.find(4, 'eth0', 2), arr[1]);
  t.equal(index.find(6, 'eth0', 1), arr[2]);
  t.equal(index.find(4, 'eth1', 2), undefined);
  t.equal(index.find(4, 'eth0', undefined), undefined, 'too short to carry a VRID');
  arr.push(target(4, 'eth1', 2));
  t.equal(index.find(4, 'eth1', 2), arr[3], 'pushed');
  arr[1] = target(4, 'eth0', 2);
  t.equal(index.find(4, 'eth0', 2), arr[1], 'swapped in place, same key: the new element');
  arr[0] = target(4, 'eth0', 9);
  t.equal(index.find(4, 'eth0', 9), arr[0], 'swapped in place, new key');
  t.equal(index.find(4, 'eth0', 1), undefined, 'its old key is gone');
  arr = arr.filter((x) => x.config.vrid !== 2);
  t.equal(index.find(4, 'eth0', 2), undefined, 'a new array without it');
  t.equal(index.find(6, 'eth0', 1), arr[1]);
});

t.test('the same answers as a scan through random changes (seeded)', async (t) => {
  const key = fc.record({ family: fc.constantFrom(4 as const, 6 as const), ifname: fc.constantFrom('eth0', 'eth1'), vrid: fc.integer({ min: 1, max: 4 }) });
  const op = fc.oneof(
    fc.record({ kind: fc.constant('find' as const), key }),
    fc.record({ kind: fc.constant('push' as const), key }),
    fc.record({ kind: fc.constant('swap' as const), key, at: fc.nat() }),
    fc.record({ kind: fc.constant('replace' as const), keep: fc.nat() }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    let arr: Target[] = [];
    const index = new TargetIndex(() => arr);
    for (const o of ops) {
      if (o.kind === 'push') arr.push(target(o.key.family, o.key.ifname, o.key.vrid));
      else if (o.kind === 'swap' && arr.length > 0) arr[o.at % arr.length] = target(o.key.family, o.key.ifname, o.key.vrid);
      else if (o.kind === 'replace') arr = arr.filter((_, i) => i % ((o.keep % 3) + 1) === 0);
      else if (o.kind === 'find' && index.find(o.key.family, o.key.ifname, o.key.vrid) !== scan(arr, o.key.family, o.key.ifname, o.key.vrid)) return false;
    }
    return true;
  }), { seed: 11, numRuns: 400 });
  t.pass('checked');
});
