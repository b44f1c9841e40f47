/**
 * heap-tuning: with HEAP_FLAGS set at run time (as tuneHeapForDaemon does), a steady allocator
 * with survivors keeps V8's young generation at its initial size; without them the same load
 * grows it. Each case runs in a fresh plain node (the young generation never shrinks back within
 * a process, and a TypeScript loader would grow it before the script starts), which reports its
 * new space's size in bytes.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  FULL_COMPILER_FLAGS, HEAP_FLAGS, LIGHT_COMPILER_FLAGS, OPTIMIZE_FROM_ADVERTS_PER_S, REALTIME_GC_FLAGS,
  advertsPerSecond, tuneCompilerForLoad, tuneGcForRealtime, tuneHeapForDaemon,
} from '../../../src/daemon/heap-tuning.js';

/** New-space size (bytes) after ~40 MB of allocation of which a sliding window survives. */
function newSpaceAfterLoad(tuned: boolean): number {
  const script = `
    import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
    if (${tuned}) for (const f of ${JSON.stringify(HEAP_FLAGS)}) setFlagsFromString(f);
    const keep = [];
    for (let n = 0; n < 400; n++) {
      const a = [];
      for (let i = 0; i < 1000; i++) a.push({ i, s: 'x' + i });
      keep.push(a);
      if (keep.length > 20) keep.shift();
    }
    process.stdout.write(String(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env: {} });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return Number(r.stdout.trim());
}

t.test('the young generation stays at its initial size only when tuned', async (t) => {
  const untuned = newSpaceAfterLoad(false);
  const tuned = newSpaceAfterLoad(true);
  t.ok(untuned > 4 * 1024 * 1024, `untuned, the load grows new space (${untuned} bytes)`);
  // Two semi-spaces of the size node started with (1 or 2 MB each), never the 16 MB the load reaches untuned.
  t.ok(tuned <= 4 * 1024 * 1024, `tuned, new space stays at its starting size (${tuned} bytes)`);
  t.ok(tuned * 4 <= untuned, 'a quarter of the untuned size or less');
});

t.test('idempotent and never throws', async (t) => {
  t.doesNotThrow(() => { tuneHeapForDaemon(); tuneHeapForDaemon(); });
});

t.test('the real-time collector flags are safe to set after start', async (t) => {
  // Some GC flags abort this V8 when set after the heap exists (--single-threaded-gc,
  // --no-parallel-marking do): the ones we set must survive scavenges and full collections.
  const script = `
    import { setFlagsFromString } from 'node:v8';
    for (const f of ${JSON.stringify(REALTIME_GC_FLAGS)}) setFlagsFromString(f);
    let keep = [];
    for (let n = 0; n < 300; n++) {
      const a = [];
      for (let i = 0; i < 2000; i++) a.push({ i, s: 'x' + i });
      keep.push(a);
      if (keep.length > 50) keep = keep.slice(25);
      if (n % 100 === 0) globalThis.gc();
    }
    process.stdout.write('survived');
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env: {} });
  t.equal(r.status, 0, `child exits cleanly (${r.stderr.slice(0, 300)})`);
  t.equal(r.stdout, 'survived');
  t.doesNotThrow(() => { tuneGcForRealtime(); tuneGcForRealtime(); });
});

/** Whether a hot function gets optimized after `flags` are set at run time (and `later` after its first warm-up). */
function optimizedAfter(flags: readonly string[], later: readonly string[] = []): boolean {
  const script = `
    import { setFlagsFromString } from 'node:v8';
    for (const f of ${JSON.stringify(flags)}) setFlagsFromString(f);
    function hot(a, b) { return (a * 31 + b) | 0; }
    let x = 0;
    for (let i = 0; i < 2e6; i++) x = hot(x, i);
    for (const f of ${JSON.stringify(later)}) setFlagsFromString(f);
    for (let i = 0; i < 2e6; i++) x = hot(x, i);
    // %GetOptimizationStatus bit 4 (16): TurboFan-optimized code.
    process.stdout.write(String((%GetOptimizationStatus(hot) & 16) !== 0));
  `;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env: {} });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return r.stdout === 'true';
}

t.test('the compiler flags take effect when set at run time, and can be raised again', async (t) => {
  t.equal(optimizedAfter([]), true, 'by default the hot function is optimized');
  t.equal(optimizedAfter(LIGHT_COMPILER_FLAGS), false, 'light: it stays on baseline code');
  t.equal(optimizedAfter(LIGHT_COMPILER_FLAGS, FULL_COMPILER_FLAGS), true, 'raised later: it is optimized');
});

t.test('advertsPerSecond: one advert per interval per instance', async (t) => {
  t.equal(advertsPerSecond([]), 0);
  t.equal(advertsPerSecond([{ advertIntervalCs: 10 }]), 10);
  t.equal(advertsPerSecond(Array.from({ length: 255 }, () => ({ advertIntervalCs: 100 }))), 255);
  t.equal(advertsPerSecond([{ advertIntervalCs: 1 }, { advertIntervalCs: 100 }]), 101);
});

t.test('tuneCompilerForLoad raises the compiler once the load reaches the threshold, never lowers it', async (t) => {
  // tuneHeapForDaemon ran above (the light setting is in place in this process).
  const light = Array.from({ length: OPTIMIZE_FROM_ADVERTS_PER_S - 1 }, () => ({ advertIntervalCs: 100 }));
  const heavy = [...light, { advertIntervalCs: 100 }];
  t.equal(tuneCompilerForLoad([{ advertIntervalCs: 10 }]), false, 'one instance at 100 ms: stays light');
  t.equal(tuneCompilerForLoad(light), false, `${light.length} adverts a second: stays light`);
  t.equal(tuneCompilerForLoad(heavy), true, `${heavy.length} adverts a second: optimizing`);
  t.equal(tuneCompilerForLoad([]), true, 'a lighter config later does not lower it');
  tuneHeapForDaemon();
  t.equal(tuneCompilerForLoad([]), true, 'nor does tuneHeapForDaemon again');
});
