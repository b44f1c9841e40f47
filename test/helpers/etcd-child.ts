/**
 * The etcd client child of the namespace tests (started by EtcdClientChild in test/helpers/etcd.ts
 * inside a host's namespace). Reads one JSON command per line on stdin, writes one JSON event per
 * line on stdout, each with `at`: wall-clock ms (fractional), comparable between processes here.
 *
 * Commands: { cmd: 'keeper', cfg } -> 'started' { leaseId }, then the keeper's events
 * ('renewed', 'fence', 'lost', 'reachable', 'unreachable'); { cmd: 'call', n, method, args } ->
 * 'result' { n, value } or { n, error, code }; { cmd: 'createUntilHeld', key, value, everyMs } ->
 * 'held' { createRevision } once createIfAbsent succeeds with the keeper's lease.
 * End of stdin: the keeper is stopped (lease revoked) and the process exits.
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { EtcdGateway } from '../../src/adapters/etcd/gateway.js';
import { LeaseKeeper } from '../../src/adapters/etcd/lease-keeper.js';
import type { EtcdConfig } from '../../src/core/config/types.js';

const wallMs = (): number => performance.timeOrigin + performance.now();
const out = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...line, at: wallMs() }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
};

let gw: EtcdGateway | undefined;
let keeper: LeaseKeeper | undefined;
const clock = { nowMs: () => performance.now() };

type Method = 'grant' | 'keepAlive' | 'revoke' | 'createIfAbsent' | 'get' | 'range' | 'put' | 'deleteIfOwned';

async function call(n: number, method: Method, args: unknown[]): Promise<void> {
  try {
    if (gw === undefined) throw new Error('no keeper started');
    const a = args.map((x) => (typeof x === 'string' && /^\d+n$/.test(x) ? BigInt(x.slice(0, -1)) : x));
    const fn = gw[method] as (...xs: unknown[]) => Promise<unknown>;
    out({ ev: 'result', n, value: await fn.apply(gw, a) });
  } catch (err) {
    out({ ev: 'result', n, error: err instanceof Error ? err.message : String(err), code: (err as { code?: string }).code });
  }
}

async function createUntilHeld(key: string, value: string, everyMs: number): Promise<void> {
  for (;;) {
    const lease = keeper?.leaseId;
    if (lease !== undefined && gw !== undefined) {
      try {
        const r = await gw.createIfAbsent(key, value, lease);
        if (r.held) { out({ ev: 'held', createRevision: r.createRevision, leaseId: lease }); return; }
      } catch { /* not reachable now: try again */ }
    }
    await new Promise((res) => setTimeout(res, everyMs));
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const c = JSON.parse(line) as { cmd: string; cfg?: EtcdConfig; n?: number; method?: Method; args?: unknown[]; key?: string; value?: string; everyMs?: number };
  if (c.cmd === 'keeper' && c.cfg !== undefined) {
    gw = new EtcdGateway(c.cfg);
    keeper = new LeaseKeeper(gw, c.cfg, clock);
    for (const ev of ['renewed', 'fence', 'lost', 'reachable', 'unreachable']) keeper.on(ev, (id?: string) => out({ ev, id }));
    void keeper.start().then(() => out({ ev: 'started', leaseId: keeper?.leaseId }));
  } else if (c.cmd === 'call' && c.n !== undefined && c.method !== undefined) {
    void call(c.n, c.method, c.args ?? []);
  } else if (c.cmd === 'createUntilHeld' && c.key !== undefined && c.value !== undefined) {
    void createUntilHeld(c.key, c.value, c.everyMs ?? 50);
  }
});
rl.on('close', () => {
  void (keeper?.stop() ?? Promise.resolve()).finally(() => { gw?.close(); process.exit(0); });
});
