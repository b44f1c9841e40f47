import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { ControlServer, request, requestStatus } from '../../../src/daemon/control-server.js';
import type { AgentStatus } from '../../../src/core/control/types.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { HaagentError } from '../../../src/core/errors.js';
import type { ControlHandler } from '../../../src/daemon/control-server.js';

const status: AgentStatus = {
  pid: 1, version: 'test', startedAt: '2026-01-01T00:00:00.000Z', instances: [], interfaceDrops: {},
  configSource: 'test', configLoadedAt: '2026-01-01T00:00:00.000Z',
};

/** A fake agent: records what the control socket asked of it. */
function fakeHandler(): ControlHandler & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    events: new EventBus(),
    status: () => status,
    maintenance: (on, instance) => { calls.push(`maintenance ${on} ${instance ?? '*'}`); return 'ok'; },
    switchover: (instance) => {
      if (instance === 'nope') throw new HaagentError('HA_ERR_INVALID_ARGUMENT', 'no instance named "nope"');
      calls.push(`switchover ${instance ?? '*'}`);
      return 'handing over';
    },
    reload: async () => { calls.push('reload'); return 'reloaded'; },
  };
}

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
  const server = await ControlServer.listen(path, fakeHandler());
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
  const first = await ControlServer.listen(path, fakeHandler());
  await t.rejects(ControlServer.listen(path, fakeHandler()), { code: 'HA_ERR_CONTROL', message: /already answering/ });
  first.close();
  const again = await ControlServer.listen(path, fakeHandler());
  t.same(await requestStatus(path), status);
  again.close();
});

t.test('commands reach the agent; its errors become error replies; events stream until closed', async (t) => {
  const dir = shortDir(t);
  const path = join(dir, 'agent.sock');
  const h = fakeHandler();
  const server = await ControlServer.listen(path, h);
  t.teardown(() => server.close());
  t.match(await request(path, { command: 'maintenance', on: true, instance: 'web' }), { ok: true, message: 'ok' });
  t.match(await request(path, { command: 'switchover' }), { ok: true, message: 'handing over' });
  t.match(await request(path, { command: 'switchover', instance: 'nope' }), { ok: false, error: { code: 'HA_ERR_INVALID_ARGUMENT', message: /no instance named "nope"/ } });
  t.match(await request(path, { command: 'reload' }), { ok: true, message: 'reloaded' });
  t.same(h.calls, ['maintenance true web', 'switchover *', 'reload']);
  const bad = await exchange(path, '{"command":"maintenance"}\n', 1);
  t.match(JSON.parse(bad[0] ?? '{}'), { ok: false, error: { message: /needs "on"/ } });
  const got: string[] = [];
  let done: () => void = () => undefined;
  const twoEvents = new Promise<void>((resolve) => { done = resolve; });
  const ac = new AbortController();
  const sub = request(path, { command: 'events' }, {
    signal: ac.signal,
    onEvent: (ev) => { got.push(ev.type); if (got.length === 2) done(); },
  });
  t.match(await sub, { ok: true, message: 'subscribed' });
  h.events.publish({ type: 'advert-sent', instance: 'web' });
  h.events.publish({ type: 'transition', instance: 'web', vrid: 1, from: 'BACKUP', to: 'MASTER', reason: 'test' });
  h.events.publish({ type: 'maintenance', instance: 'web', on: true });
  await twoEvents;
  ac.abort();
  t.same(got, ['transition', 'maintenance'], 'per-packet events are not streamed by default');
});

t.test('a socket path too long for sockaddr_un is refused with the reason', async (t) => {
  await t.rejects(ControlServer.listen(`/tmp/${'x'.repeat(120)}.sock`, fakeHandler()), { code: 'HA_ERR_CONTROL', message: /unix sockets allow at most 107/ });
});

t.test('no agent: HA_ERR_NO_AGENT names the socket', async (t) => {
  await t.rejects(requestStatus('/nonexistent/haagent.sock'), { code: 'HA_ERR_NO_AGENT', message: /nothing listens on \/nonexistent\/haagent\.sock/ });
});
