/**
 * Shared plumbing for the rtnetlink integration tests: namespaces, `ip -j` readers and a
 * client for driver.ts, which runs the adapter inside a namespace in a child process.
 *
 * How the child runs TypeScript: it is started as
 *   ip netns exec NS node --import=@tapjs/typescript/import test/integration/netlink/driver.ts
 * with cwd = the repository root, i.e. the same ts-node ESM loader tap itself uses for .ts
 * tests (tsconfig.json, transpile-only), so `npm test` needs no build step. The child also
 * inherits NODE_OPTIONS from tap (its processinfo/coverage hook).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
const driverPath = resolve(here, 'driver.ts');

export async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args, { timeout: 10_000 });
  return stdout;
}

/** Why these tests cannot run here, or undefined when they can. */
export async function skipReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'rtnetlink tests need Linux';
  if (process.getuid?.() !== 0) return 'rtnetlink tests need root (ip netns, veth); run as root or in CI';
  const probe = `hanl-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    await ip('netns', 'add', probe);
  } catch (err) {
    return `\`ip netns add\` is unavailable: ${(err as Error).message.split('\n')[0] ?? ''}`;
  }
  await ip('netns', 'del', probe).catch(() => undefined);
  return undefined;
}

interface Teardown { teardown(fn: () => unknown): void }

/**
 * A fresh namespace `hanl-<tag>-<pid>-<rand>` holding a veth pair va <-> vb (both up),
 * deleted in t.teardown even when the test fails.
 */
export async function makeNamespace(t: Teardown, tag: string): Promise<string> {
  const ns = `hanl-${tag}-${process.pid}-${randomBytes(3).toString('hex')}`;
  await ip('netns', 'add', ns);
  t.teardown(() => ip('netns', 'del', ns).catch(() => undefined));
  await ip('-n', ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await ip('-n', ns, 'link', 'set', 'va', 'up');
  await ip('-n', ns, 'link', 'set', 'vb', 'up');
  return ns;
}

export interface IpAddr {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  label?: string;
  valid_life_time?: number;
  preferred_life_time?: number;
  secondary?: boolean;
}

/** `ip -n NS -j addr show dev DEV`: the addr_info list. */
export async function addrs(ns: string, dev: string): Promise<IpAddr[]> {
  const out = JSON.parse(await ip('-n', ns, '-j', 'addr', 'show', 'dev', dev)) as Array<{ addr_info?: IpAddr[] }>;
  return out[0]?.addr_info ?? [];
}

export async function findAddr(ns: string, dev: string, local: string, prefixlen: number): Promise<IpAddr | undefined> {
  return (await addrs(ns, dev)).find((a) => a.local === local && a.prefixlen === prefixlen);
}

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface DriverError { name?: string; code?: string; errno?: number; errnoCode?: string; message?: string }

export class DriverCallError extends Error {
  constructor(readonly method: string, readonly remote: DriverError) {
    super(`${method}: ${remote.message ?? 'failed'}`);
  }
}

type Event = Record<string, unknown> & { type: string };

/** Client for driver.ts running in `ns`. */
export class Driver {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  readonly events: Event[] = [];
  private readonly eventWaiters = new Set<() => void>();
  private stderr = '';
  private exited = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {}

  static async start(t: Teardown, ns: string): Promise<Driver> {
    const tsImport = process.execArgv.find((a) => a.includes('@tapjs/typescript')) ?? '--import=@tapjs/typescript/import';
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, tsImport, driverPath], {
      cwd: repoRoot,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: resolve(repoRoot, 'tsconfig.json') },
      stdio: 'pipe',
    });
    const d = new Driver(child);
    t.teardown(() => d.close());
    child.stderr.on('data', (b: Buffer) => { d.stderr += b.toString(); });
    const ready = new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`driver did not start in 60 s; stderr:\n${d.stderr}`)), 60_000);
      child.on('exit', (code) => {
        d.exited = true;
        clearTimeout(timer);
        rej(new Error(`driver exited (${code}); stderr:\n${d.stderr}`));
        for (const p of d.pending.values()) p.reject(new Error(`driver exited (${code}) during ${p.method}; stderr:\n${d.stderr}`));
        d.pending.clear();
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: DriverError; event?: Event };
        if (msg.ready) { clearTimeout(timer); res(); return; }
        if (msg.event) {
          d.events.push(msg.event);
          for (const w of d.eventWaiters) w();
          return;
        }
        if (msg.id === undefined) return;
        const p = d.pending.get(msg.id);
        if (!p) return;
        d.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new DriverCallError(p.method, msg.error ?? {}));
      });
    });
    await ready;
    return d;
  }

  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`driver has exited; stderr:\n${this.stderr}`));
    const id = this.nextId++;
    return new Promise<T>((res, rej) => {
      this.pending.set(id, { resolve: res as (v: unknown) => void, reject: rej, method });
      this.child.stdin.write(`${JSON.stringify({ id, method, args })}\n`);
    });
  }

  /** Resolves with the first event (seen so far or later) matching `pred`; rejects after timeoutMs. */
  waitForEvent(pred: (e: Event) => boolean, timeoutMs = 10_000): Promise<Event> {
    return new Promise((res, rej) => {
      const check = (): boolean => {
        const hit = this.events.find(pred);
        if (!hit) return false;
        this.eventWaiters.delete(waiter);
        clearTimeout(timer);
        res(hit);
        return true;
      };
      const waiter = (): void => { check(); };
      const timer = setTimeout(() => {
        this.eventWaiters.delete(waiter);
        rej(new Error(`no matching event in ${timeoutMs} ms; saw ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      this.eventWaiters.add(waiter);
      check();
    });
  }

  clearEvents(): void {
    this.events.length = 0;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(timer);
  }
}
