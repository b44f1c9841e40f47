/**
 * Fakes for the InstanceRunner tests (no sockets, no netlink, real timers): an instance config,
 * a runner whose ports record what they were asked to do, and a polling wait. A backup that
 * hears nobody becomes MASTER after its Master_Down_Interval (about 0.4 s at the 100 ms advert
 * interval used here).
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Test } from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import type { AgentEvent } from '../../../src/core/control/events.js';
import type { EpochPort } from '../../../src/adapters/epoch-store.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { InstanceRunner, type HookPort, type InstanceDeps } from '../../../src/daemon/instance-runner.js';

export const VIP = '192.0.2.10/24';

/** Instance `web`, VRID 1, priority 100, advert interval 100 ms, with these VIPs. */
export function instance(vips: readonly string[] = [VIP]): InstanceConfig {
  const r = parseConfigYaml(`instances:\n  - name: web\n    vrid: 1\n    interface: eth0\n    vips: [${vips.join(', ')}]\n    advert-interval: 100ms\n    priority: 100\n`);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const inst = r.config.instances[0];
  if (inst === undefined) throw new Error('no instance');
  return inst;
}

/** Polls `cond` every 5 ms; false if it is still false after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

export interface Harness {
  runner: InstanceRunner;
  calls: string[];
  events: AgentEvent[];
  logs: Array<{ level: number; msg: string }>;
}

/**
 * A runner with recording fakes: adverts, VIP adds and removes, announcements, quiet and hooks
 * are pushed onto `calls` (`over` replaces any port); every event and log line is kept. Shut
 * down and closed at teardown.
 */
export function harness(t: Test, epochs: EpochPort, over: Partial<InstanceDeps> = {}, config: InstanceConfig = instance()): Harness {
  const calls: string[] = [];
  const events: AgentEvent[] = [];
  const logs: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(JSON.parse(chunk.toString()) as { level: number; msg: string }); cb(); } });
  const bus = new EventBus();
  bus.subscribe((ev) => events.push(ev));
  const hooks: HookPort = {
    run: async (hook) => { calls.push(`hook ${hook}`); return { ok: true, exitCode: 0, timedOut: false }; },
    results: () => [],
    close: () => undefined,
  };
  const runner = new InstanceRunner(config, '192.0.2.1', {
    clock: () => performance.now(),
    log: pino({ level: 'debug' }, sink),
    sendAdvert: async (p) => { calls.push(`advert ${p}`); },
    vips: {
      addVip: async (_if, cidr) => { calls.push(`add ${cidr}`); },
      removeVip: async (_if, cidr) => { calls.push(`remove ${cidr}`); },
    },
    announce: async () => { calls.push('announce'); },
    quiet: () => { calls.push('quiet'); },
    hooks,
    events: bus,
    checks: () => [],
    epochs,
    ...over,
  });
  t.teardown(() => {
    runner.input({ type: 'shutdown' });
    runner.close();
  });
  return { runner, calls, events, logs };
}
