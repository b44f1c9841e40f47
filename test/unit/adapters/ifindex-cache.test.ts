/**
 * IfindexCache: remembers an interface's index only while a watcher guards it, forgets on
 * every link change and on the watcher's close, and never keeps an answer that a change overtook.
 */
import { EventEmitter } from 'node:events';
import t from 'tap';
import { IfindexCache } from '../../../src/adapters/netlink/ifindex-cache.js';

/** A kernel stand-in: current indexes by name, and a count of lookups. */
function fakeLinks(indexes: Map<string, number>): { ifindexOf: (n: string) => Promise<number>; lookups: () => number; hold: () => () => void } {
  let lookups = 0;
  let gate: Promise<void> | undefined;
  return {
    ifindexOf: async (name) => {
      lookups += 1;
      if (gate !== undefined) await gate;
      const i = indexes.get(name);
      if (i === undefined) throw new Error(`ENODEV ${name}`);
      return i;
    },
    lookups: () => lookups,
    /** Makes lookups wait until the returned release() is called. */
    hold: () => {
      let release = (): void => undefined;
      gate = new Promise((r) => { release = r; });
      return () => { gate = undefined; release(); };
    },
  };
}

t.test('without a watcher every lookup asks the kernel', async (t) => {
  const links = fakeLinks(new Map([['eth0', 2]]));
  const cache = new IfindexCache(links);
  t.equal(await cache.ifindexOf('eth0'), 2);
  t.equal(await cache.ifindexOf('eth0'), 2);
  t.equal(links.lookups(), 2);
  t.equal(cache.forget('eth0'), false, 'nothing was remembered');
});

t.test('guarded: one lookup, then from memory; a link change makes it ask again', async (t) => {
  const kernel = new Map([['eth0', 2]]);
  const links = fakeLinks(kernel);
  const cache = new IfindexCache(links);
  const w = new EventEmitter();
  cache.guardWith(w);
  t.equal(await cache.ifindexOf('eth0'), 2);
  t.equal(await cache.ifindexOf('eth0'), 2);
  t.equal(links.lookups(), 1);
  kernel.set('eth0', 7); // re-created: a new index
  w.emit('links-changed');
  t.equal(await cache.ifindexOf('eth0'), 7);
  t.equal(links.lookups(), 2);
});

t.test('forget says whether the answer came from memory', async (t) => {
  const links = fakeLinks(new Map([['eth0', 2]]));
  const cache = new IfindexCache(links);
  cache.guardWith(new EventEmitter());
  await cache.ifindexOf('eth0');
  t.equal(cache.forget('eth0'), true);
  t.equal(cache.forget('eth0'), false);
  await cache.ifindexOf('eth0');
  t.equal(links.lookups(), 2, 'asked the kernel again after forget');
});

t.test('a change while a lookup runs: that answer is not remembered', async (t) => {
  const links = fakeLinks(new Map([['eth0', 2]]));
  const cache = new IfindexCache(links);
  const w = new EventEmitter();
  cache.guardWith(w);
  const release = links.hold();
  const pending = cache.ifindexOf('eth0');
  w.emit('links-changed');
  release();
  t.equal(await pending, 2);
  await cache.ifindexOf('eth0');
  t.equal(links.lookups(), 2, 'the overtaken answer was not kept');
});

t.test('after the watcher closes nothing is remembered (closed twice counts once)', async (t) => {
  const links = fakeLinks(new Map([['eth0', 2]]));
  const cache = new IfindexCache(links);
  const a = new EventEmitter();
  const b = new EventEmitter();
  cache.guardWith(a);
  cache.guardWith(b);
  await cache.ifindexOf('eth0');
  a.emit('closed');
  a.emit('closed');
  await cache.ifindexOf('eth0');
  t.equal(links.lookups(), 2, 'a close forgets');
  await cache.ifindexOf('eth0');
  t.equal(links.lookups(), 2, 'still guarded by the other watcher');
  b.emit('closed');
  await cache.ifindexOf('eth0');
  await cache.ifindexOf('eth0');
  t.equal(links.lookups(), 4, 'unguarded: every lookup asks');
});

t.test('the link generation: NaN without a watcher, then changes with every link change and the close', async (t) => {
  const cache = new IfindexCache(fakeLinks(new Map([['eth0', 2]])));
  t.ok(Number.isNaN(cache.linkGeneration), 'unknown without a watcher');
  const w = new EventEmitter();
  cache.guardWith(w);
  const g0 = cache.linkGeneration;
  t.notOk(Number.isNaN(g0), 'known while guarded');
  await cache.ifindexOf('eth0');
  t.equal(cache.linkGeneration, g0, 'a lookup changes nothing');
  w.emit('links-changed');
  const g1 = cache.linkGeneration;
  t.not(g1, g0, 'a link change changes it');
  w.emit('closed');
  t.ok(Number.isNaN(cache.linkGeneration), 'unknown again once the watcher closed');
});
