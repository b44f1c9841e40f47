/**
 * Child-process driver for the netlink integration tests. Run inside a namespace:
 *
 *   ip netns exec hanl-x node --import=@tapjs/typescript/import test/integration/netlink/driver.ts
 *
 * Protocol: one JSON object per line.
 *   stdin : { "id": 1, "method": "addVip", "args": ["va", "10.0.0.5/24"] }
 *   stdout: { "id": 1, "ok": true, "result": ... }
 *         | { "id": 1, "ok": false, "error": { "name", "code", "errno", "errnoCode", "message" } }
 *         | { "event": { ...NetlinkEvent } }   (after a "watch" call)
 *         | { "ready": true }                   (once, at start)
 * Exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { createNetlink } from '../../../src/adapters/netlink/index.js';
import type { NetlinkWatcher } from '../../../src/adapters/netlink/index.js';

const port = await createNetlink();
let watcher: NetlinkWatcher | undefined;

const write = (obj: unknown): void => { process.stdout.write(`${JSON.stringify(obj)}\n`); };

type Handler = (...args: never[]) => Promise<unknown>;
const methods: Record<string, Handler> = {
  addVip: (ifname: string, cidr: string, opts?: Record<string, unknown>) => port.addVip(ifname, cidr, opts),
  removeVip: (ifname: string, cidr: string) => port.removeVip(ifname, cidr),
  listAddresses: (ifname?: string) => port.listAddresses(ifname),
  hasVip: (ifname: string, cidr: string) => port.hasVip(ifname, cidr),
  primaryIpv4: (ifname: string) => port.primaryIpv4(ifname),
  linkLocalIpv6: (ifname: string) => port.linkLocalIpv6(ifname),
  getLink: (ifname: string) => port.getLink(ifname),
  getLinkByIndex: (ifindex: number) => port.getLinkByIndex(ifindex),
  watch: async () => {
    watcher ??= await port.watch();
    watcher.on('event', (event) => write({ event }));
    watcher.on('error', (err) => write({ watchError: err.message }));
    return true;
  },
};

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  const req = JSON.parse(line) as { id: number; method: string; args?: unknown[] };
  const fn = methods[req.method];
  const run = fn ? (fn as (...a: unknown[]) => Promise<unknown>)(...(req.args ?? [])) : Promise.reject(new Error(`no method ${req.method}`));
  run.then(
    (result) => write({ id: req.id, ok: true, result: result ?? null }),
    (err: unknown) => {
      const e = err as { name?: string; code?: string; errno?: number; errnoCode?: string; message?: string };
      write({ id: req.id, ok: false, error: { name: e.name, code: e.code, errno: e.errno, errnoCode: e.errnoCode, message: e.message } });
    },
  );
});
rl.on('close', () => {
  watcher?.close();
  port.close();
});
write({ ready: true });
