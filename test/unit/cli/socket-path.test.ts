/** Which control socket a client command uses: the precedence and what a config file may break. */
import t from 'tap';
import { DEFAULT_SOCKET_PATH } from '../../../src/core/config/types.js';
import { HaagentError } from '../../../src/core/errors.js';
import { clientSocket, type SocketDeps } from '../../../src/cli/socket-path.js';

const INSTANCE = 'instances:\n  - vrid: 51\n    interface: eth0\n    vips: [10.0.0.1/24]\n';

/** Deps over an in-memory file system; `reads` records which files were read. */
function deps(files: Readonly<Record<string, string>>, env: Record<string, string> = {}): SocketDeps & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    env,
    defaultConfigPath: '/etc/haagent/haagent.yaml',
    exists: (p) => p in files,
    read: (p) => {
      reads.push(p);
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${p}'`);
      return text;
    },
  };
}

const files = {
  '/etc/haagent/haagent.yaml': `socket: /run/default-file.sock\n${INSTANCE}`,
  '/tmp/c.yaml': `socket: /run/c-file.sock\n${INSTANCE}`,
  '/tmp/no-socket.yaml': INSTANCE,
  '/tmp/broken.yaml': 'socket: [\n',
};

t.test('precedence: --socket > HAAGENT_SOCKET > -c file > default file > built-in', (t) => {
  const env = { HAAGENT_SOCKET: '/run/env.sock' };
  t.same(clientSocket({ socket: '/run/flag.sock', config: '/tmp/c.yaml' }, deps(files, env)), { path: '/run/flag.sock', from: '--socket' });
  t.same(clientSocket({ config: '/tmp/c.yaml' }, deps(files, env)), { path: '/run/env.sock', from: 'HAAGENT_SOCKET' });
  t.same(clientSocket({ config: '/tmp/c.yaml' }, deps(files)), { path: '/run/c-file.sock', from: '/tmp/c.yaml' });
  t.same(clientSocket({}, deps(files)), { path: '/run/default-file.sock', from: '/etc/haagent/haagent.yaml' });
  t.same(clientSocket({}, deps({})), { path: DEFAULT_SOCKET_PATH, from: 'the built-in default' });
  t.same(clientSocket({ config: '/tmp/no-socket.yaml' }, deps(files)).path, DEFAULT_SOCKET_PATH, 'a file without socket: gives the built-in default');
  t.same(clientSocket({}, deps(files, { HAAGENT_SOCKET: '' })).path, '/run/default-file.sock', 'an empty HAAGENT_SOCKET counts as unset');
  t.end();
});

t.test('files are read only when needed, so --socket and HAAGENT_SOCKET beat a broken file', (t) => {
  const d = deps(files);
  t.equal(clientSocket({ socket: '/run/flag.sock', config: '/tmp/broken.yaml' }, d).path, '/run/flag.sock');
  const e = deps({ '/etc/haagent/haagent.yaml': 'socket: [\n' }, { HAAGENT_SOCKET: '/run/env.sock' });
  t.equal(clientSocket({}, e).path, '/run/env.sock');
  t.same([...d.reads, ...e.reads], [], 'no file read');
  t.end();
});

t.test('a file that cannot give the socket is a config error naming it', (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['/tmp/broken.yaml', files, /\/tmp\/broken\.yaml: 1 problem\(s\)/],
    ['/tmp/missing.yaml', files, /cannot read config file \/tmp\/missing\.yaml/],
    ['/tmp/rel.yaml', { '/tmp/rel.yaml': `socket: run/x.sock\n${INSTANCE}` }, /socket \(line 1\): must be an absolute path/],
    ['/tmp/list.yaml', { '/tmp/list.yaml': '- a\n- b\n' }, /\/tmp\/list\.yaml/],
  ];
  for (const [path, fs, msg] of cases) {
    let err: unknown;
    try {
      clientSocket({ config: path }, deps(fs));
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof HaagentError && err.code === 'HA_ERR_CONFIG', `${path}: HA_ERR_CONFIG`);
    t.match((err as Error | undefined)?.message, msg, path);
    t.match((err as Error | undefined)?.message, /--socket or set HAAGENT_SOCKET/, `${path}: says how to bypass`);
  }
  t.throws(() => clientSocket({}, deps({ '/etc/haagent/haagent.yaml': 'socket: [\n' })), /haagent\.yaml/, 'the default file too');
  t.end();
});

t.test('problems outside the socket key do not stop a client', (t) => {
  const d = deps({ '/tmp/half.yaml': 'socket: /run/half.sock\ninstances:\n  - vrid: 0\n' });
  t.equal(clientSocket({ config: '/tmp/half.yaml' }, d).path, '/run/half.sock');
  t.end();
});
