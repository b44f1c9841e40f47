import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { ControlServer, requestStatus } from '../../../src/daemon/control-server.js';
import type { AgentStatus } from '../../../src/core/control/types.js';

const status: AgentStatus = { pid: 1, version: 'test', startedAt: '2026-01-01T00:00:00.000Z', instances: [], interfaceDrops: {} };

/** Unix socket paths are limited to 107 bytes: tap's fixture directories are too deep. */
function shortDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function exchange(path: string, payload: string, replies: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n').filter((l) => l !== '');
      if (lines.length >= replies) { c.destroy(); resolve(lines); }
    });
    c.on('error', reject);
    c.write(payload);
  });
}

t.test('control socket: root-only mode, status replies, malformed requests get errors and the server stays up', async (t) => {
  const dir = shortDir(t);
  const path = join(dir, 'sub', 'agent.sock');
  const server = await ControlServer.listen(path, () => status);
  t.teardown(() => server.close());
  t.equal(statSync(path).mode & 0o777, 0o600, 'socket is 0600');
  t.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700, 'its directory is 0700');
  t.same(await requestStatus(path), status);
  const replies = await exchange(path, 'not json\n{"command":"reboot"}\n[]\n{"command":"status"}\n', 4);
  const parsed = replies.map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string; message: string } });
  t.match(parsed[0], { ok: false, error: { code: 'HA_ERR_CONTROL', message: 'request is not valid JSON' } });
  t.match(parsed[1], { ok: false, error: { message: /unknown command "reboot"/ } });
  t.match(parsed[2], { ok: false, error: { message: 'request must be a JSON object' } });
  t.match(parsed[3], { ok: true, status: { version: 'test' } }, 'the same connection still answers');
  const huge = await exchange(path, 'x'.repeat(70 * 1024), 1);
  t.match(JSON.parse(huge[0] ?? '{}'), { ok: false, error: { message: /longer than/ } });
  t.same(await requestStatus(path), status, 'server still up after abuse');
});

t.test('a second agent on the same socket is refused; a stale socket file is replaced', async (t) => {
  const dir = shortDir(t);
  const path = join(dir, 'agent.sock');
  const first = await ControlServer.listen(path, () => status);
  await t.rejects(ControlServer.listen(path, () => status), { code: 'HA_ERR_CONTROL', message: /already answering/ });
  first.close();
  const again = await ControlServer.listen(path, () => status);
  t.same(await requestStatus(path), status);
  again.close();
});

t.test('a socket path too long for sockaddr_un is refused with the reason', async (t) => {
  await t.rejects(ControlServer.listen(`/tmp/${'x'.repeat(120)}.sock`, () => status), { code: 'HA_ERR_CONTROL', message: /unix sockets allow at most 107/ });
});

t.test('no agent: HA_ERR_NO_AGENT names the socket', async (t) => {
  await t.rejects(requestStatus('/nonexistent/haagent.sock'), { code: 'HA_ERR_NO_AGENT', message: /nothing listens on \/nonexistent\/haagent\.sock/ });
});
