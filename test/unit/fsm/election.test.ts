import t from 'tap';
import { advertBeatsLocal, compareRank, isOwner, preemptMode } from '../../../src/core/fsm/election.js';
import { describeTimers } from '../../../src/core/fsm/describe.js';
import * as api from '../../../src/core/fsm/index.js';
import { started } from './helpers.js';

// RFC 5798 §6.4.3 (kept by RFC 9568 §6.4.3): "If the Priority in the ADVERTISEMENT is greater than the local Priority or
// the Priority in the ADVERTISEMENT is equal to the local Priority and the primary IPvX Address
// of the sender is greater than the local primary IPvX Address"
t.test('an advert beats us by priority, then by primary address', (t) => {
  const us = { priority: 100, address: '10.0.0.20' };
  t.ok(advertBeatsLocal({ priority: 101, address: '10.0.0.1' }, us));
  t.notOk(advertBeatsLocal({ priority: 99, address: '10.0.0.200' }, us));
  t.ok(advertBeatsLocal({ priority: 100, address: '10.0.0.100' }, us), '100 > 20 numerically');
  t.notOk(advertBeatsLocal({ priority: 100, address: '10.0.0.3' }, us), '"10.0.0.3" > "10.0.0.20" only as text');
  t.notOk(advertBeatsLocal({ priority: 100, address: '10.0.0.20' }, us), 'ourselves');
  t.equal(compareRank(us, us), 0);
  t.end();
});

// RFC 5798 §6.1 (kept by RFC 9568 §6.1): "The exception is that the router that owns the IPvX address associated with
// the virtual router always preempts, independent of the setting of this flag."
t.test('preempt mode: configured flag, forced on for the owner', (t) => {
  t.ok(preemptMode(started({ preempt: true, priority: 100 })));
  t.notOk(preemptMode(started({ preempt: false, priority: 100 })));
  const owner = started({ preempt: false, priority: 255 });
  t.ok(isOwner(owner));
  t.ok(preemptMode(owner));
  t.end();
});

t.test('describeTimers reports time left per timer', (t) => {
  const s = started({}, 0);
  t.same(describeTimers(s, 1000), { 'master-down': 2600, advert: null, 'preempt-delay': null });
  t.same(describeTimers(s, 9000), { 'master-down': 0, advert: null, 'preempt-delay': null });
  t.end();
});

t.test('index re-exports the public API', (t) => {
  for (const name of ['step', 'createInstance', 'skewTimeMs', 'masterDownIntervalMs', 'compareAddresses', 'advertBeatsLocal', 'describeTimers']) {
    t.type((api as Record<string, unknown>)[name], 'function', name);
  }
  t.end();
});
