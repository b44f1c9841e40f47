/**
 * InstancePeers (src/daemon/instance-peers.ts) reporting the backups' priority learned from
 * hellos to the self-fence, on a fake clock with a fake runner: reported once per change (not
 * per hello), back to unknown when a peer falls silent (checked by the periodic evaluation, no
 * hello needed), and unknown again when the instance stops.
 */
import { pino } from 'pino';
import t from 'tap';
import { parseConfigYaml } from '../../../src/core/config/yaml.js';
import type { InstanceConfig } from '../../../src/core/config/types.js';
import type { Hello } from '../../../src/core/peer/hello.js';
import { EventBus } from '../../../src/daemon/event-bus.js';
import { InstancePeers, type PeerRunner } from '../../../src/daemon/instance-peers.js';

const log = pino({ level: 'silent' });

function instance(): InstanceConfig {
  const r = parseConfigYaml('peer-key: k\ninstances:\n  - { name: web, vrid: 51, interface: int0, vips: [192.0.2.10/24], advert-interval: 100ms, paths: [{ interface: ext0, peer: 10.0.1.2 }] }\n');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config.instances[0] as InstanceConfig;
}

const runner: PeerRunner = { vrrpState: 'MASTER', effectivePriority: 150, epoch: 1, input: () => undefined, observeEpoch: () => undefined };

let seq = 0;
function hello(node: string, over: Partial<Hello> = {}): Hello {
  seq += 1;
  return {
    v: 2, instance: 'web', vrid: 51, node, state: 'BACKUP', priority: 100, vrrpAddress: '10.0.0.2',
    advertIntervalCs: 10, epoch: 1, fingerprint: 'x', boot: '1111111111111111', bootMs: 1, seq, ...over,
  };
}

function setup(): { peers: InstancePeers; reports: Array<number | undefined>; at: (ms: number) => void } {
  let now = 1000;
  const reports: Array<number | undefined> = [];
  const peers = new InstancePeers(instance(), {
    log, events: new EventBus(), clock: () => now, runner, witness: undefined, onBackupPriority: (p) => reports.push(p),
  });
  return { peers, reports, at: (ms) => { now = ms; } };
}

t.test('a BACKUP peer\'s priority is reported once, then only its changes', async (t) => {
  const { peers, reports, at } = setup();
  t.equal(peers.onHello(hello('lb-b'), 'ext0', '10.0.0.1'), undefined, 'accepted');
  for (let i = 1; i <= 5; i++) {
    at(1000 + i * 100);
    peers.onHello(hello('lb-b'), 'ext0', '10.0.0.1');
    peers.evaluate();
  }
  t.same(reports, [100], 'six hellos and five checks, one report');
  at(1600);
  peers.onHello(hello('lb-b', { priority: 120 }), 'ext0', '10.0.0.1');
  at(1700);
  peers.onHello(hello('lb-b', { state: 'MASTER', priority: 120 }), 'ext0', '10.0.0.1');
  t.same(reports, [100, 120, undefined], 'tracking raised it to 120; as MASTER it is no backup: unknown');
});

t.test('a peer that falls silent is unknown after 3 intervals, found by the periodic check; heard again, known again', async (t) => {
  const { peers, reports, at } = setup();
  peers.onHello(hello('lb-b'), 'ext0', '10.0.0.1');
  at(1300);
  peers.evaluate();
  t.same(reports, [100], 'silent for exactly 3 intervals: still known');
  at(1301);
  peers.evaluate();
  t.same(reports, [100, undefined], 'a little more: unknown (back to any backup)');
  at(1400);
  peers.onHello(hello('lb-b', { priority: 90 }), 'ext0', '10.0.0.1');
  t.same(reports, [100, undefined, 90]);
});

t.test('stopping the instance reports unknown, so no stale value outlives it', async (t) => {
  const { peers, reports } = setup();
  peers.onHello(hello('lb-b'), 'ext0', '10.0.0.1');
  peers.stop(undefined);
  peers.stop(undefined);
  t.same(reports, [100, undefined], 'once');
});
