/**
 * systemd notification (native/sd_notify.c via src/adapters/sd-notify.ts) against a real
 * AF_UNIX datagram receiver standing in for systemd: a python3 child (Node's dgram has no
 * AF_UNIX) that binds the address, asks for the sender's credentials (SO_PASSCRED, as systemd
 * does to enforce NotifyAccess=main), prints {"ready":true}, then prints one
 * {"message": ..., "pid": ...} line per datagram. No root needed.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { notifySystemd } from '../../src/adapters/sd-notify.js';
import { HaagentError } from '../../src/core/errors.js';

const RECEIVER = `
import json, socket, struct, sys
path = sys.argv[1]
addr = '\\0' + path[1:] if path.startswith('@') else path
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(addr)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({'ready': True}), flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack('iII', payload[:12])[0]
    print(json.dumps({'message': data.decode(), 'pid': pid}), flush=True)
`;

const python = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { stdio: 'ignore' });
const skip = python.status === 0 ? false : 'python3 is not installed (the test receiver is a python3 child)';

type Tester = Pick<typeof t, 'teardown' | 'same'>;

interface Receiver {
  next(): Promise<{ message: string; pid: number | null }>;
}

/** Starts the receiver on `address` and resolves once it is bound. */
async function receiver(t: Tester, address: string): Promise<Receiver> {
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-c', RECEIVER, address]);
  t.teardown(() => {
    child.kill();
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const read = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done === true) throw new Error(`receiver exited: ${stderr}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  t.same(await read(), { ready: true }, `receiver bound on ${address}`);
  return { next: async () => (await read()) as { message: string; pid: number | null } };
}

/** Runs fn with NOTIFY_SOCKET set to value (undefined: unset), restoring it afterwards. */
function withNotifySocket<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env['NOTIFY_SOCKET'];
  if (value === undefined) delete process.env['NOTIFY_SOCKET'];
  else process.env['NOTIFY_SOCKET'] = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env['NOTIFY_SOCKET'];
    else process.env['NOTIFY_SOCKET'] = saved;
  }
}

function shortDir(t: Tester): string {
  // sun_path is 108 bytes: tap's fixture directories can be too deep.
  const dir = mkdtempSync(join(tmpdir(), 'hasdn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('NOTIFY_SOCKET unset or empty: returns false and sends nothing', async (t) => {
  t.equal(withNotifySocket(undefined, () => notifySystemd('READY=1')), false);
  t.equal(withNotifySocket('', () => notifySystemd('READY=1')), false);
});

t.test('filesystem socket: READY=1 arrives, with our pid as the sender', { skip }, async (t) => {
  const path = join(shortDir(t), 'notify');
  const rx = await receiver(t, path);
  t.equal(withNotifySocket(path, () => notifySystemd('READY=1')), true);
  t.same(await rx.next(), { message: 'READY=1', pid: process.pid });
  const reloading = `RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`;
  t.equal(withNotifySocket(path, () => notifySystemd(reloading)), true);
  t.same(await rx.next(), { message: reloading, pid: process.pid }, 'multi-line message, byte for byte');
  const status = 'STATUS=2 instances: vi_1 MASTER, vi_2 BACKUP — ok';
  t.equal(withNotifySocket(path, () => notifySystemd(status)), true);
  t.equal((await rx.next()).message, status, 'UTF-8 preserved');
});

t.test('abstract namespace (@name): the @ becomes a NUL and the length is exact', { skip }, async (t) => {
  const name = `@haagent-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const rx = await receiver(t, name);
  t.equal(withNotifySocket(name, () => notifySystemd('STOPPING=1')), true);
  t.same(await rx.next(), { message: 'STOPPING=1', pid: process.pid });
});

t.test('failures are HA_ERR_CONTROL with the native error as cause', async (t) => {
  const missing = join(shortDir(t), 'nobody-listens');
  const err = withNotifySocket(missing, () => t.throws(() => notifySystemd('READY=1'))) as unknown;
  t.type(err, HaagentError);
  t.match(err, { code: 'HA_ERR_CONTROL', message: /READY=1.*nobody-listens.*ENOENT/, cause: { code: 'ENOENT', errno: 2, syscall: 'sendto' } });

  const abstractMissing = `@haagent-test-none-${process.pid}-${Math.random().toString(36).slice(2)}`;
  t.throws(() => withNotifySocket(abstractMissing, () => notifySystemd('READY=1')), { code: 'HA_ERR_CONTROL', cause: { code: 'ECONNREFUSED' } });

  for (const bad of ['relative/path', '@', '/']) {
    t.throws(() => withNotifySocket(bad, () => notifySystemd('READY=1')), { code: 'HA_ERR_CONTROL', cause: { code: 'EINVAL' } }, bad);
  }
  t.throws(() => withNotifySocket(`/${'x'.repeat(107)}`, () => notifySystemd('READY=1')), { code: 'HA_ERR_CONTROL', cause: { code: 'ENAMETOOLONG' } });
});
