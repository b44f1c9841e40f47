/**
 * Network-namespace scaffolding shared by the root-only integration tests: `ip` as a function,
 * namespaces removed in t.teardown, veth pairs with their addresses, and child processes that
 * run TypeScript inside a namespace (`ip netns exec NS node <tap's TS loader> ...`, cwd = the
 * repository root, transpile-only ts-node as tap itself uses, so no build step is needed).
 *
 * JsonLineChild is the client side of the children that speak one JSON object per line.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams, SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs `ip ARGS...` and returns its stdout; throws (with stderr) on failure or after 10 s. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

export interface Teardown { teardown(fn: () => unknown): void }

/** `PREFIX-<pid>-<6 hex>`: a namespace name no other run or test uses. */
export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function deleteNamespace(ns: string): void {
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

/**
 * Creates each namespace (first removing a leftover of a crashed run, if any) and registers
 * its removal on t.teardown before creating it, so it goes even when a later step fails.
 */
export function createNamespaces(t: Teardown, names: readonly string[], opts: { loopbackUp?: boolean } = {}): void {
  for (const ns of names) {
    deleteNamespace(ns);
    t.teardown(() => deleteNamespace(ns));
    ip('netns', 'add', ns);
    if (opts.loopbackUp === true) ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
}

/** `ip -n NS addr add CIDR dev DEV [FLAGS...]`. */
export function addAddress(ns: string, dev: string, cidr: string, ...flags: string[]): void {
  ip('-n', ns, 'addr', 'add', cidr, 'dev', dev, ...flags);
}

/** `sysctl -qw KEY=VALUE` inside `ns`. */
export function sysctl(ns: string, setting: string): void {
  ip('netns', 'exec', ns, 'sysctl', '-qw', setting);
}

export interface VethEnd {
  ns: string;
  dev: string;
  /** CIDRs added before the link goes up. */
  addresses?: readonly string[];
  /** KEY=VALUE sysctls set before the link goes up. */
  sysctls?: readonly string[];
}

/** A veth pair a.dev (in a.ns) <-> b.dev (in b.ns, which may be a.ns): sysctls, addresses, then both up. */
export function vethPair(a: VethEnd, b: VethEnd): void {
  ip('-n', a.ns, 'link', 'add', a.dev, 'type', 'veth', 'peer', 'name', b.dev, ...(b.ns === a.ns ? [] : ['netns', b.ns]));
  for (const end of [a, b]) for (const s of end.sysctls ?? []) sysctl(end.ns, s);
  for (const end of [a, b]) for (const cidr of end.addresses ?? []) addAddress(end.ns, end.dev, cidr);
  for (const end of [a, b]) ip('-n', end.ns, 'link', 'set', end.dev, 'up');
}

/** tap's TypeScript loader flag, so a child node imports .ts the way the test itself does. */
const tsImport = process.execArgv.find((a) => a.includes('@tapjs/typescript')) ?? '--import=@tapjs/typescript/import';

function tsChildArgs(ns: string, nodeArgs: readonly string[]): string[] {
  return ['netns', 'exec', ns, process.execPath, tsImport, ...nodeArgs];
}

function tsChildOptions(env: NodeJS.ProcessEnv): { cwd: string; env: NodeJS.ProcessEnv } {
  return { cwd: repoRoot, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: resolve(repoRoot, 'tsconfig.json'), ...env } };
}

/** Node arguments that run `script` as an ES module, with `args` as process.argv.slice(1). */
/** The usable (non-tentative, not dadfailed) link-local address of `dev` in `ns`, polled for up to 10 s. */
export async function linkLocal(ns: string, dev: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 100; i++) {
    last = ip('-n', ns, '-6', '-j', 'addr', 'show', 'dev', dev);
    const links = JSON.parse(last) as { addr_info?: { family?: string; local?: string; scope?: string; tentative?: boolean; dadfailed?: boolean }[] }[];
    const ll = links[0]?.addr_info?.find((a) => a.family === 'inet6' && a.scope === 'link');
    if (ll?.local !== undefined && ll.tentative !== true && ll.dadfailed !== true) return ll.local;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no usable link-local address on ${dev} in ${ns} after 10 s: ${last}`);
}

export function moduleScript(script: string, ...args: string[]): string[] {
  return ['--input-type=module', '-e', script, ...args];
}

/** Starts node with tap's TypeScript loader inside `ns`; stdin, stdout and stderr are pipes. */
export function runTsChild(ns: string, nodeArgs: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn('ip', tsChildArgs(ns, nodeArgs), { ...tsChildOptions(env), stdio: 'pipe' });
}

/** runTsChild, run to completion: the result with utf8 stdout and stderr. */
export function runTsChildSync(ns: string, nodeArgs: readonly string[], timeoutMs: number): SpawnSyncReturns<string> {
  return spawnSync('ip', tsChildArgs(ns, nodeArgs), { ...tsChildOptions({}), encoding: 'utf8', timeout: timeoutMs });
}

/**
 * A child that writes one JSON object per line on stdout: keeps every line, collects stderr,
 * and resolves waitFor() as soon as a line (seen so far or later) matches.
 */
export class JsonLineChild<L> {
  readonly lines: L[] = [];
  readonly exited: Promise<number | null>;
  #stderr = '';
  readonly #waiters = new Set<() => void>();

  constructor(protected readonly child: ChildProcessWithoutNullStreams, readonly name: string) {
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
    child.stderr.on('data', (b: Buffer) => { this.#stderr += b.toString(); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(JSON.parse(line) as L);
      for (const w of this.#waiters) w();
    });
  }

  /** The first line matching `pred` within 60 s; rejects if the child (called `who`) exits first. */
  firstLine(pred: (l: L) => boolean, who: string): Promise<L> {
    return Promise.race([
      this.waitFor(pred, 60_000),
      this.exited.then((code): never => { throw new Error(`${who} exited (${code}) before ready: ${this.#stderr}`); }),
    ]);
  }

  waitFor(pred: (l: L) => boolean, timeoutMs = 10_000): Promise<L> {
    return new Promise((res, rej) => {
      const check = (): void => {
        const hit = this.lines.find(pred);
        if (hit === undefined) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        res(hit);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        rej(new Error(`${this.name}: nothing matched in ${timeoutMs} ms; saw ${JSON.stringify(this.lines)}; stderr: ${this.#stderr}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Writes `obj` as one line on the child's stdin. */
  command(obj: unknown): void {
    this.child.stdin.write(`${JSON.stringify(obj)}\n`);
  }

  /** Ends stdin (the child cleans up and exits) and resolves with the exit code; SIGKILL after 10 s. */
  async stop(): Promise<number | null> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** One IPv4 protocol-112 frame seen by captureVrrp: its bytes as hex and time.monotonic() in ms. */
export interface CapturedFrame { frame?: string; t?: number; ready?: boolean }

/**
 * Every IPv4 protocol-112 frame arriving on `dev` in `ns` (AF_PACKET, our own outgoing frames
 * left out), one JSON line each; the first line is `{"ready": true}` once the socket is bound.
 */
export function captureVrrp<L extends CapturedFrame>(ns: string, dev: string): { lines: JsonLineChild<L>; kill: () => void } {
  const py = [
    'import socket, json, time',
    's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))',
    `s.bind((${JSON.stringify(dev)}, 0))`,
    'print(json.dumps({"ready": True}), flush=True)',
    'while True:',
    '    f, addr = s.recvfrom(65535)',
    '    if addr[2] == socket.PACKET_OUTGOING or len(f) < 34 or f[23] != 112: continue',
    '    print(json.dumps({"frame": f.hex(), "t": time.monotonic() * 1000}), flush=True)',
  ].join('\n');
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', py], { stdio: 'pipe' });
  return { lines: new JsonLineChild<L>(child, `capture in ${ns}`), kill: () => child.kill() };
}
