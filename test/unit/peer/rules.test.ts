/**
 * The peer channel's pure decisions: epoch acceptance (bounds and jump margin), a MASTER hello
 * as an advert, and the isolation rule.
 */
import t from 'tap';
import { HELLO_MAX_EPOCH, type Hello } from '../../../src/core/peer/hello.js';
import { emptyPeerTable, notePeer } from '../../../src/core/peer/presence.js';
import { acceptPeerEpoch, EPOCH_JUMP_MARGIN, helloAsAdvert, isIsolated } from '../../../src/core/peer/rules.js';

const HELLO: Hello = {
  v: 2, instance: 'web', vrid: 51, node: 'lb-a', state: 'MASTER', priority: 150, vrrpAddress: '10.98.1.1',
  advertIntervalCs: 100, epoch: 7, fingerprint: 'aaaa', boot: '1111111111111111', bootMs: 1, seq: 1,
};

t.test('acceptPeerEpoch: anything up to the margin above what we hold', async (t) => {
  t.same(acceptPeerEpoch(0, 0), { ok: true });
  t.same(acceptPeerEpoch(5, 7), { ok: true }, 'lower than ours: fine (it is only observed)');
  t.same(acceptPeerEpoch(EPOCH_JUMP_MARGIN, 0), { ok: true }, 'exactly the margin');
  t.match(acceptPeerEpoch(EPOCH_JUMP_MARGIN + 1, 0), { ok: false, reason: 'epoch-jump', detail: /more than 1000000 above the 0/ });
  t.same(acceptPeerEpoch(10 + EPOCH_JUMP_MARGIN, 10), { ok: true });
  t.match(acceptPeerEpoch(11 + EPOCH_JUMP_MARGIN, 10), { ok: false, reason: 'epoch-jump' });
});

t.test('acceptPeerEpoch: never above the wire bound, never a non-integer, whatever we hold', async (t) => {
  t.same(acceptPeerEpoch(HELLO_MAX_EPOCH, HELLO_MAX_EPOCH), { ok: true });
  t.match(acceptPeerEpoch(HELLO_MAX_EPOCH + 1, HELLO_MAX_EPOCH), { ok: false });
  t.match(acceptPeerEpoch(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), { ok: false }, 'the value that crashed the agent');
  t.match(acceptPeerEpoch(-1, 0), { ok: false });
  t.match(acceptPeerEpoch(1.5, 10), { ok: false });
  t.match(acceptPeerEpoch(Number.NaN, 10), { ok: false });
  t.same(acceptPeerEpoch(3, -5), { ok: true }, 'a negative held value counts as 0');
});

t.test('helloAsAdvert: only a MASTER hello from another address with priority > 0', async (t) => {
  t.same(helloAsAdvert(HELLO, '10.98.1.2'), { type: 'advert', from: '10.98.1.1', priority: 150, maxAdvertIntervalCs: 100 });
  t.equal(helloAsAdvert({ ...HELLO, state: 'BACKUP' }, '10.98.1.2'), undefined);
  t.equal(helloAsAdvert(HELLO, '10.98.1.1'), undefined, 'our own');
  t.equal(helloAsAdvert({ ...HELLO, priority: 0 }, '10.98.1.2'), undefined);
});

t.test('isIsolated: no peer on any path, no VRRP, and a witness known unreachable', async (t) => {
  const table = emptyPeerTable({ expiryMs: 20_000 });
  const base = { table, lastVrrpRxMs: -Infinity, nowMs: 10_000, masterDownMs: 3000 };
  t.equal(isIsolated({ ...base, witnessReachable: false }), true);
  t.equal(isIsolated({ ...base, witnessReachable: true }), false);
  t.equal(isIsolated({ ...base, witnessReachable: undefined }), false, 'no witness: the rule is off');
  t.equal(isIsolated({ ...base, lastVrrpRxMs: 8000, witnessReachable: false }), false, 'VRRP heard');
  notePeer(table, { node: 'lb-a', path: 'eth1', hello: HELLO, nowMs: 7000 });
  t.equal(isIsolated({ ...base, witnessReachable: false }), false, 'a hello heard within the interval');
  t.equal(isIsolated({ ...base, nowMs: 10_001, witnessReachable: false }), true, 'and not after it');
});
