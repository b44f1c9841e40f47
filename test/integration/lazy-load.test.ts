/**
 * The optional parts of the agent are loaded at their first use (src/daemon/lazy-parts.ts): a
 * real agent in a namespace with one plain VRRP instance loads none of their modules (nor
 * prom-client, Node's https, or the netlink package's index); a reload that turns some on
 * loads them then; a metrics listener loads prom-client. What a process loads is recorded by
 * test/fixtures/module-trace (NODE_OPTIONS=--import), ES modules and CommonJS files alike.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/adapters/package-info.js';
import { VIP_CIDR } from '../../src/lab/topology.js';
import { skipReason } from '../helpers/root.js';
import { labSuite, logsOf } from '../helpers/lab.js';

/** Modules of the optional parts, as they appear in a loaded file's path or URL. */
const OPTIONAL: Readonly<Record<string, RegExp>> = {
  'prom-client': /\/node_modules\/prom-client\//,
  'metrics endpoint': /\/dist\/src\/daemon\/(metrics|metric-registry|metric-defs)\.js$/,
  'load balancer': /\/dist\/src\/daemon\/(balancer|tcp-proxy)\.js$/,
  'alert delivery': /\/dist\/src\/(daemon\/alerter|adapters\/alert-sinks)\.js$/,
  'etcd client': /\/dist\/src\/adapters\/etcd\//,
  'conntrack sync': /\/dist\/src\/daemon\/(conntrack-sync|floating-address)\.js$/,
  'peer link': /\/dist\/src\/(daemon\/peer-link|adapters\/peer-socket)\.js$/,
  'takeover guards': /\/dist\/src\/daemon\/guard-runner\.js$/,
  'witness monitor': /\/dist\/src\/adapters\/witness\.js$/,
  'http checker': /\/dist\/src\/adapters\/health\/http\.js$/,
  'node:https': /^node:https$/,
  'status formatting': /\/dist\/src\/cli\/status-(format|health)\.js$/,
  'netlink index': /\/node_modules\/netlink\/dist\/(index|nl80211\/.*|genl\/.*|wg\/.*)\.js$/,
};

const skip = skipReason({ needsDist: true });
if (skip !== undefined) {
  t.plan(0, `lazy-load tests skipped: ${skip}`);
} else {
  const { h1, withCluster } = labSuite(t, 'hlzy');
  const dir = mkdtempSync(join(tmpdir(), 'haagent-lazy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const register = join(packageRoot(), 'test', 'fixtures', 'module-trace', 'register.mjs');

  const loaded = (trace: string): string[] => {
    try {
      return readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '');
    } catch {
      return [];
    }
  };
  /** The optional parts whose modules appear in `modules`. */
  const partsIn = (modules: readonly string[]): string[] => Object.entries(OPTIONAL)
    .filter(([, re]) => modules.some((m) => re.test(m))).map(([part]) => part);

  const yaml = (socket: string, extraTop: string, extraInstance: string): string => `socket: ${socket}
${extraTop}instances:
  - name: web
    vrid: 71
    interface: int0
    external: ext0
    advert-interval: 100ms
    vips: [${VIP_CIDR}]
${extraInstance}`;

  t.test('a plain agent loads no optional part; a reload that turns parts on loads them then', (t) => withCluster(async (c) => {
    const trace = join(dir, 'plain.trace');
    const file = join(dir, 'plain.yaml');
    writeFileSync(file, yaml(c.socketPath(h1), '', ''));
    const a = c.startAgent(h1, ['--config', file], { NODE_OPTIONS: `--import ${register}`, HAAGENT_MODULE_TRACE: trace });
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) === 'MASTER', 15_000), 'h1 MASTER (alone)', { logs: logsOf(a) });
    const atStart = loaded(trace);
    // The trace works: it saw the agent itself and the rtnetlink codecs it uses.
    t.ok(atStart.some((m) => m.endsWith('/dist/src/daemon/agent.js')), 'the trace records the agent\'s own modules');
    t.ok(atStart.some((m) => m.endsWith('/node_modules/netlink/dist/rt/rt.js')), 'and CommonJS files loaded by require');
    t.same(partsIn(atStart), [], 'no optional part loaded by a plain agent');

    // Alerts, an http check, a virtual service (proxy mode: no nft needed) and a takeover guard.
    writeFileSync(file, yaml(c.socketPath(h1), 'alerts:\n  targets: [{ type: webhook, url: "http://127.0.0.1:9/alerts" }]\n',
      '    checks:\n      - { name: web, type: http, url: "http://127.0.0.1:9/", interval: 200ms, timeout: 100ms, weight: 10 }\n'
      + '    guards: [[/bin/true]]\n'
      + '    virtual-services:\n      - { port: 8080, mode: proxy, real-servers: [{ address: 127.0.0.1, port: 9 }] }\n'));
    a.child.kill('SIGHUP');
    const wanted = ['load balancer', 'alert delivery', 'takeover guards', 'http checker', 'node:https'];
    t.ok(await c.waitFor(() => wanted.every((p) => partsIn(loaded(trace)).includes(p)), 15_000),
      'the reload loaded the parts it turned on', { loaded: partsIn(loaded(trace)), logs: logsOf(a) });
    t.ok(await c.waitFor(async () => (await c.status(a)).instances[0]?.services?.length === 1, 10_000), 'the virtual service is served by the loaded balancer');
    t.notOk(partsIn(loaded(trace)).includes('prom-client'), 'still no prom-client (metrics need a restart)');
    t.notOk(a.logs.some((l) => /HA_ERR_LOAD|cannot load/.test(JSON.stringify(l))), 'no load error logged');
  }));

  t.test('an agent with a metrics listener loads prom-client', (t) => withCluster(async (c) => {
    const trace = join(dir, 'metrics.trace');
    const file = join(dir, 'metrics.yaml');
    writeFileSync(file, yaml(c.socketPath(h1), 'metrics: { listen: "127.0.0.1:9650" }\n', ''));
    const a = c.startAgent(h1, ['--config', file], { NODE_OPTIONS: `--import ${register}`, HAAGENT_MODULE_TRACE: trace });
    t.ok(await c.waitFor(async () => (await c.stateOf(a)) !== undefined, 15_000), 'agent running (its own loopback: the port is free)', { logs: logsOf(a) });
    // The metrics endpoint starts just after the control socket.
    t.ok(await c.waitFor(() => ['prom-client', 'metrics endpoint'].every((p) => partsIn(loaded(trace)).includes(p)), 10_000),
      'prom-client and the metrics endpoint loaded', { parts: partsIn(loaded(trace)), logs: logsOf(a) });
    t.same(partsIn(loaded(trace)).filter((p) => p !== 'prom-client' && p !== 'metrics endpoint'), [], 'and no other optional part');
  }));
}
